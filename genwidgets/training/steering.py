"""How callers steer a run's worker: the buttons and one ordered queue of commands.

A setting (``Run.set``) and a request for the model (``Run.call``) are commands on the same
queue, answered in the order they were given, so a setting made before a request applies
before it. While the worker trains (the steering is *open*) fit's loop answers them between
two batches on a synced model; once it is *closed* (before a start, after the worker's end)
they run at once on the caller's thread. One lock guards the queue and the open/closed state;
the worker answers what is left while it closes, under that lock, so nothing waits forever.
"""

from __future__ import annotations

import collections
import concurrent.futures
import threading
from collections.abc import Callable, Mapping
from typing import Any


class Setting:
    """New values of settings, applied one by one through ``apply(model, name, value)``."""

    def __init__(self, values: Mapping[str, Any]):
        self.values = dict(values)

    def run(self, model, apply: Callable[[Any, str, Any], None]) -> None:
        for name, value in self.values.items():
            apply(model, name, value)


class Request:
    """``fn(model)``, its result (or its error) handed to whoever waits on ``future``."""

    def __init__(self, fn: Callable[[Any], Any]):
        self.fn = fn
        self.future: concurrent.futures.Future = concurrent.futures.Future()

    def run(self, model, apply) -> None:
        try:
            self.future.set_result(self.fn(model))
        except BaseException as exc:
            self.future.set_exception(exc)


class Steering:
    """Pause, stop, step and the command queue of one run; no reference to the run itself.

    ``apply(model, name, value)`` gives a setting to the model (it may raise on a value the
    model refuses). The lock is re-entrant: a request answered at the worker's end may call
    ``Run.set``, which then applies at once.
    """

    def __init__(self, apply: Callable[[Any, str, Any], None]):
        self.lock = threading.RLock()
        self.closed = True
        self.steps_left: int | None = None  # step(n): batches to go before a pause
        self._apply = apply
        self._commands: collections.deque = collections.deque()
        self._pause, self._stop = threading.Event(), threading.Event()
        self._wake = threading.Condition()

    # -- callers (any thread) ------------------------------------------------
    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def open(self) -> None:
        """The worker is about to start: commands wait for fit's loop from now on."""
        with self.lock:
            self._stop.clear()
            self._pause.clear()
            self.closed = False

    def pause(self) -> None:
        self._pause.set()

    def resume(self) -> None:
        self.steps_left = None
        self.go_on()

    def go_on(self) -> None:
        self._pause.clear()
        self._notify()

    def stop(self) -> None:
        self._stop.set()
        self._notify()

    def step(self, n: int) -> None:
        self.steps_left = n

    def setting(self, values: Mapping[str, Any], model) -> None:
        """Apply ``values`` before the next batch, or now when no worker will."""
        with self.lock:
            queued = not self.closed
            if queued:
                self._commands.append(Setting(values))
        if queued:
            self._notify()
        else:
            Setting(values).run(model, self._apply)

    def request(self, fn: Callable[[Any], Any], model, timeout: float | None) -> Any:
        """``fn(model)`` between two batches (or now when no worker will): its result."""
        with self.lock:  # queued only while the worker will still answer it
            request = None if self.closed else Request(fn)
            if request is not None:
                self._commands.append(request)
        if request is None:
            return fn(model)
        self._notify()
        return request.future.result(timeout)

    # -- fit's loop (the worker thread) ------------------------------------
    def serve(self, model) -> None:
        """Answer the waiting commands in order, on a synced model."""
        if not self._commands:
            return
        if hasattr(model, "jax_state_sync"):  # JAX: bring the step's state into the model
            model.jax_state_sync()
        while self._commands:
            self._commands.popleft().run(model, self._apply)

    def pausing(self) -> bool:
        """Whether the loop pauses before this batch (a finished ``step(n)`` pauses it)."""
        if self.steps_left is not None and self.steps_left <= 0:
            self.steps_left = None
            self._pause.set()
        return self._pause.is_set()

    def count_step(self) -> None:
        if self.steps_left is not None:
            self.steps_left -= 1

    def wait_while_paused(self, model) -> None:
        """Block fit's loop until resumed or stopped, answering commands meanwhile."""
        with self._wake:
            while self._pause.is_set() and not self._stop.is_set():
                self._wake.wait(0.5)
                self.serve(model)
        self.serve(model)

    def close(self, model) -> None:
        """The worker ends: answer what is queued; from now on commands run at once."""
        self._pause.clear()
        with self.lock:
            self.closed = True
            first = None
            while self._commands:  # every request is answered, even after one that raised
                try:
                    self.serve(model)
                except BaseException as exc:  # a setting the model refuses
                    first = first or exc
            if first is not None:
                raise first

    def _notify(self) -> None:
        with self._wake:
            self._wake.notify_all()


def give_setting(model_name: str, emit: Callable[[Any], None], model, name: str,
                 value: Any) -> None:
    """Give one setting to ``model``: its ``set_hyper``, or the optimizer's learning rate;
    say so with a :class:`~genwidgets.training.events.SettingChanged`."""
    from genwidgets.training.errors import RunError
    from genwidgets.training.events import SettingChanged

    if hasattr(model, "set_hyper"):
        model.set_hyper(name, value)
    elif name == "learning_rate":
        model.optimizer.learning_rate.assign(value)
    else:
        raise RunError(f"{model_name}: the model offers no set_hyper for {name!r}")
    emit(SettingChanged(name, value))

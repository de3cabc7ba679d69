"""A training run: one model, its data and a worker thread calling ``model.fit(verbose=0)``.

Buttons (or code) call :meth:`Run.start`, :meth:`pause`, :meth:`resume`, :meth:`stop`,
:meth:`step`, :meth:`set` and :meth:`call`. A run is a few parts, each owning its own state,
none holding a reference back to the run:

- :mod:`~genwidgets.training.prepare`: the set-up (checks, data, model, a resume's
  checkpoint), before anything is written;
- :class:`~genwidgets.training.steering.Steering`: pause, stop, step and the one ordered
  queue of commands (settings and requests) that fit's loop answers between two batches;
- :class:`~genwidgets.training.record.Record`: the batch and epoch rows, state, rate and
  progress, with the run folder as its sink;
- :class:`~genwidgets.training.checkpointer.Checkpointer`: when a checkpoint is due, and
  the writing;
- :class:`~genwidgets.training.events.EventBus`: typed events to each subscriber's queue
  (at most ~10 progress events a second); the worker never touches a widget;
- :class:`~genwidgets.training.worker.Worker`: the thread of one start, fitting in the
  run's batch order, and the run's end;
- :mod:`~genwidgets.training.fit_callbacks`: the Keras callbacks that join them in fit.
"""

from __future__ import annotations

import functools
import os
import queue
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from genwidgets.spec import Dataset, ModelSpec
from genwidgets.training.checkpointer import Checkpointer
from genwidgets.training.checks import integer
from genwidgets.training.errors import ModelBuildError, RunError
from genwidgets.training.events import EventBus, Progress
from genwidgets.training.prepare import full_batches, prepare, replaced
from genwidgets.training.record import FLUSH_S, Record
from genwidgets.training.steering import Steering, give_setting
from genwidgets.training.worker import FITTING, Worker, epoch_order

__all__ = ["FLUSH_S", "ModelBuildError", "Run", "RunError", "epoch_order", "full_batches"]

def _check_tensorboard(tensorboard, out) -> None:
    from genwidgets.tensorboard import require_tensorboardx

    if not isinstance(tensorboard, (bool, str, os.PathLike)) or tensorboard == "":
        raise ValueError(f"Expected tensorboard=True, False or a folder for the logs. "
                         f"Received: tensorboard={tensorboard!r}")
    if tensorboard is True and out is None:
        raise ValueError("Expected out=... (the logs go to <out>/tensorboard) or "
                         "tensorboard=<a folder>. Received: tensorboard=True, out=None")
    require_tensorboardx()


class Run:
    def __init__(self, spec: ModelSpec | str, dataset: Dataset | str, config: Any = None, *,
                 epochs: int = 10, batch_size: int = 64, out: str | Path | None = None,
                 model: Any = None, callbacks=(), data_options: dict | None = None,
                 distribution: str = "auto", precision: str = "float32",
                 seed: int | None = None, resume: bool = False, overwrite: bool = False,
                 checkpoint_every_s: float = 30.0, checkpoint_mid_epoch_s: float = 600.0,
                 validation: float | None = None, tensorboard: bool | str | Path = False):
        """``out=`` a folder for the run's files and checkpoints: a new or empty one, unless
        ``resume=True`` picks up that folder's latest checkpoint (weights, optimizer, step,
        history; refused when it has none, or when its history or data do not match), or
        ``overwrite=True`` replaces the run there (removing only genwidgets' own files).
        A refused folder is left exactly as it was.

        Checkpoints are written at an epoch's end when ``checkpoint_every_s`` have passed
        since the last, within an epoch every ``checkpoint_mid_epoch_s``, and at stop and end.
        ``seed`` fixes the order of the items in every epoch (random when omitted).
        ``validation=0.1`` holds out that share of the data (a split drawn from the seed and
        kept in ``config.json``; a resume keeps it) and adds ``val_*`` loss parts to every
        epoch row.
        ``tensorboard=True`` also writes TensorBoard logs as it trains (scalars, samples at
        epoch ends, latent snapshots for the projector) to ``<out>/tensorboard``; a path
        writes them there instead.
        """
        if tensorboard is not False:  # told before anything is written
            _check_tensorboard(tensorboard, out)
        p = prepare(spec, dataset, config, epochs=epochs, batch_size=batch_size, out=out,
                    model=model, data_options=data_options, distribution=distribution,
                    precision=precision, seed=seed, resume=resume, overwrite=overwrite,
                    checkpoint_every_s=checkpoint_every_s,
                    checkpoint_mid_epoch_s=checkpoint_mid_epoch_s, validation=validation)
        self.spec, self.dataset, self.config, self.model = p.spec, p.dataset, p.config, p.model
        self.epochs, self.x, self.batch_size = p.epochs, p.x, p.batch_size
        self.steps_per_epoch, self.seed = p.steps_per_epoch, p.seed
        self.validation = p.validation  # the held-out split ({"share", "seed", ...}) or None
        self.x_val = p.x_val
        self.placement = p.placement  # the devices and the dtypes
        self.devices: list[str] = p.placement.devices
        self.folder = p.folder
        self.extra_callbacks = list(callbacks)
        self.notes: list[str] = []  # what a resume had to say (a damaged checkpoint skipped)
        self._bus = EventBus()
        self._record = record = Record(p.steps_per_epoch, p.epochs, self._bus.emit, p.folder)
        self._steering = Steering(functools.partial(give_setting, p.spec.name, self._bus.emit))
        from genwidgets.training.checkpoint import identity_of

        self._checkpointer = Checkpointer(
            p.folder, record, identity_of(p.spec, p.seed, p.batch_size, p.steps_per_epoch),
            self._bus.emit, p.checkpoint_every_s, p.checkpoint_mid_epoch_s)
        self._worker = Worker(p.model, p.x, p.batch_size, p.steps_per_epoch, p.seed,
                              p.placement, p.folder, p.prior_x, self.extra_callbacks,
                              self._steering, record, self._checkpointer, p.x_val)
        self._resume_goal: int | None = None  # a resume's own goal, for the first start
        self._deferred_write: Callable[[int, Any], None] | None = None
        if p.checkpoint is not None:
            record.restore(*p.rows, epochs_done=p.checkpoint.state["epoch"])
            self._resume_goal = self.epochs  # start() goes on up to the run's total of epochs
            self.notes = list(p.checkpoint.notes)
        # a resumed run that already has its epochs: nothing is written unless it trains on
        self.already_finished = p.already_finished
        if self.already_finished:  # in memory only: the folder stays byte-identical
            self._deferred_write = p.write_folder
        elif p.folder is not None:
            p.write_folder(self.epochs, self.config)
        record.goal_epochs = max(self.epochs, self._resume_goal or 0, record.epochs_done)
        self._set_message(p)
        if p.changes:  # a resume given a new learning rate (or another mutable setting)
            self._steering.setting(p.changes, self.model)  # applied now: no worker yet
        if tensorboard is not False:
            from genwidgets.tensorboard import attach_tensorboard

            attach_tensorboard(self, None if tensorboard is True else tensorboard)

    def _set_message(self, p) -> None:
        record, done = self._record, self._record.epochs_done
        record.message = f"resumed at step {self.steps}" if p.checkpoint is not None else "ready"
        if self.already_finished:
            record.state = "finished"
            record.message = (
                f"already finished: {self.steps} steps ({done} epochs) of the "
                f"{self.epochs} epochs asked; nothing was changed. To train on, ask for more "
                f"epochs in all (epochs={done + 1} or more)")
        if self.notes:
            record.message += f" ({'; '.join(self.notes)})"
        if p.changes and not self.already_finished:
            record.message += f" ({', '.join(f'{k}={v!r}' for k, v in p.changes.items())})"

    @classmethod
    def from_folder(cls, folder: str | Path, *, spec: ModelSpec | None = None,
                    dataset: Dataset | None = None, **kwargs: Any) -> Run:
        """A run picking up ``folder``'s latest checkpoint (after a stop, a crash or a
        kernel restart): the model, its settings and data are those of ``config.json``."""
        from genwidgets.config import data_options
        from genwidgets.registry import get_registry
        from genwidgets.training.run_config import RunConfig

        if not RunConfig.exists(folder):
            raise FileNotFoundError(
                f"Expected a run folder with a readable config.json. Received: {str(folder)!r} "
                f"(FileNotFoundError: {RunConfig.path_in(folder)} does not exist)")
        recorded = RunConfig.read(folder)  # says which key is missing or of the wrong type
        registry = get_registry()
        options = dict(recorded.data_options or {})
        if dataset is None:
            data_spec = registry.dataset(recorded.data)
            options = data_options(data_spec, options)  # typed: limit=200, not "200"
            dataset = data_spec.load(**options)
        kwargs = {**recorded.settings(), "data_options": options, **kwargs}
        config = kwargs.pop("config", None)  # None: the run's own settings
        return cls(spec or registry.model(recorded.model), dataset, config, out=folder,
                   resume=True, **kwargs)

    # -- controls (any thread) ---------------------------------------------
    def start(self, epochs: int | None = None) -> Run:
        """Train in the background for ``epochs`` more epochs (default: the run's)."""
        with self._steering.lock:
            if self._worker.alive:
                raise RunError(
                    f"This run is already training ({self.message}). Pause, resume or stop "
                    f"it; a second start would train the same model twice at once.")
            if id(self.model) in FITTING:
                raise RunError("Another run is training this model right now; stop it first.")
            if epochs is not None:
                epochs = integer("epochs", epochs, 1)
            record = self._record
            if self._deferred_write is not None:  # a resumed run that had its epochs
                if epochs is None:
                    raise RunError(f"This run is {self.message}. start(epochs=N) trains N "
                                   f"more.")
                self._deferred_write(record.epochs_done + epochs, self.config)
                self._deferred_write = None
            if self.folder is not None:  # held until the worker ends
                self.folder.lock.acquire("train")
                try:
                    self.folder.check_unchanged()
                except BaseException:
                    self.folder.lock.release()
                    raise
            record.failed(None, "")  # nothing has failed in this start yet
            self._checkpointer.started()
            done = self.steps // self.steps_per_epoch  # whole epochs; a partial one goes on
            if epochs is None and self._resume_goal is not None and self._resume_goal > done:
                record.goal_epochs = self._resume_goal  # a resumed run trains up to its goal
            else:
                record.goal_epochs = done + (epochs or self.epochs)
            self._resume_goal = None
            self._steering.open()  # from here settings and requests wait for fit's loop
            record.set_state("compiling", "compiling...")
            try:
                self._worker.start(record.goal_epochs)
            except BaseException:
                self._steering.closed = True
                if self.folder is not None:
                    self.folder.lock.release()
                raise
        return self

    def pause(self) -> None:
        self._steering.pause()

    def resume(self) -> None:
        self._steering.resume()

    def stop(self) -> None:
        self._steering.stop()

    def step(self, n: int = 1) -> None:
        """Train exactly ``n`` batches, then pause (starts the run if it is idle)."""
        self._steering.step(integer("n", n, 1))
        if self.alive:
            self._steering.go_on()
        else:
            self.start()

    def set(self, **values: Any) -> None:
        """Change settings mid-run (``learning_rate`` and the spec's ``mutable`` fields).

        The values are checked at once with the plugin's Config (its types and its
        ``validate()``), so a value the model would refuse raises here instead of killing
        the run; ``learning_rate=0`` (freeze the weights) is allowed where the model takes
        its learning rate straight into the optimizer (no ``set_hyper``). The worker applies
        them before its next batch (before any later :meth:`call`), or at its end."""
        from genwidgets.training.resume import checked_changes

        parsed = checked_changes(self.spec, self.config, values,
                                 zero_rate=not hasattr(self.model, "set_hyper"))
        self.config = replaced(self.config, parsed)
        self._steering.setting(parsed, self.model)

    def call(self, fn: Callable[[Any], Any], timeout: float = 60.0) -> Any:
        """Run ``fn(model)`` on a synced model between two batches, and return its result."""
        if threading.current_thread() is self._worker.thread:
            return fn(self.model)
        return self._steering.request(fn, self.model, timeout)

    def preview(self, n: int = 16, seed: int = 0):
        """Samples of the model as it is now: images (n, H, W, C), or a list of strings."""
        if "sample" not in self.spec.capabilities:
            return None
        out = self.call(lambda model: model.sample(n, seed=seed))
        if self.dataset.info.modality == "text" and self.dataset.tokenizer is not None:
            return self.dataset.tokenizer.decode(out)
        return out

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the worker to end; True if it did."""
        if self._worker.thread is not None:
            self._worker.thread.join(timeout)
        return not self.alive

    def subscribe(self) -> queue.Queue:
        """A queue of this run's events (:mod:`~genwidgets.training.events`), the first
        of them a snapshot."""
        q = self._bus.subscribe()
        q.put(self.snapshot())
        return q

    def unsubscribe(self, q: queue.Queue) -> None:
        self._bus.unsubscribe(q)

    # -- what a view shows ----------------------------------------------------
    @property
    def alive(self) -> bool:
        return self._worker.alive

    @property
    def state(self) -> str:
        return self._record.state

    @property
    def message(self) -> str:
        return self._record.message

    @property
    def error(self) -> BaseException | None:
        return self._record.error

    @property
    def traceback(self) -> str:
        return self._record.traceback

    @property
    def history(self) -> list[dict]:
        """Every batch: step, epoch, t and each loss part."""
        return self._record.history

    @property
    def epoch_history(self) -> list[dict]:
        return self._record.epoch_history

    @property
    def epochs_done(self) -> int:
        return self._record.epochs_done

    _epochs_done = epochs_done  # the name it had

    @property
    def steps(self) -> int:
        return self._record.steps

    @property
    def total_steps(self) -> int:
        """Steps up to the goal of the latest start (a stopped run shows how far it got)."""
        return self._record.total_steps

    def rate(self, window_s: float = 3.0) -> float:
        return self._record.rate(window_s)

    def snapshot(self) -> Progress:
        """Where the run stands; reads as a dict (``snap["state"]``, ``snap["step"]``...)."""
        return self._record.snapshot()

    @property
    def last_checkpoint(self) -> dict | None:
        """Step, path, reason and seconds of the newest checkpoint this run wrote."""
        return self._checkpointer.last

    @property
    def checkpoint_every_s(self) -> float:
        return self._checkpointer.every_s

    @checkpoint_every_s.setter
    def checkpoint_every_s(self, value: float) -> None:
        self._checkpointer.every_s = float(value)

    @property
    def checkpoint_mid_epoch_s(self) -> float:
        return self._checkpointer.mid_epoch_s

    @checkpoint_mid_epoch_s.setter
    def checkpoint_mid_epoch_s(self, value: float) -> None:
        self._checkpointer.mid_epoch_s = float(value)

    def checkpoint(self, reason: str = "manual"):
        """Write a checkpoint of the model as it is now (worker thread, or an idle run)."""
        if self.folder is None:
            raise RunError("This run has no folder to write checkpoints to. Pass out=...")
        return self._checkpointer.write(self.model, reason)

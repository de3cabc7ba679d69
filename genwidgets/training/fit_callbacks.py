"""The Keras callbacks through which a run steers ``model.fit`` from outside.

``Controller.on_train_batch_begin`` runs in fit's own loop: it answers the steering's
commands (settings, requests for the synced model), writes a due checkpoint, pauses
(blocking the loop) and stops. It meets the run only through three objects: its
:class:`~genwidgets.training.steering.Steering`, its
:class:`~genwidgets.training.record.Record` and its
:class:`~genwidgets.training.checkpointer.Checkpointer`.

Batch logs are *not* turned into Python floats one step at a time: that would wait for
every step to finish and lose JAX's asynchronous dispatch. :class:`RunCallbacks` hands the
step's log arrays to the Controller as they are; the Controller converts the waiting ones
together about ten times a second (one device-to-host copy for all of them), and before a
pause, a stop and the end of every epoch. A non-finite loss therefore stops the run within
about a tenth of a second, naming the first step where it appeared.

Keras logs are running means over the epoch (its metric trackers are ``Mean``s, and every
batch of a run has the same size). The rows a run records hold each batch's own value,
recovered as ``k * mean_k - (k - 1) * mean_(k-1)``; the epoch rows keep Keras' means.
"""

from __future__ import annotations

import math
import time

import jax
import keras
from keras.src.utils.python_utils import pythonify_logs

from genwidgets.training.checkpointer import Checkpointer
from genwidgets.training.record import Record
from genwidgets.training.steering import Steering

CONVERT_S = 0.1  # convert waiting batch logs at most this often


class StopRun(Exception):
    """Raised inside fit to stop before the next step (fit syncs the state as it unwinds)."""


class RunCallbacks(keras.callbacks.CallbackList):
    """Fit's callback list for a run: batch-end logs reach the Controller unconverted.

    Other callbacks (a user's) still get Python floats at every batch end, as in Keras.
    """

    def __init__(self, controller: Controller, others=(), **params):
        super().__init__([controller, *others], add_history=True, add_progbar=False,
                         verbose=0, **params)
        self.controller = controller
        self.others = [c for c in self.callbacks if c is not controller]
        self._async_train = False  # batch ends are handled here, never on Keras' threads

    def on_train_batch_end(self, batch, logs=None):
        self.controller.collect(batch, logs)
        if self.others:
            logs = pythonify_logs(logs)
            for callback in self.others:
                callback.on_train_batch_end(batch, logs=logs)


class Controller(keras.callbacks.Callback):
    """Fit's loop for one start of a run: steering before each batch, rows after it.

    ``dispatched`` counts the batches handed to fit (a step that failed is not counted);
    ``nan`` says where a non-finite loss stopped the run, if one did.
    """

    def __init__(self, steering: Steering, record: Record, checkpointer: Checkpointer | None):
        super().__init__()
        self.steering, self.record, self.checkpointer = steering, record, checkpointer
        self.dispatched = record.steps
        self.nan: str | None = None
        self.offset = 0  # batches of the first epoch trained before this fit (a resume)
        self._waiting: list[tuple[int, int, int, float, dict]] = []  # step, epoch, batch, t, logs
        self._last_convert = 0.0
        self._means: dict[str, float] = {}  # the running means at the last recorded batch
        self._epoch = 0
        self._first_epoch: int | None = None

    def checkpoint_due(self, mid_epoch: bool) -> bool:
        return (self.checkpointer is not None and self.nan is None
                and self.checkpointer.due(mid_epoch))

    # -- fit's loop --------------------------------------------------------
    def on_train_begin(self, logs=None):
        self._first_epoch = None

    def on_epoch_begin(self, epoch, logs=None):
        if self._first_epoch is None:
            self._first_epoch = epoch
        self._epoch = epoch
        self._steps = {}  # batch index in this epoch -> the run's step number
        self._means = {}

    def on_train_batch_begin(self, batch, logs=None):
        # ``self._model``, not ``self.model``: on JAX the property syncs every variable
        # from the step's state each time it is read (a 2x slowdown for small models).
        # ``Steering.serve`` syncs only when a command is waiting.
        steering, model = self.steering, self._model
        steering.serve(model)
        if self.checkpoint_due(mid_epoch=True):
            self.drain()
            if hasattr(model, "jax_state_sync"):
                model.jax_state_sync()
            self.checkpointer.write(model, "mid-epoch")
        while True:
            if steering.stopping:
                self.drain()
                raise StopRun()
            if not steering.pausing():  # a step(n) that is done pauses before this batch
                break
            self.drain()
            if steering.stopping:  # a NaN found while draining
                continue
            self._wait_while_paused(model)
        steering.count_step()
        self.dispatched += 1
        self._steps[batch] = self.dispatched

    def _wait_while_paused(self, model) -> None:
        self.record.flush(force=True)
        self.record.set_state("paused", f"paused at step {self.dispatched}")
        self.steering.wait_while_paused(model)
        if not self.steering.stopping:
            self.record.set_state("running", "running")

    def collect(self, batch, logs) -> None:
        self._waiting.append((self._steps[batch], self._epoch + 1, batch, time.time(),
                              logs or {}))
        now = time.monotonic()
        if now - self._last_convert >= CONVERT_S:
            self._last_convert = now
            self.drain()

    def drain(self) -> None:
        """Convert the waiting batch logs (one copy for all) and record them in order."""
        if not self._waiting:
            return
        waiting, self._waiting = self._waiting, []
        values = jax.device_get([logs for *_, logs in waiting])
        rows, bad = [], None
        for (step, epoch, batch, t, _), logs in zip(waiting, values):
            row = {"step": step, "epoch": epoch, "t": t}
            k = batch + 1  # batches of this epoch so far, this one included
            for key, mean in logs.items():
                mean = float(mean)
                value = mean if k == 1 else k * mean - (k - 1) * self._means.get(key, mean)
                self._means[key] = mean
                row[key] = value
            if bad is None:
                # name the part that went bad: "loss" is the sum, so it goes bad with any
                parts = [key for key in row if key not in ("step", "epoch", "t")
                         and not math.isfinite(row[key])]
                if parts:
                    key = next((p for p in parts if p != "loss"), parts[0])
                    bad = (key, row[key], step)
            rows.append(row)
        self.record.add_batches(rows)
        if bad is not None:
            key, value, step = bad
            if self.nan is None:
                self.nan = f"stopped: {value} in {key} at step {step}"
            self.steering.stop()

    def on_epoch_end(self, epoch, logs=None):
        self.drain()
        values = {k: float(v) for k, v in (logs or {}).items()}
        if self.offset and epoch == self._first_epoch:
            # a resumed epoch: Keras saw only its last batches; average all of its rows
            rows = [r for r in self.record.history if r["epoch"] == epoch + 1]
            values = {k: v if k.startswith("val_") else sum(r.get(k, v) for r in rows) / len(rows)
                      for k, v in values.items()}
        row = {"epoch": epoch + 1, "step": self.dispatched, **values}
        self.record.add_epoch(row)
        if self.checkpoint_due(mid_epoch=False):
            self.checkpointer.write(self._model, "epoch")

    def on_train_end(self, logs=None):
        self.drain()

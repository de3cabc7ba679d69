"""The Keras callback through which a :class:`Run` steers ``model.fit`` from outside.

``on_train_batch_begin`` runs in fit's own loop: it applies queued settings, serves
requests for the synced model, pauses (blocking the loop) and stops. ``on_train_batch_end``
records the logs, which Keras has turned into Python floats (one small device-to-host copy
a step: measured as no slower than Keras' own async dispatch on CPU, see
benchmarks/train_overhead.py).
"""

from __future__ import annotations

import math
import time

import keras


class StopRun(Exception):
    """Raised inside fit to stop before the next step (fit syncs the state as it unwinds)."""


class Controller(keras.callbacks.Callback):

    def __init__(self, run):
        super().__init__()
        self.run = run

    # -- fit's loop --------------------------------------------------------
    def on_epoch_begin(self, epoch, logs=None):
        self.run._epoch = epoch
        self._steps = {}  # batch index in this epoch -> the run's step number

    def on_train_batch_begin(self, batch, logs=None):
        run = self.run
        run._serve(self.model)
        while True:
            if run._stop.is_set():
                raise StopRun()
            if run._steps_left is not None and run._steps_left <= 0:
                run._steps_left = None  # step(n) is done: pause before this batch
                run._pause.set()
            if not run._pause.is_set():
                break
            run._wait_while_paused(self.model)
        if run._steps_left is not None:
            run._steps_left -= 1
        run._dispatched += 1
        self._steps[batch] = run._dispatched

    def on_epoch_end(self, epoch, logs=None):
        row = {"epoch": epoch + 1, "step": self.run._dispatched,
               **{k: float(v) for k, v in (logs or {}).items()}}
        self.run._record_epoch(row)

    def on_train_batch_end(self, batch, logs=None):
        run = self.run
        row = {"step": self._steps[batch], "epoch": run._epoch + 1, "t": time.time()}
        bad = None
        for key, value in (logs or {}).items():
            value = float(value)
            row[key] = value
            if bad is None and not math.isfinite(value):
                bad = (key, value)
        run._record_batch(row)
        if bad is not None:
            run._nan_stop(*bad, step=row["step"])

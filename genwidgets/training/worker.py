"""One start of a run: a thread fitting the model from the current step to a goal epoch,
in the run's batch order, then the run's end (the prior, the last checkpoint, the folder's
lock, the commands still queued, the final state). The worker never touches a widget."""

from __future__ import annotations

import dataclasses
import threading
import traceback
from typing import Any

from genwidgets.training.checkpointer import Checkpointer
from genwidgets.training.labels import fit_inputs
from genwidgets.training.record import Record
from genwidgets.training.steering import Steering

FITTING: set[int] = set()  # ids of models a run is fitting right now


def epoch_order(seed: int, epoch: int, n: int):
    """The order of the ``n`` items in ``epoch``: a permutation fixed by the run's seed."""
    import numpy as np

    return np.random.default_rng([int(seed), int(epoch)]).permutation(n)


@dataclasses.dataclass
class Worker:
    """Fits ``model`` on ``x`` for a run; its parts are the run's, never the run itself."""

    model: Any
    x: Any
    batch_size: int
    steps_per_epoch: int
    seed: int
    placement: Any
    folder: Any  # the RunFolder, or None
    prior_x: Any  # what ``fit_prior`` is fitted on at the end, where the model has one
    callbacks: list  # a user's Keras callbacks, besides the run's own
    steering: Steering
    record: Record
    checkpointer: Checkpointer
    x_val: Any = None  # the held-out items (whole batches): ``val_*`` at each epoch end
    thread: threading.Thread | None = dataclasses.field(default=None, init=False)

    @property
    def alive(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def start(self, goal: int) -> None:
        """Start a thread training up to the end of epoch ``goal``."""
        self.thread = threading.Thread(target=self.work, args=(goal,), name="genwidgets-run",
                                       daemon=True)  # known before it runs: call() asks
        FITTING.add(id(self.model))
        try:
            self.thread.start()
        except BaseException:
            FITTING.discard(id(self.model))
            raise

    def work(self, goal: int) -> None:
        from genwidgets.training.fit_callbacks import Controller, StopRun

        record, model, folder = self.record, self.model, self.folder
        outcome = "finished"
        controller = Controller(self.steering, record, self.checkpointer)
        try:
            with self.placement.scope():
                self.fit(controller, goal)
        except StopRun:
            outcome = "stopped"
        except BaseException as exc:  # shown in the panel and kept; never dies silently
            record.failed(exc, traceback.format_exc())
            outcome = "failed"
        try:
            controller.drain()  # the steps that ran before a failure are kept too
        except BaseException:
            pass
        record.flush(force=True)
        if outcome == "finished" and controller.nan:
            outcome = "stopped"
        try:
            if outcome != "failed" and not controller.nan:
                if hasattr(model, "fit_prior"):
                    model.fit_prior(self.prior_x)
                if folder is not None:
                    path = self.checkpointer.write(model, outcome)
                    folder.copy_model(path / "model.keras")
        except BaseException as exc:
            record.failed(exc, traceback.format_exc())
            outcome = "failed"
        if folder is not None:
            try:
                folder.mark_written()
            finally:
                folder.lock.release()
        FITTING.discard(id(model))
        if outcome == "failed":
            msg = f"failed: {type(record.error).__name__}: {record.error}"
        elif controller.nan:
            msg = controller.nan
        elif outcome == "stopped":
            msg = f"stopped at step {record.steps}"
        else:
            msg = f"finished: {record.epochs_done} epochs, {record.steps} steps"
        try:  # from here call() runs on the caller's thread; answer the rest first
            self.steering.close(model)
        except BaseException as exc:  # a setting the model refuses: shown, not a hang
            record.failed(exc, traceback.format_exc())
        record.set_state(outcome, msg)

    def fit(self, controller, goal: int) -> None:
        """Fit from the current step to the end of epoch ``goal``, in the run's batch order.

        A run stopped within an epoch goes on with that epoch's remaining batches (one
        short fit) before the whole epochs, so no batch is trained twice or skipped.
        """
        from genwidgets.training.fit_callbacks import RunCallbacks, StopRun

        spe = self.steps_per_epoch
        epoch, offset = divmod(self.record.steps, spe)
        while epoch < goal and not self.steering.stopping:
            last = epoch + 1 if offset else goal
            controller.offset = offset
            callbacks = RunCallbacks(controller, self.callbacks, model=self.model,
                                     epochs=last, steps=spe - offset)
            held_out = {}
            if self.x_val is not None:
                held_out = {"validation_data": self.held_out_batches(),
                            "validation_steps": len(self.x_val) // self.batch_size}
            self.model.fit(self.batches(epoch, offset), steps_per_epoch=spe - offset,
                           initial_epoch=epoch, epochs=last, shuffle=False, verbose=0,
                           callbacks=callbacks, **held_out)
            if getattr(self.model, "stop_training", False):
                return
            epoch, offset = last, 0
        if epoch < goal:  # stopped between two fits (say, a NaN at an epoch's last batch)
            raise StopRun()

    def batches(self, epoch: int, offset: int):
        """Endless ``(x_batch,)`` from batch ``offset`` of ``epoch`` on (this process's
        share); ``((x_batch, labels),)`` for labelled items (a conditional model)."""
        x, size = self.x, self.batch_size
        count, index = self.placement.process_count, self.placement.process_index
        share = size // count
        while True:
            order = epoch_order(self.seed, epoch, len(x))
            for b in range(offset, self.steps_per_epoch):
                idx = order[b * size:(b + 1) * size]
                if count > 1:
                    idx = idx[index * share:(index + 1) * share]
                yield (fit_inputs(x[idx]),)
            epoch, offset = epoch + 1, 0

    def held_out_batches(self):
        """Endless ``(x_batch,)`` of the held-out items, always in the same order."""
        x, size = self.x_val, self.batch_size
        count, index = self.placement.process_count, self.placement.process_index
        share = size // count
        while True:
            for b in range(len(x) // size):
                batch = x[b * size:(b + 1) * size]
                yield (fit_inputs(batch[index * share:(index + 1) * share] if count > 1
                                  else batch),)

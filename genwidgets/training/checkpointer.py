"""When a run writes a checkpoint, and the writing itself (under its folder's lock).

At an epoch's end once ``every_s`` have passed since the last checkpoint, within an epoch
every ``mid_epoch_s`` (counted from the last checkpoint or the start), and whenever asked
(a stop, the end, ``Run.checkpoint``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from genwidgets.training.events import CheckpointWritten, Event
from genwidgets.training.record import Record


class Checkpointer:
    """The checkpoints of one run folder; no reference to the run itself.

    ``identity`` is what every checkpoint's state records besides the position (seed,
    batch size, model, plugin; see :func:`~genwidgets.training.checkpoint.state_of`).
    """

    def __init__(self, folder, record: Record, identity: dict[str, Any],
                 emit: Callable[[Event], None], every_s: float, mid_epoch_s: float):
        self.folder, self.record, self.identity, self.emit = folder, record, identity, emit
        self.every_s, self.mid_epoch_s = float(every_s), float(mid_epoch_s)
        self.last: dict | None = None  # step, path, reason, seconds of the newest one
        self._last_t = self._started_t = float("-inf")

    def started(self) -> None:
        self._started_t = time.monotonic()

    def due(self, mid_epoch: bool) -> bool:
        if self.folder is None:
            return False
        if mid_epoch:  # within an epoch: counted from the last checkpoint or the start
            since = max(self._last_t, self._started_t)
            return time.monotonic() - since >= self.mid_epoch_s
        return time.monotonic() - self._last_t >= self.every_s

    def write(self, model, reason: str) -> Path:
        """Write ``model`` as it is now (the worker's thread, or an idle run's caller)."""
        from genwidgets.training.checkpoint import state_of, write_checkpoint

        t0 = time.monotonic()
        lock = self.folder.lock
        first = not lock.held  # an idle run's own checkpoint (the worker holds the lock)
        lock.acquire("write a checkpoint")
        try:
            if first:
                self.folder.check_unchanged()
            self.record.flush(force=True)  # every batch row up to this step is on disk first
            path = write_checkpoint(self.folder.path, model,
                                    state_of(self.record, self.identity, reason))
            if first:
                self.folder.mark_written()
        finally:
            lock.release()
        self._last_t = time.monotonic()
        self.last = {"step": self.record.steps, "path": str(path), "reason": reason,
                     "seconds": self._last_t - t0}
        self.emit(CheckpointWritten(**self.last))
        return path

"""What a run has done and what a view shows of it: the batch and epoch rows, the state,
the rate and the progress. Rows go to the record's sink (the run folder, when it has one)
and progress to the run's subscribers, at most ~10 times a second."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

from genwidgets.training.events import EpochEnd, Event, Progress

FLUSH_S = 0.1  # at most ~10 progress events a second


class Sink(Protocol):
    """Where rows are kept besides memory (:class:`~genwidgets.training.folder.RunFolder`)."""

    def append_batches(self, rows: list[dict]) -> None: ...

    def append_epoch(self, row: dict) -> None: ...


class Record:
    """A run's rows, state and progress; no reference to the run itself.

    ``emit`` receives every event (a :class:`Progress` on a flush or a new state, an
    :class:`EpochEnd` per epoch); ``sink`` receives the rows.
    """

    def __init__(self, steps_per_epoch: int, goal_epochs: int,
                 emit: Callable[[Event], None], sink: Sink | None = None):
        self.steps_per_epoch = steps_per_epoch
        self.goal_epochs = goal_epochs  # the goal of the latest start
        self.emit, self.sink = emit, sink
        self.history: list[dict] = []  # every batch: step, epoch, t and each loss part
        self.epoch_history: list[dict] = []
        self.epochs_done = 0
        self.state, self.message, self.traceback = "idle", "ready", ""
        self.error: BaseException | None = None
        self._pending: list[dict] = []  # rows not yet in the sink
        self._last_flush = 0.0
        self._flush_lock = threading.Lock()

    def restore(self, batches: list[dict], epochs: list[dict], epochs_done: int) -> None:
        """Start from a checkpoint's rows (already in the sink)."""
        self.history, self.epoch_history = list(batches), list(epochs)
        self.epochs_done = int(epochs_done)

    # -- what a view shows ------------------------------------------------------
    @property
    def steps(self) -> int:
        return len(self.history)

    @property
    def total_steps(self) -> int:
        """Steps up to the goal of the latest start (a stopped run shows how far it got)."""
        return max(self.goal_epochs * self.steps_per_epoch, self.steps)

    def rate(self, window_s: float = 3.0) -> float:
        rows = self.history[-200:]
        recent = [r for r in rows if r["t"] >= rows[-1]["t"] - window_s] if rows else []
        if len(recent) < 2 or recent[-1]["t"] <= recent[0]["t"]:
            return 0.0
        return (len(recent) - 1) / (recent[-1]["t"] - recent[0]["t"])

    def snapshot(self) -> Progress:
        rate = self.rate()
        left = max(self.total_steps - self.steps, 0)
        last = self.history[-1] if self.history else {}
        return Progress(
            state=self.state, message=self.message, step=self.steps,
            epoch=last.get("epoch", self.epochs_done),
            epochs=max(self.goal_epochs, self.epochs_done), total_steps=self.total_steps,
            rate=rate, eta_s=left / rate if rate > 0 and self.state == "running" else None,
            logs={k: v for k, v in last.items() if k not in ("step", "epoch", "t")},
            error=self.traceback or None)

    # -- the worker -------------------------------------------------------------
    def add_batches(self, rows: list[dict]) -> None:
        self.history.extend(rows)
        self._pending.extend(rows)
        if self.state == "compiling":
            self.set_state("running", "running")
        self.flush()

    def add_epoch(self, row: dict) -> None:
        self.epochs_done = row["epoch"]
        self.epoch_history.append(row)
        if self.sink is not None:
            self.sink.append_epoch(row)
        self.emit(EpochEnd.of(row))

    def flush(self, force: bool = False) -> None:
        """Rows to the sink and a :class:`Progress` to the subscribers (at most every
        ``FLUSH_S`` unless ``force``)."""
        now = time.monotonic()
        if not force and now - self._last_flush < FLUSH_S:
            return
        with self._flush_lock:
            self._last_flush = now
            rows, self._pending = self._pending, []
            if self.sink is not None:
                self.sink.append_batches(rows)
        if self.state == "running" and self.history:
            self.message = f"{self.rate():.1f} steps/s"
        self.emit(self.snapshot())

    def failed(self, error: BaseException | None, traceback: str) -> None:
        """Keep what went wrong (shown with the ``failed`` state at the worker's end)."""
        self.error, self.traceback = error, traceback

    def set_state(self, state: str, message: str) -> None:
        self.state, self.message = state, message
        self.emit(self.snapshot())

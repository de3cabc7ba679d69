"""What a run tells its subscribers, and the bus that carries it.

Each event is a frozen dataclass. It also reads like the dict it replaced (``event["type"]``,
``event["state"]``, ``event.get(...)``, ``dict(event)``), so a view written against those
keys keeps working: a :class:`Progress` reads as the run's snapshot, an :class:`EpochEnd`
as ``{"type": "epoch", **row}``.
"""

from __future__ import annotations

import dataclasses
import queue
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar


class Event(Mapping):
    """A run's event; ``event[key]`` reads the keys of :meth:`as_dict`."""

    type: ClassVar[str] = ""

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.type,
                **{f.name: getattr(self, f.name) for f in dataclasses.fields(self)}}

    def __getitem__(self, key: str) -> Any:
        return self.as_dict()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.as_dict())

    def __len__(self) -> int:
        return len(self.as_dict())


@dataclasses.dataclass(frozen=True)
class Progress(Event):
    """Where the run stands (its state, step and rate), at most ~10 a second."""

    type: ClassVar[str] = "progress"
    state: str
    message: str
    step: int
    epoch: int
    epochs: int
    total_steps: int
    rate: float
    eta_s: float | None
    logs: dict[str, float]
    error: str | None


@dataclasses.dataclass(frozen=True)
class EpochEnd(Event):
    """An epoch ended: its number, the step it ended at and Keras' mean of each loss part."""

    type: ClassVar[str] = "epoch"
    epoch: int
    step: int
    logs: dict[str, float]

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> EpochEnd:
        logs = {k: v for k, v in row.items() if k not in ("epoch", "step")}
        return cls(int(row["epoch"]), int(row["step"]), logs)

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.type, "epoch": self.epoch, "step": self.step, **self.logs}


@dataclasses.dataclass(frozen=True)
class CheckpointWritten(Event):
    type: ClassVar[str] = "checkpoint"
    step: int
    path: str
    reason: str
    seconds: float


@dataclasses.dataclass(frozen=True)
class SettingChanged(Event):
    """A setting reached the model (``{"type": "changed", name: value}`` as a dict)."""

    type: ClassVar[str] = "changed"
    name: str
    value: Any

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.type, self.name: self.value}


class EventBus:
    """One queue per subscriber; :meth:`emit` puts every event on each (any thread)."""

    def __init__(self) -> None:
        self.subscribers: list[queue.Queue] = []

    def subscribe(self) -> queue.Queue:
        q: queue.Queue = queue.Queue()
        self.subscribers.append(q)
        return q

    def unsubscribe(self, q: queue.Queue) -> None:
        if q in self.subscribers:
            self.subscribers.remove(q)

    def emit(self, event: Event) -> None:
        for q in list(self.subscribers):
            q.put(event)

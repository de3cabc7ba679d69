"""The one follower of a run's events: every view and the command line read a run this way.

An :class:`EventFollower` subscribes to a run and hands what came, in batches, to a
handler: at least every ``tick_s`` seconds (an empty batch when nothing came, so a
handler can also act on time). A handler that is a bound method is held by weak
reference: when its object is gone (a view dropped by a re-run cell), the follower
unsubscribes and its thread ends instead of polling on for nobody. :meth:`start` runs it
on a daemon thread of its own (the widgets); :meth:`follow` runs it on the calling thread
until the run ends (the command line, where Ctrl-C must reach the caller).
"""

from __future__ import annotations

import logging
import queue
import threading
import weakref
from collections.abc import Callable

from genwidgets.training.events import Event

Handler = Callable[[list[Event]], None]


def _weak(handler: Handler) -> Callable[[], Handler | None]:
    """A bound method is held weakly; a plain function (no object to outlive) strongly."""
    if getattr(handler, "__self__", None) is not None and hasattr(handler, "__func__"):
        return weakref.WeakMethod(handler)  # type: ignore[arg-type]
    return lambda: handler


class EventFollower:
    """Hands ``run``'s events to ``handler(batch)`` in batches, at most ``tick_s`` apart."""

    def __init__(self, run, handler: Handler, *, tick_s: float = 0.1,
                 name: str = "genwidgets-follow") -> None:
        self.run, self.tick_s, self.name = run, tick_s, name
        self._handler = _weak(handler)
        self._events = run.subscribe()
        self._stopped = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self) -> EventFollower:
        """Follow on a daemon thread of its own; returns ``self``."""
        self.thread = threading.Thread(target=self.follow, name=self.name, daemon=True)
        self.thread.start()
        return self

    def follow(self, *, until_done: bool = False) -> None:
        """Follow on this thread until :meth:`stop`, until the handler's object is gone,
        or, with ``until_done``, until the run is over and every event was handed on."""
        on_thread = self.thread is not None and threading.current_thread() is self.thread
        try:
            while not self._stopped.is_set():
                batch = self._drain()
                handler = self._handler()
                if handler is None:
                    return  # its owner is gone: nobody to follow for
                try:
                    handler(batch)
                except Exception:
                    if not on_thread:
                        raise
                    # a view shows its own errors; a bug in one must not end its updates
                    logging.getLogger(__name__).exception("%s: handler failed", self.name)
                del handler
                if until_done and not self.run.alive and self._events.empty():
                    return
        finally:
            self.run.unsubscribe(self._events)

    def _drain(self) -> list[Event]:
        try:
            batch = [self._events.get(timeout=self.tick_s)]
        except queue.Empty:
            return []
        while True:
            try:
                batch.append(self._events.get_nowait())
            except queue.Empty:
                return batch

    def stop(self) -> None:
        """End the following (the thread ends within one tick) and unsubscribe now."""
        self._stopped.set()
        self.run.unsubscribe(self._events)

    @property
    def alive(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

"""A run folder's lock: one writer at a time, and the second one is told who holds it."""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from pathlib import Path

from genwidgets.atomic import write_text
from genwidgets.training.files import LOCK, OWNER, FolderLockedError



class FolderLock:
    """A run folder's lock (``filelock``), re-entrant, released from any thread; the holder
    writes who it is beside it, so that a second writer is told whom it waits for."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = None

    @property
    def held(self) -> bool:
        return self._lock is not None and self._lock.is_locked

    def acquire(self, what: str = "write to it") -> None:
        from filelock import FileLock, Timeout

        if self._lock is None:
            self._lock = FileLock(str(self.path / LOCK), timeout=0, thread_local=False)
        first = not self._lock.is_locked
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            raise FolderLockedError(
                f"{self.path} is in use: {self.holder()} holds its lock, so this run cannot "
                f"{what}. Expected one writer per run folder. Wait for that run to end (or "
                f"stop it), or use another folder.") from None
        if first:
            doc = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time(),
                   "command": " ".join(sys.argv)[:300]}
            try:
                write_text(self.path / OWNER, json.dumps(doc))
            except OSError:
                pass

    def release(self) -> None:
        if not self.held:
            return
        if self._lock.lock_counter == 1:
            (self.path / OWNER).unlink(missing_ok=True)
        self._lock.release()

    def holder(self) -> str:
        """Who holds the lock, from what it wrote: pid, host, since when, its command."""
        try:
            doc = json.loads((self.path / OWNER).read_text(encoding="utf-8"))
            since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(doc["since"])))
            me = " (this process)" if (doc.get("pid") == os.getpid()
                                       and doc.get("host") == socket.gethostname()) else ""
            return (f"process {doc['pid']} on host {doc['host']}{me}, since {since} "
                    f"(command: {doc.get('command') or '?'})")
        except (OSError, ValueError, KeyError, TypeError):
            return "another process (it has not recorded its pid yet)"

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc):
        self.release()

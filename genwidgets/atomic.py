"""Writing a file whole: into a temporary file beside it, fsynced, then ``os.replace``d over
it (the folder fsynced after), so a reader or a crash finds the previous file or the new
one, never half of one. Every part of genwidgets that writes a file whole writes it here.

Standard library only, so every room (``data`` to ``app``) may import it. The temporary's
name is hidden and holds this process's id (``.config.json.123.tmp``), so two processes
never write the same temporary, and a folder's owner can tell it for genwidgets' own
(:mod:`genwidgets.training.ownership`).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path


def temporary_path(path: str | os.PathLike, *, keep_suffix: bool = False,
                   per_thread: bool = False) -> Path:
    """Where the next version of ``path`` is written before it replaces ``path``:
    ``.NAME.PID.tmp`` beside it. ``keep_suffix``: ``.STEM.PID.tmp.SUFFIX``, for a writer
    that wants the name to end as the file's does (Keras: ``.model.123.tmp.keras``).
    ``per_thread``: ``.NAME.PID.THREAD.tmp``, for writers that may run at once in threads
    of one process."""
    path = Path(path)
    tag = f"{os.getpid()}.{threading.get_ident()}" if per_thread else str(os.getpid())
    if keep_suffix and path.suffix:
        return path.with_name(f".{path.stem}.{tag}.tmp{path.suffix}")
    return path.with_name(f".{path.name}.{tag}.tmp")


@contextlib.contextmanager
def replacing(path: str | os.PathLike, *, keep_suffix: bool = False,
              per_thread: bool = False) -> Iterator[Path]:
    """Give a temporary path (:func:`temporary_path`) to write ``path``'s new version to,
    for writers that take a path (``model.save``, ``shutil.copyfile``, an image's ``save``).

    When the block ends without an error the temporary is fsynced and replaces ``path``;
    when it raises, the temporary is removed and ``path`` is as it was."""
    path = Path(path)
    tmp = temporary_path(path, keep_suffix=keep_suffix, per_thread=per_thread)
    try:
        yield tmp
        if not tmp.is_file():
            raise FileNotFoundError(f"Expected the writer of {path} to write {tmp}. "
                                    f"Received: no such file. {path} was left as it was.")
        fsync_file(tmp)
        os.replace(tmp, path)
        fsync_dir(path.parent)
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes(path: str | os.PathLike, data: bytes, *, per_thread: bool = False) -> None:
    """Make ``path`` hold ``data``, whole or not at all (see :func:`replacing`)."""
    with replacing(path, per_thread=per_thread) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)


def write_text(path: str | os.PathLike, text: str, *, per_thread: bool = False) -> None:
    """Make ``path`` hold ``text`` (UTF-8), whole or not at all (see :func:`replacing`)."""
    write_bytes(path, text.encode("utf-8"), per_thread=per_thread)


def fsync_file(path: str | os.PathLike) -> None:
    """Make the bytes written to file ``path`` durable before it is renamed (a file inside
    a folder that is itself renamed into place, like a checkpoint's, needs only this)."""
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def fsync_dir(path: str | os.PathLike) -> None:
    """Make a rename inside folder ``path`` durable, where the system allows (best effort:
    some file systems and systems cannot open or fsync a folder)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)

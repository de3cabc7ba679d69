"""A run folder's files: their names, the errors about them, reading their rows, and what
tells that a writer touched them (a file written whole goes through
:mod:`genwidgets.atomic`). Every other part of :mod:`genwidgets.training` that reads or
writes a run folder imports from here (and this imports none of them), so the arrows
between them point one way.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

LOCK = ".genwidgets.lock"  # the filelock file; it stays when released (it holds no data)
OWNER = ".genwidgets.lock.json"  # who holds the lock: pid, host, since, command
LOSS_SKIP = ("step", "epoch", "t")
ROW_FILES = ("batches.jsonl", "history.jsonl")
OWN_FILES = ("config.json", *ROW_FILES, "model.keras")  # what --overwrite removes
BOOKKEEPING = (LOCK, OWNER)  # not a run's content: an empty folder may hold them
CHECKPOINTS = "checkpoints"  # a checkpoint per step: checkpoints/step-000000123/
CHECKPOINT_PREFIX = "step-"


class RunFolderError(ValueError):
    """A run folder cannot be used as asked: it holds something, it is locked, its files are
    damaged or do not continue. The message says what is there and what to do."""


class FolderInUseError(RunFolderError):
    """A new run was pointed at a folder that already holds a run or other files."""

    def __init__(self, path: Path, survey: Any):  # an ownership.Survey
        self.path, self.survey = Path(path), survey
        super().__init__(self.advice(cli=False))

    def advice(self, cli: bool) -> str:
        path, survey = self.path, self.survey
        where = f"--out {path}" if cli else f"Run(out={str(path)!r})"
        parts = []
        if survey.run:
            parts.append(f"a genwidgets run ({survey.run})")
        if survey.foreign:
            parts.append(f"{survey.foreign_text()} that genwidgets did not write")
        what = f"{where}: {path} already holds " + " and ".join(parts) + ". Expected an " \
            "empty or new folder."
        todo = []
        if survey.run:
            todo.append(f"to go on with that run, use `genwidgets train --resume {path}`"
                        if cli else f"to go on with that run, use Run.from_folder({str(path)!r})"
                        f" (or resume=True)")
        todo.append("to keep it, pick another folder" + (" (--out)" if cli else ""))
        keep = f", and keeps {survey.foreign_text()}" if survey.foreign else ""
        flag = "--overwrite" if cli else "overwrite=True"
        todo.append(f"to replace it, pass {flag}: it removes only genwidgets' own files "
                    f"({', '.join(OWN_FILES)}, checkpoints/step-*, latents/epoch_*.npz)"
                    f"{keep}")
        todo_text = "; ".join(todo)
        return f"{what} {todo_text[0].upper()}{todo_text[1:]}."


class FolderLockedError(RunFolderError):
    """Another process (or another run in this one) holds the folder's lock."""


class DamagedFileError(RunFolderError):
    """A JSON-lines file has a damaged row that is not a torn last line."""


# -- reading rows -------------------------------------------------------------------------
def read_jsonl(path: Path, *, strict: bool = True) -> list[dict[str, Any]]:
    """The rows of a JSON-lines file; a missing file has none.

    Only a last line cut short by a crash (no newline after it) is dropped. A damaged row
    anywhere else raises :class:`DamagedFileError` naming the file and the row; with
    ``strict=False`` (for views) damaged rows are skipped and the rest are kept.
    """
    path = Path(path)
    if not path.exists():
        return []
    if not path.is_file():  # a FIFO would block, a folder cannot be read
        raise RunFolderError(f"{path} is not a regular file (Expected one JSON object per "
                             f"line). Nothing was read from it.")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    lines = data.split(b"\n")
    torn = lines.pop()  # b"" when the file ends with a newline, else the last line
    rows = []
    for number, line in enumerate(lines, 1):
        row = _row(line)
        if row is None:
            if strict:
                raise DamagedFileError(
                    f"{path}: row {number} is damaged (Expected one JSON object per line. "
                    f"Received: {line[:80]!r}). Rows after it cannot be trusted to follow "
                    f"on; restore the file from a backup, or start afresh in another folder.")
            continue
        rows.append(row)
    if torn:
        row = _row(torn)
        if row is not None:  # whole, only its newline missing
            rows.append(row)
    return rows


def _row(line: bytes) -> dict | None:
    try:
        row = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return row if isinstance(row, dict) else None


def signature(path: str | os.PathLike) -> tuple:
    """What changes when any writer touches a run's files (to see a change since a read)."""
    root = Path(path)
    sig = []
    for name in OWN_FILES:
        try:
            st = (root / name).stat()
            sig.append((name, st.st_ino, st.st_size, st.st_mtime_ns))
        except FileNotFoundError:
            sig.append((name, None))
    ckpts = root / CHECKPOINTS
    if ckpts.is_dir():
        sig.append(tuple(sorted(p.name for p in ckpts.iterdir())))
    return tuple(sig)


def checkpoint_dirs(run_folder: str | os.PathLike) -> list[Path]:
    """The complete checkpoint folders of a run, newest (highest step) first."""
    root = Path(run_folder) / CHECKPOINTS
    if not root.is_dir():
        return []
    found = []
    for p in root.iterdir():
        if p.is_dir() and p.name.startswith(CHECKPOINT_PREFIX) and p.name[len(CHECKPOINT_PREFIX):].isdigit():
            found.append((int(p.name[len(CHECKPOINT_PREFIX):]), p))
    return [p for _, p in sorted(found, reverse=True)]

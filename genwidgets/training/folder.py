"""A run's folder on disk: ``config.json``, ``batches.jsonl``, ``history.jsonl``, ``model.keras``.

Every file is either appended line by line or written whole by :mod:`genwidgets.atomic`
(a temporary file of this process, fsynced and ``os.replace``d), so a crash never leaves a
half-written JSON document or model. ``config.json`` is read and written by
:class:`~genwidgets.training.run_config.RunConfig`.

A folder is never reset behind its owner's back: a new run takes an empty or new folder
(``ownership.check_new``), and ``overwrite=True`` removes only the files genwidgets writes
(``ownership.remove_own_files``), never anything else. While a run writes, it holds the folder's
lock (:class:`~genwidgets.training.lock.FolderLock`); a second writer is refused, naming
the holder. What a folder holds, and what is genwidgets' own, is
:mod:`genwidgets.training.ownership`'s.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

from genwidgets.atomic import replacing, write_text
from genwidgets.training.files import (  # noqa: F401  (the names folder.py is read for)
    BOOKKEEPING, LOCK, LOSS_SKIP, OWN_FILES, OWNER, ROW_FILES, DamagedFileError,
    FolderInUseError, FolderLockedError, RunFolderError, read_jsonl, signature)
from genwidgets.training.lock import FolderLock
from genwidgets.training.run_config import RunConfig, write_run_config


class RunFolder:
    """Appends batch and epoch rows; writes the run's config and model."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._batches = None
        self.lock = FolderLock(self.path)
        self.written: tuple | None = None  # signature() after this run's last write

    def create(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)

    def write_config(self, spec, config, dataset, **extra) -> None:
        from genwidgets import __version__

        doc = {
            "model": spec.name,
            "family": spec.family,
            "config": dataclasses.asdict(config),
            "data": dataset.info.name,
            "data_info": dataset.info.to_dict(),
            "genwidgets_version": __version__,
            **extra,
        }
        if dataset.tokenizer is not None and hasattr(dataset.tokenizer, "to_dict"):
            doc["tokenizer"] = dataset.tokenizer.to_dict()
        write_run_config(self.path, doc)

    def write_rows(self, name: str, rows: list[dict[str, Any]]) -> None:
        """Make a JSON-lines file hold exactly ``rows`` (a resume drops those after its
        checkpoint), atomically."""
        self.close()
        write_text(self.path / name, "".join(json.dumps(r) + "\n" for r in rows))

    def copy_model(self, source: Path) -> Path:
        """Make ``model.keras`` a copy of ``source`` (a checkpoint's), atomically."""
        import shutil

        path = self.path / "model.keras"
        with replacing(path, keep_suffix=True) as tmp:
            shutil.copyfile(source, tmp)
        return path

    def append_batches(self, rows: list[dict]) -> None:
        if not rows:
            return
        if self._batches is None:
            self._batches = open(self.path / "batches.jsonl", "a", encoding="utf-8")
        self._batches.write("".join(json.dumps(r) + "\n" for r in rows))
        self._batches.flush()

    def append_epoch(self, row: dict) -> None:
        with open(self.path / "history.jsonl", "a", encoding="utf-8") as f:
            f.write(json.dumps(row) + "\n")

    def save_model(self, model) -> Path:
        """Write ``model.keras``, whole (a crash never leaves a half-written file)."""
        path = self.path / "model.keras"
        with replacing(path, keep_suffix=True) as tmp:
            model.save(tmp)
        return path

    def close(self) -> None:
        if self._batches is not None:
            self._batches.close()
            self._batches = None

    def mark_written(self) -> None:
        """Remember the files as this run left them (see :meth:`check_unchanged`)."""
        self.close()
        self.written = signature(self.path)

    def check_unchanged(self) -> None:
        """Refuse to go on writing when someone else wrote here since this run did."""
        if self.written is not None and signature(self.path) != self.written:
            raise RunFolderError(
                f"{self.path} changed since this run last wrote it (another run or process "
                f"wrote there). Expected the files as this run left them. To go on from the "
                f"folder's latest checkpoint, make a new run: Run.from_folder("
                f"{str(self.path)!r}).")

@dataclasses.dataclass
class RunRecord:
    """What a run's folder says about it, read without Keras."""

    path: Path
    model: str = "?"
    data: str = "?"
    config: dict = dataclasses.field(default_factory=dict)
    epochs: int = 0  # epochs finished
    steps: int = 0
    final: dict = dataclasses.field(default_factory=dict)  # last epoch's losses
    saved: bool = False  # model.keras is there
    error: str | None = None  # why the folder could not be read

    @property
    def name(self) -> str:
        return self.path.name

    def batches(self) -> list[dict[str, Any]]:
        """The batch rows that read (a view skips a damaged row; a resume refuses it)."""
        return read_jsonl(self.path / "batches.jsonl", strict=False)

    def epoch_rows(self) -> list[dict[str, Any]]:
        return read_jsonl(self.path / "history.jsonl", strict=False)


def read_run(path: str | os.PathLike) -> RunRecord:
    """A run folder's summary; a folder that cannot be read says why in ``error``."""
    path = Path(path)
    record = RunRecord(path)
    try:
        record.saved = (path / "model.keras").exists()
        run_config = RunConfig.read(path)  # says which file and what is wrong
        record.model, record.data = run_config.model, run_config.data
        record.config = dict(run_config.config or {})
    except RunFolderError as exc:
        record.error = str(exc)
        return record
    except OSError as exc:
        record.error = (f"{path / 'config.json'} cannot be read "
                        f"({type(exc).__name__}: {exc}). Expected a run folder written by "
                        f"genwidgets (Run(out=...) or `genwidgets train --out`).")
        return record
    try:
        epochs = record.epoch_rows()
        if epochs:
            last = epochs[-1]
            record.epochs, record.steps = int(last["epoch"]), int(last["step"])
            record.final = {k: v for k, v in last.items() if k not in LOSS_SKIP}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        record.error = (f"{path / 'history.jsonl'} cannot be read ({type(exc).__name__}: "
                        f"{exc}). Expected one JSON object with epoch and step per line.")
    return record


def find_runs(root: str | os.PathLike) -> list[RunRecord]:
    """Every run folder under ``root`` (any depth), newest first. A folder that cannot be
    read (no permission, say) is a record whose ``error`` says why; the rest are listed."""
    root = Path(root)
    try:
        if not root.is_dir():
            return []
    except OSError as exc:
        return [RunRecord(root, error=f"{root} cannot be read ({type(exc).__name__}: "
                                      f"{exc.strerror or exc})")]
    unreadable: dict[Path, str] = {}

    def note(exc: OSError) -> None:
        where = Path(exc.filename) if exc.filename else root
        unreadable[where] = (f"{where} cannot be read ({type(exc).__name__}: "
                             f"{exc.strerror or exc}). Expected a folder genwidgets may read.")

    folders = {Path(top) for top, dirs, files in os.walk(root, onerror=note)
               if "config.json" in files or "config.json" in dirs}
    found = [read_run(p) for p in folders]
    found += [RunRecord(p, error=text) for p, text in unreadable.items() if p not in folders]

    def mtime(record: RunRecord) -> float:
        try:
            return record.path.stat().st_mtime
        except OSError:
            return 0.0

    return sorted(found, key=mtime, reverse=True)

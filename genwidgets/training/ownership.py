"""What a run folder holds: genwidgets' own files, and everything else, which is never
removed. A new run takes only an empty or new folder (:func:`check_new`); ``overwrite``
removes genwidgets' own files (:func:`remove_own_files`) and keeps the rest."""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

from genwidgets.training.files import (  # noqa: F401  (signature: read here too)
    BOOKKEEPING, OWN_FILES, FolderInUseError, RunFolderError, checkpoint_dirs, read_jsonl,
    signature)
from genwidgets.training.folder import read_run

# temporaries genwidgets.atomic writes a run's files through (``.config.json.123.tmp``,
# ``.model.123.tmp.keras``)
_OWN_TMP = re.compile(r"^\.(config\.json|batches\.jsonl|history\.jsonl)(\.\d+)?\.tmp$|"
                      r"^\.model(\.\d+)?\.tmp\.keras$")
# checkpoint folders (see checkpoint.py) and latent snapshots (genwidgets.latent.snapshots)
_CHECKPOINT_DIR = re.compile(r"^(damaged-)?step-\d+$|^\.(tmp|old)-\d+-\d+$")
_CHECKPOINT_FILES = {"model.keras", "state.json"}
FOREIGN_CAP = 1000  # files of others counted at most
_SNAPSHOT = re.compile(r"^epoch_\d+\.npz$|^\.epoch_\d+\.npz(\.\d+)?\.tmp$")


@dataclasses.dataclass
class Survey:
    """What a folder holds: genwidgets' own files and the others (a few are named)."""

    own: list[Path] = dataclasses.field(default_factory=list)  # files and folders to remove
    foreign: list[str] = dataclasses.field(default_factory=list)  # paths, relative
    foreign_count: int = 0
    run: str = ""  # a summary of the genwidgets run there, if any

    @property
    def empty(self) -> bool:
        return not self.own and not self.foreign_count

    def foreign_text(self) -> str:
        count = self.foreign_count
        names = ", ".join(self.foreign)
        more = f" and {count - len(self.foreign)} more" if count > len(self.foreign) else ""
        many = f"{count}+" if count >= FOREIGN_CAP else str(count)
        return f"{many} other file{'s' if count != 1 else ''} ({names}{more})"


def _count_foreign(root: Path, path: Path, survey: Survey, limit: int = 5) -> None:
    if survey.foreign_count >= FOREIGN_CAP:  # enough to say "more" (say, --out ~)
        return
    if path.is_dir() and not path.is_symlink():
        for child in sorted(path.iterdir()):
            _count_foreign(root, child, survey, limit)
        if not any(path.iterdir()):
            survey.foreign_count += 1
            if len(survey.foreign) < limit:
                survey.foreign.append(f"{path.relative_to(root)}/")
        return
    survey.foreign_count += 1
    if len(survey.foreign) < limit:
        survey.foreign.append(str(path.relative_to(root)))


def _own_subfolder(root: Path, name: str, pattern, allowed, survey: Survey) -> None:
    """Sort ``root/name``'s entries into genwidgets' (matching ``pattern``) and others'."""
    folder = root / name
    for child in sorted(folder.iterdir()):
        if pattern.match(child.name) and allowed(child):
            survey.own.append(child)
        else:
            _count_foreign(root, child, survey)


def _is_checkpoint(path: Path) -> bool:
    return (path.is_dir() and not path.is_symlink()
            and {p.name for p in path.iterdir()} <= _CHECKPOINT_FILES)


def survey(path: str | os.PathLike) -> Survey:
    """What ``path`` holds, read only: genwidgets' own files and anything else."""
    root = Path(path)
    found = Survey()
    if not root.exists():
        return found
    if not root.is_dir():
        raise RunFolderError(f"Expected a folder for the run. Received: {root}, which is a "
                             f"file. Pick a folder (new or empty).")
    for child in sorted(root.iterdir()):
        name = child.name
        if name in BOOKKEEPING:
            continue
        if (name in OWN_FILES or _OWN_TMP.match(name)) and child.is_file() \
                and not child.is_symlink():
            found.own.append(child)
        elif name == "checkpoints" and child.is_dir() and not child.is_symlink():
            _own_subfolder(root, name, _CHECKPOINT_DIR, _is_checkpoint, found)
        elif name == "latents" and child.is_dir() and not child.is_symlink():
            _own_subfolder(root, name, _SNAPSHOT,
                           lambda p: p.is_file() and not p.is_symlink(), found)
        else:
            _count_foreign(root, child, found)
    if found.own:
        found.run = _run_summary(root)
    return found


def _run_summary(root: Path) -> str:
    record = read_run(root)
    parts = []
    if record.error is None:
        parts.append(f"model {record.model!r} on {record.data!r}")
    else:
        parts.append("no readable config.json")
    if (root / "history.jsonl").exists() or (root / "batches.jsonl").exists():
        steps = len(read_jsonl(root / "batches.jsonl", strict=False))
        parts.append(f"{record.epochs} epoch{'s' if record.epochs != 1 else ''}, {steps} "
                     f"step{'s' if steps != 1 else ''} recorded")
    if record.saved:
        parts.append("a model.keras")
    count = len(checkpoint_dirs(root))
    if count:
        parts.append(f"{count} checkpoint{'s' if count != 1 else ''}")
    elif not (root / "batches.jsonl").exists():
        parts.append("never trained")
    return ", ".join(parts)


def check_new(path: str | os.PathLike, overwrite: bool = False) -> Survey:
    """Refuse a folder that holds anything, unless ``overwrite`` (its own files will go)."""
    found = survey(path)
    if not found.empty and not overwrite:
        raise FolderInUseError(Path(path), found)
    return found


def remove_own_files(path: str | os.PathLike) -> list[str]:
    """Remove genwidgets' own files from ``path`` (never another's); return what stayed."""
    import shutil

    root = Path(path)
    found = survey(root)
    for item in found.own:
        if item.is_dir():
            shutil.rmtree(item)
        else:
            item.unlink(missing_ok=True)
    for name in ("checkpoints", "latents"):
        try:
            (root / name).rmdir()  # only when nothing of another's is left in it
        except OSError:
            pass
    return found.foreign

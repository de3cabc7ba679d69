"""A run's folder on disk: ``config.json``, ``batches.jsonl``, ``history.jsonl``, ``model.keras``.

Every file is either appended line by line or written to a temporary file and
``os.replace``d, so a crash never leaves a half-written JSON document or model.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

LOSS_SKIP = ("step", "epoch", "t")


def atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def save_model(model, path: Path) -> None:
    """Write ``model`` to ``path`` atomically (a crash never leaves a half-written file)."""
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.tmp.keras")
    model.save(tmp)
    os.replace(tmp, path)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Rows of a JSON-lines file, skipping a last line cut short by a crash."""
    rows = []
    if not Path(path).exists():
        return rows
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            break
    return rows


class RunFolder:
    """Appends batch and epoch rows; writes the run's config and model."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self._batches = None

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
        atomic_write_text(self.path / "config.json", json.dumps(doc, indent=2))

    def reset(self) -> None:
        """Start afresh: no rows, no checkpoints of an earlier run in this folder."""
        import shutil

        self.close()
        for name in ("batches.jsonl", "history.jsonl"):
            (self.path / name).unlink(missing_ok=True)
        shutil.rmtree(self.path / "checkpoints", ignore_errors=True)

    def truncate(self, name: str, n: int) -> list[dict[str, Any]]:
        """Keep the first ``n`` rows of a JSON-lines file (a resume drops later ones)."""
        self.close()
        path = self.path / name
        rows = read_jsonl(path)[:n]
        atomic_write_text(path, "".join(json.dumps(r) + "\n" for r in rows))
        return rows

    def copy_model(self, source: Path) -> Path:
        """Make ``model.keras`` a copy of ``source`` (a checkpoint's), atomically."""
        import shutil

        path = self.path / "model.keras"
        tmp = path.with_name(".model.tmp.keras")
        shutil.copyfile(source, tmp)
        os.replace(tmp, path)
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
        path = self.path / "model.keras"
        save_model(model, path)
        return path

    def close(self) -> None:
        if self._batches is not None:
            self._batches.close()
            self._batches = None


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
        return read_jsonl(self.path / "batches.jsonl")

    def epoch_rows(self) -> list[dict[str, Any]]:
        return read_jsonl(self.path / "history.jsonl")


def read_run(path: str | os.PathLike) -> RunRecord:
    """A run folder's summary; a folder that cannot be read says why in ``error``."""
    path = Path(path)
    record = RunRecord(path, saved=(path / "model.keras").exists())
    try:
        doc = json.loads((path / "config.json").read_text(encoding="utf-8"))
        record.model, record.data = str(doc["model"]), str(doc["data"])
        record.config = dict(doc.get("config") or {})
    except (OSError, ValueError, KeyError, TypeError) as exc:
        record.error = (f"{path / 'config.json'} cannot be read "
                        f"({type(exc).__name__}: {exc}). Expected a run folder written by "
                        f"genwidgets (Run(out=...) or `genwidgets train --out`).")
        return record
    epochs = record.epoch_rows()
    if epochs:
        last = epochs[-1]
        record.epochs, record.steps = int(last["epoch"]), int(last["step"])
        record.final = {k: v for k, v in last.items() if k not in LOSS_SKIP}
    return record


def find_runs(root: str | os.PathLike) -> list[RunRecord]:
    """Every run folder under ``root`` (any depth), newest first."""
    root = Path(root)
    if not root.is_dir():
        return []
    folders = {p.parent for p in root.rglob("config.json")}
    return [read_run(p) for p in sorted(folders, key=lambda p: p.stat().st_mtime,
                                        reverse=True)]

"""A run folder's ``config.json``, read and written in one place: :class:`RunConfig`.

It records what a run was made of (model and its settings, data and their options, batch
size, seed, placement, the validation split, the data's fingerprint, the tokenizer) so
that a resume, the runs table, the Explore tab and the TensorBoard export read the same
thing. Reading checks every key it knows; a file that does not read raises a
:class:`~genwidgets.training.files.RunFolderError` naming the file, what was expected and
what was found. Keys it does not know (those of another version) are kept in ``doc``.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

from genwidgets.atomic import write_text
from genwidgets.training.files import RunFolderError

NAME = "config.json"
# the keys read, with the type each must have when present (and not null)
TYPES: dict[str, type] = {
    "model": str, "data": str, "family": str, "config": dict, "data_options": dict,
    "data_info": dict, "tokenizer": dict, "epochs": int, "batch_size": int, "seed": int,
    "distribution": str, "precision": str, "validation": dict, "data_fingerprint": dict}
REQUIRED = ("model", "data")
POSITIVE = ("epochs", "batch_size")
EXPECTED = ("Expected a run folder's config.json as genwidgets writes it (Run(out=...), "
            "`genwidgets train --out`, LiveLoss(out=...))")
TODO = ("Nothing was changed. Restore it from a backup, or start a new run in another "
        "folder.")
# what a run goes on with when its config.json does not say (a folder of an older genwidgets)
DEFAULTS = {"epochs": 10, "batch_size": 64, "distribution": "auto", "precision": "float32",
            "seed": None}


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """What a run folder's ``config.json`` says, its keys checked. A key the file does not
    hold is None."""

    path: Path  # the config.json read
    model: str  # the model's name in the registry (a plain fit's: the Keras model's name)
    data: str  # the dataset's name
    family: str | None = None
    config: dict | None = None  # the plugin Config's fields
    data_options: dict | None = None
    data_info: dict | None = None
    tokenizer: dict | None = None
    epochs: int | None = None  # the run's goal, in all
    batch_size: int | None = None
    seed: int | None = None
    distribution: str | None = None
    precision: str | None = None
    validation: dict | None = None  # the held-out split (see training/validation.py)
    data_fingerprint: dict | None = None  # see training/checks.py
    doc: dict = dataclasses.field(default_factory=dict, repr=False)  # all the file holds

    @classmethod
    def path_in(cls, folder: str | os.PathLike) -> Path:
        return Path(folder) / NAME

    @classmethod
    def exists(cls, folder: str | os.PathLike) -> bool:
        return cls.path_in(folder).exists()

    @classmethod
    def read(cls, folder: str | os.PathLike) -> RunConfig:
        """``folder``'s ``config.json``, checked; a RunFolderError says what is wrong."""
        path = cls.path_in(folder)
        try:
            if not path.is_file():  # a FIFO would block the reader; a folder cannot be read
                what = "no such file" if not path.exists() else "not a regular file"
                raise RunFolderError(f"{path} cannot be read. {EXPECTED}. Received: {what}. "
                                     f"{TODO}")
            doc = json.loads(path.read_text(encoding="utf-8"))
        except RunFolderError:
            raise
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise RunFolderError(f"{path} cannot be read ({type(exc).__name__}: {exc}). "
                                 f"{EXPECTED}. {TODO}") from None
        return cls.from_doc(doc, path)

    @classmethod
    def from_doc(cls, doc: Any, path: str | os.PathLike) -> RunConfig:
        """``doc`` (as ``config.json`` at ``path`` holds it), its keys checked."""
        path = Path(path)
        if not isinstance(doc, dict):
            raise RunFolderError(f"{path} cannot be read. {EXPECTED}: a JSON object. "
                                 f"Received: a JSON {type(doc).__name__}. {TODO}")
        for key in REQUIRED:
            if key not in doc:
                raise RunFolderError(
                    f"{path} cannot be read. Expected {key!r} in it (the {key} the run was "
                    f"trained on). Received: the keys {sorted(doc)[:12]}. {TODO}")
        for key, kind in TYPES.items():
            value = doc.get(key)
            if value is None and key not in REQUIRED:
                continue
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                raise RunFolderError(f"{path} cannot be read. Expected {key} to be "
                                     f"{_kind(kind)}. Received: {key}={_short(value)}. {TODO}")
            if key in POSITIVE and value < 1:
                raise RunFolderError(f"{path} cannot be read. Expected {key} >= 1, an "
                                     f"integer. Received: {key}={value!r}. {TODO}")
        return cls(path=path, doc=doc, **{k: doc.get(k) for k in TYPES})

    def settings(self) -> dict[str, Any]:
        """What a run of this folder goes on with: epochs, batch size, distribution,
        precision and seed, as recorded (:data:`DEFAULTS` where the file does not say)."""
        got = {k: getattr(self, k) for k in DEFAULTS}
        return {k: DEFAULTS[k] if v is None else v for k, v in got.items()}


def write_run_config(folder: str | os.PathLike, doc: dict[str, Any]) -> RunConfig:
    """Write ``doc`` as ``folder``'s ``config.json``, whole (:mod:`genwidgets.atomic`),
    after checking it reads back as a :class:`RunConfig`."""
    path = RunConfig.path_in(folder)
    text = json.dumps(doc, indent=2)
    config = RunConfig.from_doc(json.loads(text), path)  # what a reader will find
    write_text(path, text)
    return config


def _kind(kind: type) -> str:
    return {str: "text", dict: "a JSON object", int: "an integer"}[kind]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."

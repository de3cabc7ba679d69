"""Fit a plugin's model on a dataset and write the run's folder.

A run folder holds ``model.keras`` (written to a temporary file, then ``os.replace``d),
``config.json`` (model, data, settings, data info) and ``history.jsonl`` (one JSON object
per epoch with every loss part).
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from genwidgets._backend import import_keras
from genwidgets.spec import Dataset, ModelSpec


@dataclasses.dataclass
class TrainResult:
    model: Any
    history: list[dict[str, float]]
    out: Path | None
    stopped: str | None  # why training stopped early, or None
    seconds: float


def full_batches(x, batch_size: int):
    """Drop the last partial batch so every step has the same shape (one compile)."""
    n = len(x)
    if n < 1:
        raise ValueError("Expected at least one item to train on. Received: empty data")
    batch_size = min(batch_size, n)
    return x[: n - n % batch_size], batch_size


def save_model(model, path: Path) -> None:
    """Write ``model`` to ``path`` atomically (a crash never leaves a half-written file)."""
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.tmp.keras")
    model.save(tmp)
    os.replace(tmp, path)


def write_run_config(out: Path, spec: ModelSpec, config, dataset: Dataset, **extra) -> None:
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
    tmp = out / ".config.json.tmp"
    tmp.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    os.replace(tmp, out / "config.json")


def train(
    spec: ModelSpec,
    config,
    dataset: Dataset,
    *,
    epochs: int,
    batch_size: int = 64,
    out: str | os.PathLike | None = None,
    callbacks: Sequence[Any] = (),
    progress: bool = False,
    data_options: dict | None = None,
) -> TrainResult:
    """Build ``spec`` with ``config`` on ``dataset``, fit it, and write the run to ``out``."""
    import_keras()  # raises a clear error when Keras runs on another backend
    from genwidgets.training.callbacks import HistoryWriter, ProgressBar, StopOnNaN

    if epochs < 1:
        raise ValueError(f"Expected epochs >= 1. Received: epochs={epochs}")
    if dataset.info.modality not in spec.modalities:
        raise ValueError(
            f"Model {spec.name!r} takes {list(spec.modalities)} data. "
            f"Received: {dataset.info.modality} data {dataset.info.name!r}"
        )
    x, batch_size = full_batches(dataset.x, batch_size)
    model = spec.build(config, dataset.info)
    nan_stop = StopOnNaN()
    cbs = [nan_stop, *callbacks]
    outdir = Path(out) if out is not None else None
    if outdir is not None:
        outdir.mkdir(parents=True, exist_ok=True)
        (outdir / "history.jsonl").unlink(missing_ok=True)
        write_run_config(outdir, spec, config, dataset, epochs=epochs, batch_size=batch_size,
                         data_options=data_options or {})
        cbs.append(HistoryWriter(outdir / "history.jsonl"))
    if progress:
        cbs.append(ProgressBar(epochs, len(x) // batch_size))
    start = time.perf_counter()
    hist = model.fit(x, batch_size=batch_size, epochs=epochs, shuffle=True, verbose=0,
                     callbacks=cbs)
    seconds = time.perf_counter() - start
    if nan_stop.reason is None and hasattr(model, "fit_prior"):
        model.fit_prior(dataset.x)
    rows = [
        {"epoch": i + 1, **{k: float(v[i]) for k, v in hist.history.items()}}
        for i in range(len(next(iter(hist.history.values()), [])))
    ]
    if outdir is not None and nan_stop.reason is None:
        save_model(model, outdir / "model.keras")
    return TrainResult(model, rows, outdir, nan_stop.reason, seconds)

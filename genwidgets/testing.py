"""A contract test for model plugins, ours and third parties'.

    from genwidgets.testing import check_model
    check_model(MySpec(), "image")      # raises AssertionError saying what is wrong

It builds the spec on tiny data, runs one ``fit`` step, checks the loss is finite and the
shapes of ``encode`` / ``decode`` / ``sample`` for what the spec claims, saves ``.keras``
and reloads it in a fresh process with ``safe_mode=True``, and gets the same decode.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import tempfile
import textwrap
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from genwidgets.spec import Dataset, ModelSpec

TINY_TEXTS = [
    "the cat sat on the mat", "a dog ran in the park", "she sells sea shells",
    "time flies like an arrow", "fruit flies like a banana", "all that glitters",
    "to be or not to be", "the quick brown fox", "jumps over the lazy dog",
    "hello world again", "small steps every day", "the rain in spain",
    "stay hungry stay foolish", "less is more", "keep it simple", "know thyself",
]


def tiny_dataset(modality: str, n: int = 32) -> Dataset:
    """A small real dataset: the first digits, or a few short sentences."""
    if modality == "image":
        from genwidgets.data.images import load_digits

        return load_digits(limit=n)
    if modality == "text":
        from genwidgets.data.text import load_text

        texts = (TINY_TEXTS * (n // len(TINY_TEXTS) + 1))[:n]
        return load_text(texts=texts, seq_len=24)
    raise ValueError(f"Expected modality 'image' or 'text'. Received: {modality!r}")


def _check_output(what: str, out: Any, n: int, dataset: Dataset) -> np.ndarray:
    out = np.asarray(out)
    info = dataset.info
    expected = (n, *info.shape)
    assert out.shape == expected, f"{what}: expected shape {expected}. Received: {out.shape}"
    if info.modality == "image":
        assert np.all(np.isfinite(out)), f"{what}: expected finite pixels"
        assert out.min() >= 0.0 and out.max() <= 1.0, (
            f"{what}: expected pixels in [0, 1]. Received: [{out.min()}, {out.max()}]")
    else:
        assert np.issubdtype(out.dtype, np.integer), (
            f"{what}: expected integer token ids. Received dtype {out.dtype}")
        assert out.min() >= 0 and out.max() < info.vocab_size, (
            f"{what}: expected token ids in [0, {info.vocab_size}). "
            f"Received: [{out.min()}, {out.max()}]")
    return out


def _spec_ref(spec: ModelSpec) -> str:
    cls = type(spec)
    return f"{cls.__module__}:{cls.__qualname__}"


RELOAD = textwrap.dedent("""
    import importlib, sys, numpy as np
    import genwidgets, keras
    module, qualname = sys.argv[1].split(":")
    obj = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    model = keras.saving.load_model(sys.argv[2], custom_objects=obj().custom_objects(),
                                    safe_mode=True)
    np.save(sys.argv[4], model.decode(np.load(sys.argv[3])))
""")


def reload_in_fresh_process(spec: ModelSpec, path: Path, z: np.ndarray) -> np.ndarray:
    """Load ``path`` with ``safe_mode=True`` in a new interpreter and decode ``z`` there."""
    z_path, out_path = path.with_suffix(".z.npy"), path.with_suffix(".out.npy")
    np.save(z_path, z)
    proc = subprocess.run(
        [sys.executable, "-c", RELOAD, _spec_ref(spec), str(path), str(z_path), str(out_path)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, (
        f"reloading {path.name} in a fresh process with safe_mode=True failed:\n"
        f"{proc.stderr[-3000:]}")
    return np.load(out_path)


@contextmanager
def stage(name: str):
    """Mark an exception raised inside as one of ``check_model``'s stage ``name``
    (``exc.check_stage``, and a note in its traceback); the registry reports that stage."""
    try:
        yield
    except BaseException as exc:
        if getattr(exc, "check_stage", None) is None:
            setattr(exc, "check_stage", name)
            exc.add_note(f"(genwidgets.testing.check_model, stage {name})")
        raise


def check_model(spec: ModelSpec, modality: str, *, config: Any = None, n: int = 32,
                batch_size: int = 16, reload: bool = True) -> dict[str, Any]:
    """Run the contract on ``spec`` for ``modality``; return what was measured. An
    exception raised carries the failing stage as ``check_stage``: ``"build()"``,
    ``"fit"``, ``"encode"``, ``"decode"``, ``"sample"`` or ``"reload"``."""
    assert modality in spec.modalities, (
        f"{spec.name} does not claim {modality!r}; it claims {spec.modalities}")
    dataset = tiny_dataset(modality, n)
    with stage("build()"):
        model = spec.build(config if config is not None else spec.config_for(modality),
                           dataset.info)
        assert getattr(model, "optimizer", None) is not None, (
            "build() must return a compiled model")
    with stage("fit"):
        history = model.fit(dataset.x[:batch_size], batch_size=batch_size, epochs=1,
                            verbose=0)
        logs = {k: float(v[-1]) for k, v in history.history.items()}
        assert "loss" in logs, f"expected 'loss' in logs. Received: {sorted(logs)}"
        for key, value in logs.items():
            assert math.isfinite(value), (
                f"expected a finite {key} after one step. Received: {value}")
    report: dict[str, Any] = {"logs": logs}
    latent_dim = int(model.latent_dim)
    if "encode" in spec.capabilities:
        with stage("encode"):
            z = np.asarray(model.encode(dataset.x[:5]))
            assert z.shape == (5, latent_dim), (
                f"encode: expected shape (5, {latent_dim}). Received: {z.shape}")
    z = np.random.default_rng(0).standard_normal((4, latent_dim)).astype("float32")
    if "decode" in spec.capabilities:
        with stage("decode"):
            decoded = _check_output("decode", model.decode(z), 4, dataset)
    if "sample" in spec.capabilities:
        with stage("sample"):
            _check_output("sample", model.sample(3, seed=1), 3, dataset)
            a, b = model.sample(3, seed=7), model.sample(3, seed=7)
            assert np.array_equal(np.asarray(a), np.asarray(b)), (
                "sample: same seed, other output")
    if reload and "decode" in spec.capabilities:
        with stage("reload"), tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "model.keras"
            model.save(path)
            again = reload_in_fresh_process(spec, path, z)
            if modality == "text":
                assert np.array_equal(again, decoded), "decode after reload: other tokens"
            else:
                err = float(np.abs(again - decoded).max())
                assert err < 1e-4, f"decode after reload differs by {err}"
        report["reload"] = "same decode"
    report["summary"] = json.dumps({"model": spec.name, "modality": modality, **logs})
    return report

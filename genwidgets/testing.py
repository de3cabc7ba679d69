"""A contract test for model plugins, ours and third parties'.

    from genwidgets.testing import check_model
    check_model(MySpec(), "image")      # raises AssertionError saying what is wrong

It builds the spec on tiny data, runs one ``fit`` step, checks the loss is finite and the
shapes of ``encode`` / ``decode`` / ``sample`` for what the spec claims, saves ``.keras``
and reloads it in a fresh process with ``safe_mode=True``, and gets the same decode.
A spec that claims ``"condition"`` trains on ``fit((x, labels))`` of labelled digits and
is checked for ``num_classes``, ``decode(z, labels=...)`` and ``sample(n, seed, labels=...)``
(shapes, that the labels change the output, the same draw for the same seed) and for a
clear ``ValueError("Expected ... Received: ...")`` on bad labels.
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

from genwidgets.built_model import missing
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
    labels = np.load(sys.argv[5]) if len(sys.argv) > 5 else None
    kwargs = {} if labels is None else {"labels": labels}
    np.save(sys.argv[4], model.decode(np.load(sys.argv[3]), **kwargs))
""")

# labels= a conditional model must refuse with a clear ValueError: (what, value) pairs
BAD_LABELS = (("a label out of range", "num_classes"), ("a negative label", -1),
              ("one label too few", "short"), ("fractional labels", 0.5),
              ("a string", "zero"))


def reload_in_fresh_process(spec: ModelSpec, path: Path, z: np.ndarray,
                            labels: np.ndarray | None = None) -> np.ndarray:
    """Load ``path`` with ``safe_mode=True`` in a new interpreter and decode ``z`` there
    (with ``labels``, for a conditional model)."""
    z_path, out_path = path.with_suffix(".z.npy"), path.with_suffix(".out.npy")
    np.save(z_path, z)
    extra = []
    if labels is not None:
        extra = [str(path.with_suffix(".labels.npy"))]
        np.save(extra[0], labels)
    proc = subprocess.run(
        [sys.executable, "-c", RELOAD, _spec_ref(spec), str(path), str(z_path), str(out_path),
         *extra],
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
    ``"fit"``, ``"encode"``, ``"decode"``, ``"sample"``, ``"condition"`` or ``"reload"``."""
    assert modality in spec.modalities, (
        f"{spec.name} does not claim {modality!r}; it claims {spec.modalities}")
    dataset = tiny_dataset(modality, n)
    conditional = "condition" in spec.capabilities
    labels: np.ndarray | None = None
    if conditional:
        assert dataset.y is not None, (
            f"{spec.name} claims 'condition' on {modality} data; check_model has labelled "
            f"tiny data for images only")
        labels = np.asarray(dataset.y, dtype="int32")
    with stage("build()"):
        model = spec.build(config if config is not None else spec.config_for(modality),
                           dataset.info)
        assert getattr(model, "optimizer", None) is not None, (
            "build() must return a compiled model")
        lacking = missing(model, spec.capabilities)  # the protocols of genwidgets.built_model
        assert not lacking, (f"build() returned a model without what its capabilities "
                             f"{sorted(spec.capabilities)} promise: {', '.join(lacking)}")
    with stage("fit"):
        inputs = dataset.x[:batch_size]
        if labels is not None:  # a conditional model trains on the pair (x, labels)
            inputs = (inputs, labels[:batch_size])
        history = model.fit(inputs, batch_size=batch_size, epochs=1, verbose=0)
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
    z_labels = None
    if labels is not None:
        with stage("condition"):
            z_labels = check_condition(model, dataset, z, "decode" in spec.capabilities)
            if "decode" in spec.capabilities:
                decoded = _check_output("decode", model.decode(z, labels=z_labels), 4,
                                        dataset)
            if "encode" in spec.capabilities:
                coded = np.asarray(model.encode(dataset.x[:5], labels=labels[:5]))
                assert coded.shape == (5, latent_dim), (
                    f"encode with labels: expected shape (5, {latent_dim}). "
                    f"Received: {coded.shape}")
        report["condition"] = "labels change the output; bad labels refused"
    if reload and "decode" in spec.capabilities:
        with stage("reload"), tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "model.keras"
            model.save(path)
            again = reload_in_fresh_process(spec, path, z, z_labels)
            if modality == "text":
                assert np.array_equal(again, decoded), "decode after reload: other tokens"
            else:
                err = float(np.abs(again - decoded).max())
                assert err < 1e-4, f"decode after reload differs by {err}"
        report["reload"] = "same decode"
    report["summary"] = json.dumps({"model": spec.name, "modality": modality, **logs})
    return report


def check_condition(model: Any, dataset: Dataset, z: np.ndarray, decodes: bool) -> np.ndarray:
    """The ``"condition"`` part of the contract; returns the labels it decoded ``z`` with."""
    names = dataset.info.label_names or ()
    k = getattr(model, "num_classes", None)
    assert isinstance(k, (int, np.integer)) and k == len(names), (
        f"condition: expected model.num_classes == {len(names)} (the data's label_names). "
        f"Received: num_classes={k!r}")
    n = len(z)
    z_labels = (np.arange(n) % int(k)).astype("int32")
    if decodes:
        _check_output("decode(z, labels=...)", model.decode(z, labels=z_labels), n, dataset)
        first, second = (np.asarray(model.decode(z, labels=c)) for c in (0, 1))
        assert not np.array_equal(first, second), (
            "condition: decode(z, labels=0) and decode(z, labels=1) gave the same output; "
            "expected the labels to change what is decoded")
    asked = (np.arange(3) % int(k)).astype("int32")
    _check_output("sample(n, seed, labels=...)", model.sample(3, seed=1, labels=asked), 3,
                  dataset)
    a, b = (np.asarray(model.sample(3, seed=7, labels=asked)) for _ in range(2))
    assert np.array_equal(a, b), "sample with labels: same seed and labels, other output"
    values = {"num_classes": np.full(n, int(k)), "short": z_labels[:-1]}
    for what, bad in BAD_LABELS:
        value = values.get(bad, bad) if isinstance(bad, str) else bad
        call = ((lambda v: model.decode(z, labels=v)) if decodes
                else (lambda v: model.sample(n, seed=0, labels=v)))
        try:
            call(value)
        except ValueError as exc:
            text = str(exc)
            assert "Expected" in text and "Received" in text, (
                f"condition: {what} raised a ValueError without 'Expected ... Received: "
                f"...'. Received: {text!r}")
            continue
        except Exception as exc:
            raise AssertionError(
                f"condition: {what} (labels={value!r}) raised {type(exc).__name__}: {exc}; "
                f"expected a ValueError saying 'Expected ... Received: ...'") from exc
        raise AssertionError(f"condition: {what} (labels={value!r}) was accepted; expected "
                             f"a ValueError saying 'Expected ... Received: ...'")
    return z_labels

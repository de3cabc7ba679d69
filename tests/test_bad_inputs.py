"""Bad input across the public API: each gets an error that names the problem and the fix.

One table, one test: add a row when a new way to get it wrong turns up.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from genwidgets.config import ConfigError, parse_assignments
from genwidgets.data import from_arrays, load_mnist, load_text
from genwidgets.data.text import CharTokenizer
from genwidgets.data.validate import DataError
from genwidgets.registry import UnknownNameError, get_registry
from genwidgets.training import Run

X = np.random.default_rng(0).random((64, 8, 8, 1)).astype("float32")
WORDS = ["hello there friend"] * 20
reg = get_registry
_SOURCES: list = []


def ae_source():
    """A LatentSource over an untrained AE with 2 latent dimensions (built once)."""
    if not _SOURCES:
        from genwidgets.latent import LatentSource

        _SOURCES.append(LatentSource.from_run(Run("ae", "digits", {"latent_dim": 2})))
    return _SOURCES[0]


def endpoint(z):
    from genwidgets.widgets.interpolation_strip import check_endpoint

    return check_endpoint("a", z, 2)


def path(kind, a, b, n):
    from genwidgets.latent import interpolate

    return getattr(interpolate, kind)(a, b, n)


def nan_images():
    x = X.copy()
    x[7, 3, 3, 0] = np.nan
    return x


def write(tmp_path, name, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


# (id, call taking tmp_path, error type, what the message must say)
CASES = [
    ("images of rank 2", lambda t: from_arrays(np.zeros((10, 8))), DataError,
     r"shape \(N, H, W\).*Received: x with shape \(10, 8\).*A single image\? Use x\[None\]"),
    ("images of rank 5", lambda t: from_arrays(np.zeros((2, 2, 2, 2, 2))), DataError,
     r"Received: x with shape \(2, 2, 2, 2, 2\)"),
    ("five channels", lambda t: from_arrays(np.zeros((10, 8, 8, 5))), DataError,
     r"C in \{1, 3\}.*Received: x with shape \(10, 8, 8, 5\)"),
    ("a NaN pixel", lambda t: from_arrays(nan_images()), DataError,
     r"Expected finite pixel values\. Received: x with 1 NaN or inf value\(s\); the first is "
     r"in item 7"),
    ("all inf", lambda t: from_arrays(np.full((10, 8, 8, 1), np.inf)), DataError,
     r"640 NaN or inf"),
    ("huge values", lambda t: from_arrays(np.full((10, 8, 8, 1), 1e6)), DataError,
     r"Expected float pixels in \[0, 1\]\. Received: .*1e\+06.*Fix: pass \(x - x\.min\(\)\)"),
    ("negative pixels", lambda t: from_arrays(np.full((10, 8, 8, 1), -3.0)), DataError,
     r"in \[0, 1\]\. Received: x with values in \[-3, -3\]"),
    ("no images", lambda t: from_arrays(np.zeros((0, 8, 8, 1))), DataError,
     r"at least one image.*\(empty\)"),
    ("strings as images", lambda t: from_arrays(np.array([["a"] * 8] * 8)), DataError,
     r"non-numeric dtype <U1\. For text use"),
    ("ragged images", lambda t: from_arrays([np.zeros((8, 8)), np.zeros((7, 8))]), DataError,
     r"not a regular array"),
    ("labels of the wrong length", lambda t: from_arrays(X, np.zeros(5)), DataError,
     r"one label per item: 64 labels\. Received: 5 labels"),
    ("fractional labels", lambda t: from_arrays(X, np.full(64, 0.5)), DataError,
     r"not whole numbers; the first is y\[0\]=0\.5"),
    ("negative labels", lambda t: from_arrays(X, -np.ones(64)), DataError,
     r"Fix: number the classes 0, 1, 2"),
    ("a text file that is not UTF-8",
     lambda t: load_text(path=write(t, "latin1.txt", "caf\xe9 au lait\n".encode("latin-1") * 9)),
     DataError, r"Expected a UTF-8 text file.*byte 0xe9 at byte offset 3.*re-save the file as "
                r"UTF-8"),
    ("an empty text file", lambda t: load_text(path=write(t, "empty.txt", b"")), DataError,
     r"at least 2 non-blank lines of text \(too-short text\)\. Received: 0"),
    ("a missing text file", lambda t: load_text(path=t / "nope.txt"), DataError,
     r"which does not exist"),
    ("an empty list of texts", lambda t: load_text(texts=[]), DataError,
     r"non-empty list of strings\. Received: an empty list\. Example"),
    ("only blank texts", lambda t: load_text(texts=["   ", ""]), DataError,
     r"Received: 2 item\(s\), all blank"),
    ("one string for a list", lambda t: load_text(texts="just one string"), DataError,
     r"Received: a single str of 15 characters\. Fix: pass texts=\[text\]"),
    ("texts of mixed types", lambda t: load_text(texts=["ok", 3, None]), DataError,
     r"Received: texts\[1\] of type int"),
    ("text length zero", lambda t: load_text(texts=WORDS, seq_len=0), DataError,
     r"seq_len to be an integer >= 2.*Received: seq_len=0"),
    ("text length as a word", lambda t: load_text(texts=WORDS, seq_len="long"), DataError,
     r"Received: seq_len='long'"),
    ("MNIST from a file that is not IDX", lambda t: load_mnist(path=write(t, "x", b"hello")),
     DataError, r"folder of IDX files or an \.npz file.*not an \.npz file"),
    ("MNIST from a missing folder", lambda t: load_mnist(path=t / "nothing"), DataError,
     r"which does not exist"),
    ("token ids as a string", lambda t: CharTokenizer.fit(["abc"]).decode("xyz"), DataError,
     r"integer token ids of shape \(seq_len,\) or \(N, seq_len\)\. Received: ids=str"),
    ("an unknown model", lambda t: reg().model("vea"), UnknownNameError,
     r"Unknown model 'vea'\. Expected one of \[.*\]\. Did you mean 'vae'\?"),
    ("an unknown dataset", lambda t: reg().dataset("digitz"), UnknownNameError,
     r"Did you mean 'digits'\?"),
    ("a setting of the wrong type", lambda t: reg().model("vae").config(latent_dim="two"),
     ConfigError, r"vae: latent_dim must be an integer, e\.g\. latent_dim=3\. Received: "
                  r"latent_dim='two'"),
    ("a misspelt setting", lambda t: reg().model("vae").config(latnt_dim=2), ConfigError,
     r"unknown setting\(s\) \['latnt_dim'\]\. Expected one of"),
    ("a choice not offered", lambda t: reg().model("ae").config(architecture="lstm"),
     ConfigError, r"architecture must be one of \['auto', 'conv', 'dense'\]"),
    ("a negative latent size", lambda t: reg().model("ae").config(latent_dim=-1), ValueError,
     r"latent_dim must be >= 1\. Received: latent_dim=-1"),
    ("a --set without =", lambda t: parse_assignments(["latent_dim"]), ConfigError,
     r"Expected key=value, e\.g\. latent_dim=8\. Received: 'latent_dim'"),
    ("zero epochs", lambda t: Run("ae", "digits", epochs=0), ValueError,
     r"Expected epochs >= 1, an integer\. Received: epochs=0"),
    ("text for an image model", lambda t: Run("gan", load_text(texts=WORDS)), ValueError,
     r"Model 'gan' takes \['image'\] data\. Received: text data"),
    ("a setting that cannot change mid-run", lambda t: Run("ae", "digits").set(latent_dim=3),
     ValueError, r"'latent_dim' cannot change while training\. Expected one of "
                 r"\['learning_rate'\]"),
    ("a negative learning rate", lambda t: Run("ae", "digits").set(learning_rate=-1),
     ValueError, r"learning_rate must be >= 0\. Received: -1"),
    ("a learning rate as a word", lambda t: Run("ae", "digits").set(learning_rate="fast"),
     ConfigError, r"learning_rate must be a number"),
    ("zero steps", lambda t: Run("ae", "digits").step(0), ValueError,
     r"Expected n >= 1, an integer\. Received: n=0"),
    ("a latent vector of the wrong length", lambda t: ae_source().decode(np.zeros((1, 3))),
     ValueError, r"Expected latent vectors of shape \(N, 2\)\. Received: z\.shape=\(1, 3\)"),
    ("a latent vector holding NaN", lambda t: ae_source().decode([np.nan, 0.0]), ValueError,
     r"Expected finite latent vectors\. Received: NaN or inf values"),
    ("a path end of the wrong length", lambda t: endpoint(np.zeros(3)), ValueError,
     r"Expected a to be a finite latent vector of shape \(2,\)\. Received: a of shape "
     r"\(3,\)"),
    ("path steps below the slider's minimum", lambda t: path("lerp", [0, 0], [1, 1], 1),
     ValueError, r"Expected n >= 2 steps \(the path includes both ends\)"),
    ("path ends of two lengths", lambda t: path("slerp", [0, 0], [1, 1, 1], 5), ValueError,
     r"Expected two latent vectors of the same length"),
    ("zero samples", lambda t: ae_source().sample(0), ValueError,
     r"Expected n >= 1 samples\. Received: n=0"),
    ("a map of zero items", lambda t: ae_source().subset(0), ValueError,
     r"Expected max_items to be a positive integer\. Received: max_items=0"),
    ("resuming a folder that is not a run", lambda t: Run.from_folder(t), FileNotFoundError,
     r"Expected a run folder with a readable config\.json\. Received: .*FileNotFoundError"),
    ("a seed that is not a whole number", lambda t: Run("ae", "digits", seed=1.5), ValueError,
     r"Expected seed to be an integer from 0 to 4294967295\. Received: seed=1\.5"),
]


def test_the_table_is_large_enough():
    assert len(CASES) >= 30 and len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("call, error, message", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_bad_input_gets_a_clear_error(call, error, message, tmp_path):
    with pytest.raises(error) as info:
        call(tmp_path)
    assert re.search(message, str(info.value), re.S), str(info.value)

"""The data room: validation errors, IDX / npz / text loaders on tiny files, the tokenizer."""

from __future__ import annotations

import gzip
import os
import struct
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import genwidgets  # noqa: F401  (before anything that may import Keras)
from genwidgets.registry import load_dataset
from genwidgets.data.arrays import from_arrays
from genwidgets.data.images import FASHION_NAMES, load_digits, load_mnist, read_idx
from genwidgets.data.text import (
    CharTokenizer,
    load_python_docs,
    load_text,
    read_text_file,
    split_text,
)
from genwidgets.data.validate import DataError, check_images, check_labels, check_texts
from genwidgets.spec import EOS, PAD, SPECIAL_TOKENS, UNK


# -- check_images ------------------------------------------------------------
def test_check_images_scales_uint8_and_adds_a_channel():
    x = np.array([[[0, 255], [51, 102]]], dtype=np.uint8)
    out = check_images(x)
    assert out.dtype == np.float32 and out.shape == (1, 2, 2, 1)
    assert out.max() == 1.0 and out[0, 1, 0, 0] == pytest.approx(0.2)


def test_check_images_keeps_floats_and_rgb():
    x = np.random.default_rng(0).random((2, 3, 3, 3))
    out = check_images(x)
    assert out.shape == (2, 3, 3, 3) and out.dtype == np.float32
    np.testing.assert_allclose(out, x, rtol=1e-6)


@pytest.mark.parametrize("x, match", [
    (np.zeros((4, 5)), r"shape \(4, 5\).*x\[None\]"),
    (np.zeros((2, 3, 4, 5, 6)), r"\(N, H, W\) or \(N, H, W, C\).*Example"),
    (np.zeros((2, 3, 8, 8)), r"Channels first\? Use x.transpose\(0, 2, 3, 1\)"),
    (np.zeros((0, 8, 8)), r"at least one image.*empty"),
    (np.array([["a"]] * 2, dtype=object)[..., None], r"non-numeric dtype object"),
    (np.array([[["a"]]]), r"non-numeric dtype <U1.*load_text"),
    ("not an array", r"Received: x=str"),
    ([[[0.1, 0.2]], [[0.3]]], r"not a regular array"),
    (np.full((2, 2, 2), 200.0), r"values in \[200, 200\]\. Fix: pass x / 255"),
    (np.full((2, 2, 2), -3.0), r"Fix: pass \(x - x.min\(\)\)"),
    (np.full((2, 2, 2), 7, dtype=np.int64), r"int64 with values in \[7, 7\].*astype\('uint8'\)"),
])
def test_check_images_errors(x, match):
    with pytest.raises(DataError, match=match):
        check_images(x)


def test_check_images_names_nan_count_and_first_item():
    x = np.zeros((5, 2, 2))
    x[3, 0, 0] = np.nan
    x[4, 1, 1] = np.inf
    with pytest.raises(DataError, match=r"2 NaN or inf value\(s\); the first is in item 3"):
        check_images(x, name="pixels")


# -- check_labels / check_texts ----------------------------------------------
def test_check_labels_forms():
    assert check_labels([1, 0, 2], 3).dtype == np.int64
    np.testing.assert_array_equal(check_labels(np.array([[1.0], [2.0]]), 2), [1, 2])
    with pytest.raises(DataError, match=r"3 labels\. Received: 2 labels"):
        check_labels([0, 1], 3)
    with pytest.raises(DataError, match=r"One-hot labels\? Use y.argmax"):
        check_labels(np.eye(3), 3)
    with pytest.raises(DataError, match=r"not whole numbers; the first is y\[1\]=0.5"):
        check_labels([1.0, 0.5], 2)
    with pytest.raises(DataError, match=r"values in \[-1, 2\].*number the classes"):
        check_labels([-1, 2], 2)
    with pytest.raises(DataError, match=r"dtype <U3.*label_names"):
        check_labels(["cat", "dog"], 2)


def test_check_texts_errors():
    assert check_texts(("a", "b")) == ["a", "b"]
    with pytest.raises(DataError, match=r"texts\[1\] of type int"):
        check_texts(["ok", 3])
    with pytest.raises(DataError, match=r"empty list"):
        check_texts([])
    with pytest.raises(DataError, match=r"all blank"):
        check_texts([" ", "\n"])
    with pytest.raises(DataError, match=r"a single str.*texts=\[text\]"):
        check_texts("one long text")
    with pytest.raises(DataError, match=r"Received: dict"):
        check_texts({"a": 1})


# -- digits and arrays -------------------------------------------------------
def test_digits_shape_range_labels():
    data = load_digits()
    assert data.x.shape == (1797, 8, 8, 1) and data.x.dtype == np.float32
    assert data.x.min() == 0.0 and data.x.max() == 1.0
    assert sorted(set(data.y.tolist())) == list(range(10))
    assert data.info.name == "digits" and data.info.shape == (8, 8, 1)
    assert data.info.label_names == tuple("0123456789") and data.info.n_items == 1797
    assert len(load_dataset("digits", limit=10)) == 10
    with pytest.raises(DataError, match=r"limit to be a positive integer"):
        load_digits(limit=0)


def test_from_arrays():
    data = from_arrays(np.full((3, 4, 4, 3), 255, np.uint8), [0, 1, 1], name="mine",
                       label_names=["a", "b"])
    assert data.x.shape == (3, 4, 4, 3) and data.x.max() == 1.0
    assert data.info.name == "mine" and data.info.label_names == ("a", "b")
    assert from_arrays(np.zeros((2, 3, 3))).y is None
    with pytest.raises(DataError, match=r"3 labels\. Received: 2 labels"):
        from_arrays(np.zeros((3, 4, 4)), [0, 1])
    with pytest.raises(DataError, match=r"label 2 needs at least 3 label_names"):
        from_arrays(np.zeros((3, 4, 4)), [0, 1, 2], label_names=["a", "b"])
    with pytest.raises(DataError, match=r"y=None"):
        from_arrays(np.zeros((3, 4, 4)), label_names=["a"])


# -- IDX and npz files -------------------------------------------------------
def idx_bytes(arr: np.ndarray) -> bytes:
    code = {np.uint8: 0x08, np.int32: 0x0C}[arr.dtype.type]
    header = struct.pack(">HBB", 0, code, arr.ndim) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return header + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def write_idx(path, arr, gz):
    data = idx_bytes(arr)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def tiny_mnist(rng, n):
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n).astype(
        np.uint8)


@pytest.mark.parametrize("gz", [True, False])
def test_read_idx_round_trip(tmp_path, gz):
    arr = np.arange(24, dtype=np.int32).reshape(2, 3, 4) - 5
    out = read_idx(write_idx(tmp_path / ("a.idx" + (".gz" if gz else "")), arr, gz))
    np.testing.assert_array_equal(out, arr)
    assert out.dtype == np.int32


def test_read_idx_errors(tmp_path):
    good = idx_bytes(np.zeros((3, 4, 4), np.uint8))
    (tmp_path / "short").write_bytes(good[:-5])
    with pytest.raises(DataError, match=r"Expected 48 bytes.*Received: 43 bytes.*truncated"):
        read_idx(tmp_path / "short")
    (tmp_path / "cut.gz").write_bytes(gzip.compress(good)[:-12])
    with pytest.raises(DataError, match=r"cannot be unpacked.*fetch it again"):
        read_idx(tmp_path / "cut.gz")
    (tmp_path / "notes.txt").write_bytes(b"hello world")
    with pytest.raises(DataError, match=r"Expected an IDX file.*68 65 6c 6c"):
        read_idx(tmp_path / "notes.txt")
    with pytest.raises(DataError, match=r"does not exist"):
        read_idx(tmp_path / "nothing")


def test_load_mnist_from_idx_folder(tmp_path):
    rng = np.random.default_rng(0)
    (xtr, ytr), (xte, yte) = tiny_mnist(rng, 6), tiny_mnist(rng, 4)
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", xtr, True)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", ytr, True)
    write_idx(tmp_path / "t10k-images-idx3-ubyte", xte, False)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", yte, False)
    train = load_mnist(path=tmp_path)
    assert train.x.shape == (6, 28, 28, 1) and train.x.dtype == np.float32
    np.testing.assert_allclose(train.x[..., 0], xtr / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(train.y, ytr)
    test = load_mnist(path=str(tmp_path), split="test", limit=3)
    assert len(test) == 3 and test.info.name == "mnist"
    both = load_dataset("fashion_mnist", path=tmp_path, split="all")
    assert len(both) == 10 and both.info.label_names == FASHION_NAMES
    assert both.info.label_names[0] == "T-shirt/top" and both.info.name == "fashion_mnist"


def test_load_mnist_only_test_files_suggests_split(tmp_path):
    x, y = tiny_mnist(np.random.default_rng(1), 2)
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", x, True)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", y, True)
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte\[\.gz\].*Found: "
                       r"t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz.*split='test'"):
        load_mnist(path=tmp_path)


def test_load_mnist_label_length_mismatch(tmp_path):
    x, y = tiny_mnist(np.random.default_rng(2), 5)
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", x, True)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", y[:4], True)
    with pytest.raises(DataError, match=r"5 labels\. Received: 4 labels"):
        load_mnist(path=tmp_path, split="test", limit=2)


def test_load_mnist_npz(tmp_path):
    rng = np.random.default_rng(3)
    (xtr, ytr), (xte, yte) = tiny_mnist(rng, 5), tiny_mnist(rng, 3)
    np.savez(tmp_path / "mnist.npz", x_train=xtr, y_train=ytr, x_test=xte, y_test=yte)
    data = load_mnist(path=tmp_path / "mnist.npz", split="test")
    np.testing.assert_array_equal(data.y, yte)
    assert len(load_mnist(path=tmp_path / "mnist.npz", split="all")) == 8
    np.savez(tmp_path / "half.npz", x_train=xtr, y_train=ytr)
    with pytest.raises(DataError, match=r"\['x_test', 'y_test'\].*Found: \['x_train', "):
        load_mnist(path=tmp_path / "half.npz", split="test")
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(DataError, match=r"Expected a NumPy .npz file"):
        load_mnist(path=tmp_path / "bad.npz")


def test_load_mnist_argument_errors(tmp_path):
    with pytest.raises(DataError, match=r"kind to be one of"):
        load_mnist(kind="cifar", path=tmp_path)
    with pytest.raises(DataError, match=r"split to be one of.*'valid'"):
        load_mnist(path=tmp_path, split="valid")
    with pytest.raises(DataError, match=r"which does not exist"):
        load_mnist(path=tmp_path / "missing")


def test_keras_download_failure_says_pass_path(tmp_path):
    """A refused connection (an unreachable proxy) and an empty Keras cache."""
    env = {**os.environ, "KERAS_HOME": str(tmp_path), "HTTPS_PROXY": "http://127.0.0.1:9",
           "https_proxy": "http://127.0.0.1:9", "NO_PROXY": "", "no_proxy": ""}
    code = textwrap.dedent("""
        import genwidgets
        from genwidgets.data.images import load_mnist
        from genwidgets.data.validate import DataError
        try:
            load_mnist("mnist")
        except DataError as e:
            print("ERROR:", e)
    """)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, timeout=120)
    assert "ERROR: Could not download mnist from https://" in out.stdout, out.stderr
    assert "pass path=" in out.stdout


# -- text ---------------------------------------------------------------------
def test_tokenizer_fit_encode_decode_round_trip():
    texts = ["abba", "cab", "a"]
    tok = CharTokenizer.fit(texts)
    assert tok.vocab == SPECIAL_TOKENS + ("a", "b", "c")  # by frequency, then char
    ids = tok.encode(texts, seq_len=6)
    assert ids.dtype == np.int32 and ids.shape == (3, 6)
    assert ids[2].tolist() == [4, EOS, PAD, PAD, PAD, PAD]
    assert tok.decode(ids) == texts
    assert tok.decode(ids[0]) == ["abba"]
    assert tok.encode(["abcabc"], 4)[0].tolist() == [4, 5, 6, EOS]  # cut to seq_len - 1
    assert tok.decode(tok.encode(["axb"], 5)) == ["a\ufffdb"]
    assert tok.encode(["axb"], 5)[0, 1] == UNK
    assert CharTokenizer.from_dict(tok.to_dict()) == tok
    assert CharTokenizer.fit(["aab"], max_vocab=5).vocab == SPECIAL_TOKENS + ("a",)


def test_tokenizer_errors():
    tok = CharTokenizer.fit(["ab"])
    with pytest.raises(DataError, match=r"seq_len to be an integer >= 2"):
        tok.encode(["ab"], 1)
    with pytest.raises(DataError, match=r"token ids in \[0, 6\).*Received: ids in \[0, 9\]"):
        tok.decode([0, 9])
    with pytest.raises(DataError, match=r"max_vocab to be an integer >= 5"):
        CharTokenizer.fit(["ab"], max_vocab=4)
    with pytest.raises(DataError, match=r"starts with"):
        CharTokenizer.from_dict({"type": "char", "vocab": ["a", "b"]})


def test_split_text_modes():
    text = "First line.  Still first!\n\n  second line? yes\n"
    assert split_text(text, "line") == ["First line.  Still first!", "second line? yes"]
    assert split_text(text, "sentence") == ["First line.", "Still first!", "second line?",
                                            "yes"]
    assert split_text('He said "Go." Then\nleft.', "sentence") == ['He said "Go."',
                                                                   "Then left."]
    with pytest.raises(DataError, match=r"mode to be one of \('line', 'sentence'\)"):
        split_text(text, "word")


def test_load_text_from_list_pads_to_fixed_length():
    data = load_text(texts=["hello there", "", "  ", "hi", "a longer line of text here"],
                     seq_len=8)
    assert data.x.shape == (3, 8) and data.x.dtype == np.int32 and data.y is None
    assert data.info.modality == "text" and data.info.shape == (8,)
    assert data.info.vocab == data.tokenizer.vocab and data.info.seq_len == 8
    assert data.tokenizer.decode(data.x) == ["hello t", "hi", "a longe"]
    assert (data.x[:, -1] != PAD).sum() == 2  # the two cut items end with EOS at the last slot


def test_load_text_default_seq_len():
    assert load_text(texts=["ab", "cd"]).info.seq_len == 8
    long = load_text(texts=["x" * 500] * 3)
    assert long.info.seq_len == 128
    mid = load_text(texts=["y" * n for n in range(1, 41)])
    assert mid.info.seq_len == int(np.ceil(np.percentile(range(1, 41), 95))) + 1


def test_load_text_files(tmp_path):
    good = tmp_path / "poem.txt"
    good.write_text("\ufeffRoses are red.\nViolets — blue.\n\nSugar is sweet.\n", "utf-8")
    assert read_text_file(good).startswith("Roses")  # the BOM is dropped
    data = load_dataset("text", path=str(good), limit=2)
    assert data.tokenizer.decode(data.x) == ["Roses are red.", "Violets — blue."]
    bad = tmp_path / "latin.txt"
    bad.write_bytes("ok line\ncaf\u00e9 au lait\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"latin.txt'.*not UTF-8: byte 0xe9 at byte offset 11 "
                       r"\(line 2: invalid continuation byte\).*re-save the file as UTF-8"):
        load_text(path=bad)
    with pytest.raises(DataError, match=r"does not exist"):
        read_text_file(tmp_path / "missing.txt")


def test_load_text_errors(tmp_path):
    with pytest.raises(DataError, match=r"exactly one of path=.*Received: neither"):
        load_text()
    with pytest.raises(DataError, match=r"Received: both"):
        load_text(path="a.txt", texts=["a"])
    with pytest.raises(DataError, match=r"too-short text.*Received: 1 from 2 string"):
        load_text(texts=["only one line", "   "])
    one = tmp_path / "one.txt"
    one.write_text("A single line, but two sentences. Here.", "utf-8")
    with pytest.raises(DataError, match=r"too-short text.*mode='sentence'"):
        load_text(path=one)
    assert len(load_text(path=one, mode="sentence")) == 2
    with pytest.raises(DataError, match=r"raise limit \(now 1\)"):
        load_text(texts=["a", "b"], limit=1)
    with pytest.raises(DataError, match=r"mode to be one of"):
        load_text(texts=["a", "b"], mode="words")


def test_python_docs_offline_sentences():
    data = load_python_docs()
    texts = data.tokenizer.decode(data.x)
    assert data.info.name == "python_docs" and data.x.shape[1] == 64
    assert len(texts) > 300 and len(set(texts)) == len(texts)
    assert all(20 <= len(t) <= 63 and t.isascii() and t[-1] in ".!?" for t in texts)
    first = load_python_docs(limit=20)
    assert first.tokenizer.decode(first.x) == texts[:20]  # a deterministic order
    with pytest.raises(DataError, match=r"too-short text.*raise seq_len"):
        load_python_docs(seq_len=16)

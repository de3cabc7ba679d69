"""Image datasets: scikit-learn's digits, and MNIST / Fashion-MNIST from IDX, .npz or the
download (:mod:`genwidgets.data.download`; every file read is bounded: :mod:`.files`).

Images come out as float32 (N, H, W, 1) in [0, 1] with int64 labels.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from genwidgets.data.files import MAX_BYTES, gib, gunzip_reader, read_bytes
from genwidgets.data.validate import DataError, check_images, check_labels
from genwidgets.spec import DataInfo, Dataset

DIGIT_NAMES = tuple(str(i) for i in range(10))
FASHION_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                 "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
KINDS = {"mnist": DIGIT_NAMES, "fashion_mnist": FASHION_NAMES}
SPLITS = ("train", "test", "all")
_PREFIX = {"train": "train", "test": "t10k"}
# IDX type codes: https://yann.lecun.com/exdb/mnist/ ("THE IDX FILE FORMAT")
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _check_limit(limit: Any) -> int | None:
    if limit is not None and (isinstance(limit, bool) or not isinstance(
            limit, (int, np.integer)) or limit < 1):
        raise DataError(f"Expected limit to be a positive integer or None. Received: {limit!r}")
    return None if limit is None else int(limit)


def _dataset(x: Any, y: Any, name: str, label_names: tuple[str, ...]) -> Dataset:
    x = check_images(x)
    y = check_labels(y, len(x))
    if len(y) and y.max() >= len(label_names):
        raise DataError(
            f"Expected labels in [0, {len(label_names)}) for {name}. Received: a label "
            f"{y.max()}. Is this file from another dataset?")
    info = DataInfo(name=name, modality="image", shape=tuple(x.shape[1:]), n_items=len(x),
                    label_names=label_names)
    return Dataset(x=x, info=info, y=y)


def load_digits(limit: int | None = None) -> Dataset:
    """scikit-learn's 1,797 handwritten digits, 8x8 grey (values / 16), labels 0-9. Offline."""
    from sklearn.datasets import load_digits as sklearn_digits

    limit = _check_limit(limit)
    bunch = sklearn_digits()
    x = (bunch.images[:limit] / 16.0).astype(np.float32)
    return _dataset(x, bunch.target[:limit], "digits", DIGIT_NAMES)


def read_idx(path: str | Path) -> np.ndarray:
    """An array from an IDX file (plain or gzip), its header checked against its size.

    A gzip file is unpacked only as far as its header says (and one byte more, to see
    that the data ends there), so a gzip bomb, or a header claiming more than the file
    holds or than :data:`~genwidgets.data.files.MAX_BYTES`, is refused without a large
    allocation."""
    raw = read_bytes(path, "an IDX file")
    packed = raw[:2] == b"\x1f\x8b"
    if packed:
        read = gunzip_reader(raw, str(path))
    else:
        view = memoryview(raw)
        at = [0]

        def read(n: int) -> bytes:
            at[0] += n
            return bytes(view[at[0] - n:at[0]])
    head = read(4)
    if len(head) < 4 or head[:2] != b"\0\0" or head[2] not in _IDX_TYPES or not (
            1 <= head[3] <= 4):
        raise DataError(
            f"Expected an IDX file (a header of two zero bytes, a type code in "
            f"{sorted(_IDX_TYPES)}, and 1 to 4 dims). Received: {str(path)!r} starting with "
            f"bytes {head[:4].hex(' ')}. Is it an MNIST file such as "
            f"train-images-idx3-ubyte.gz?")
    dtype, ndim = np.dtype(_IDX_TYPES[head[2]]), head[3]
    header = 4 + 4 * ndim
    shape = read(4 * ndim)
    if len(shape) < 4 * ndim:
        raise DataError(f"Expected an IDX header of {header} bytes in {str(path)!r}. "
                        f"Received: {4 + len(shape)} bytes. The file is truncated: fetch it "
                        f"again.")
    dims = tuple(int(d) for d in np.frombuffer(shape, ">u4"))
    expected = math.prod(dims) * dtype.itemsize
    if expected > MAX_BYTES or (packed and expected > _MAX_RATIO * len(raw)):
        limit = (f"more than the {gib(MAX_BYTES)} genwidgets reads" if expected > MAX_BYTES
                 else f"more than {gib(len(raw))} of gzip data can hold (damaged)")
        raise DataError(f"Expected an IDX file whose header fits its data. Received: "
                        f"{str(path)!r}, whose header claims dims {dims} ({gib(expected)} "
                        f"of {dtype.itemsize}-byte values), {limit}.")
    data = read(expected + 1)
    if len(data) != expected:
        state = ("truncated: fetch it again" if len(data) < expected else
                 "damaged (more data than its header says" +
                 (": a gzip bomb?)" if packed else ")"))
        got = f"{len(data)}" if len(data) <= expected else f"more than {expected}"
        raise DataError(
            f"Expected {expected} bytes of data after the header of {str(path)!r} "
            f"(dims {dims}, {dtype.itemsize}-byte values). Received: {got} bytes. The file "
            f"is {state}.")
    return np.frombuffer(data, dtype).reshape(dims).astype(dtype.newbyteorder("="))


_MAX_RATIO = 1032  # deflate never packs better than about 1032:1


def _find(folder: Path, split: str, what: str) -> Path | None:
    ndim = 3 if what == "images" else 1
    stem = f"{_PREFIX[split]}-{what}-idx{ndim}-ubyte"
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"),
                 stem.replace("-idx", ".idx") + ".gz"):
        if (folder / name).is_file():
            return folder / name
    return None


def _from_folder(folder: Path, splits: list[str], asked: str) -> tuple[list, list]:
    found = {(s, w): _find(folder, s, w) for s in splits for w in ("images", "labels")}
    missing = [f"{_PREFIX[s]}-{w}-idx{3 if w == 'images' else 1}-ubyte[.gz]"
               for (s, w), p in found.items() if p is None]
    if missing:
        present = sorted(p.name for p in folder.iterdir() if "idx" in p.name or
                         p.suffix in (".gz", ".npz"))
        hint = ""
        if asked != "test" and _find(folder, "test", "images") and _find(folder, "test",
                                                                          "labels"):
            hint = " Only the test files are there: pass split='test' to use them."
        raise DataError(
            f"Expected the IDX files {', '.join(missing)} in {str(folder)!r} for "
            f"split={asked!r}. Found: {', '.join(present) or 'no IDX files'}.{hint}")
    xs = [read_idx(found[s, "images"]) for s in splits]
    ys = [read_idx(found[s, "labels"]) for s in splits]
    return xs, ys


def _from_npz(path: Path, splits: list[str], asked: str) -> tuple[list, list]:
    from genwidgets.data.npz import read_npz

    need = [f"{a}_{s}" for s in splits for a in ("x", "y")]
    try:
        arrays = read_npz(path, need)
    except DataError as e:
        if "Found:" in str(e):  # the file reads, but lacks a split
            raise DataError(f"{e} For split={asked!r} the layout of Keras' mnist.npz is "
                            f"needed.") from None
        raise
    return [arrays[f"x_{s}"] for s in splits], [arrays[f"y_{s}"] for s in splits]


def _from_download(kind: str, splits: list[str], asked: str) -> tuple[list, list]:
    """The files of Keras' copy, fetched into its cache folder when missing."""
    from genwidgets.data import download

    folder = download.fetch(kind, splits)
    if kind == "mnist":
        return _from_npz(folder / "mnist.npz", splits, asked)
    return _from_folder(folder / "fashion-mnist", splits, asked)


def load_mnist(kind: str = "mnist", path: str | Path | None = None, split: str = "train",
               limit: int | None = None) -> Dataset:
    """MNIST or Fashion-MNIST, 28x28 grey, from ``path`` (a folder of IDX files or an .npz)
    or, when ``path`` is None, from Keras' copy, downloaded with a progress bar into
    ``~/.keras/datasets`` when missing (offline: an error that says how to get it)."""
    if kind not in KINDS:
        raise DataError(f"Expected kind to be one of {tuple(KINDS)}. Received: kind={kind!r}")
    if split not in SPLITS:
        raise DataError(f"Expected split to be one of {SPLITS}. Received: split={split!r}")
    limit = _check_limit(limit)
    splits = ["train", "test"] if split == "all" else [split]
    if path is None:
        xs, ys = _from_download(kind, splits, split)
    else:
        path = Path(path)
        if path.is_dir():
            xs, ys = _from_folder(path, splits, split)
        elif path.suffix == ".npz" and path.exists():  # read as a regular file, or refused
            xs, ys = _from_npz(path, splits, split)
        else:
            state = "is not an .npz file" if path.exists() else "does not exist"
            raise DataError(
                f"Expected path to be a folder of IDX files or an .npz file. Received: "
                f"path={str(path)!r}, which {state}.")
    for s, x, y in zip(splits, xs, ys):
        check_labels(y, len(x), name=f"the {s} labels")
    if len({x.shape[1:] for x in xs}) > 1:
        raise DataError(f"Expected train and test images of one shape. Received: "
                        f"{[x.shape for x in xs]}. Load one split at a time.")
    x, y = np.concatenate(xs)[:limit], np.concatenate(ys)[:limit]
    return _dataset(x, y, kind, KINDS[kind])

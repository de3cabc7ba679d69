"""Validation of user data: images, labels and texts, with errors that say the fix.

Each check returns the data in the one form the rest of genwidgets uses, or raises
:class:`DataError` naming what is wrong, the form expected and an example.
"""

from __future__ import annotations

import reprlib
from typing import Any

import numpy as np

IMAGE_FORM = (
    "Expected images as an array of shape (N, H, W) or (N, H, W, C) with C in {1, 3}: "
    "uint8 in [0, 255] or floats in [0, 1]. Example: x of shape (100, 28, 28), dtype uint8"
)
_MAX_LABEL = 2**31 - 1


class DataError(ValueError):
    """The data cannot be used as given; the message says why and how to fix it."""


def _describe(x: Any) -> str:
    shape = getattr(x, "shape", None)
    dtype = getattr(x, "dtype", None)
    if shape is not None and dtype is not None:
        return f"array of shape {tuple(shape)}, dtype {dtype}"
    return type(x).__name__


def as_array(x: Any, name: str, form: str) -> np.ndarray:
    if isinstance(x, (str, bytes)):
        raise DataError(f"{form}. Received: {name}={type(x).__name__} {str(x)[:40]!r}")
    try:
        return np.asarray(x)
    except (ValueError, TypeError, OverflowError) as e:
        raise DataError(
            f"{form}. Received: {name}={_describe(x)} that is not a regular array "
            f"(rows of different lengths?): {e}"
        ) from None


def _first_bad(mask: np.ndarray) -> tuple[int, int]:
    """Count of bad values and the index of the first item (along axis 0) holding one."""
    per_item = mask.reshape(mask.shape[0], -1).any(axis=1)
    return int(mask.sum()), int(np.argmax(per_item))


def check_images(x: Any, *, name: str = "x") -> np.ndarray:
    """Return images as float32 of shape (N, H, W, C) in [0, 1], or raise DataError.

    Accepts (N, H, W) (a channel axis is added) or (N, H, W, C) with C in {1, 3}.
    uint8 is divided by 255; floats must already lie in [0, 1]; other integers must be 0 or 1.
    """
    arr = as_array(x, name, IMAGE_FORM)
    if arr.dtype.kind not in "biuf":
        hint = ""
        if arr.dtype.kind in "USO":
            hint = " For text use genwidgets.data.text.load_text(texts=[...])."
        raise DataError(
            f"{IMAGE_FORM}. Received: {name} with non-numeric dtype {arr.dtype}.{hint}")
    if arr.ndim not in (3, 4) or (arr.ndim == 4 and arr.shape[-1] not in (1, 3)):
        hint = ""
        if arr.ndim == 2:
            hint = (" A single image? Use x[None]. Flat rows of pixels? "
                    "Use x.reshape(len(x), height, width).")
        elif arr.ndim == 4 and arr.shape[1] in (1, 3):
            hint = " Channels first? Use x.transpose(0, 2, 3, 1)."
        raise DataError(f"{IMAGE_FORM}. Received: {name} with shape {arr.shape}.{hint}")
    if arr.size == 0:
        raise DataError(
            f"Expected at least one image with at least one pixel. Received: {name} with "
            f"shape {arr.shape} (empty). Check that the data loaded, e.g. print(len({name})).")
    if arr.ndim == 3:
        arr = arr[..., None]
    if arr.dtype == np.uint8:
        return arr.astype(np.float32) / np.float32(255.0)
    if arr.dtype.kind == "b":
        return arr.astype(np.float32)
    if arr.dtype.kind in "iu":
        lo, hi = int(arr.min()), int(arr.max())
        if lo < 0 or hi > 1:
            raise DataError(
                f"Expected uint8 pixels in [0, 255] or values in [0, 1]. Received: {name} of "
                f"dtype {arr.dtype} with values in [{lo}, {hi}]. Fix: pass "
                f"{name}.astype('uint8') for 0..255 pixels, or {name} / {hi} for floats.")
        return arr.astype(np.float32)
    bad = ~np.isfinite(arr)
    if bad.any():
        count, first = _first_bad(bad)
        raise DataError(
            f"Expected finite pixel values. Received: {name} with {count} NaN or inf "
            f"value(s); the first is in item {first}. Fix: drop or repair those items, "
            f"e.g. {name}[np.isfinite({name}).reshape(len({name}), -1).all(axis=1)].")
    lo, hi = float(arr.min()), float(arr.max())
    if lo < 0.0 or hi > 1.0:
        if lo >= 0.0 and hi <= 255.0:
            fix = f"{name} / 255"
        else:
            fix = f"({name} - {name}.min()) / ({name}.max() - {name}.min())"
        raise DataError(
            f"Expected float pixels in [0, 1]. Received: {name} with values in "
            f"[{lo:.4g}, {hi:.4g}]. Fix: pass {fix}.")
    return np.ascontiguousarray(arr, dtype=np.float32)


def check_labels(y: Any, n: int, *, name: str = "y") -> np.ndarray:
    """Return labels as int64 of shape (n,) (class indices >= 0), or raise DataError."""
    form = f"Expected {name} as class indices: integers >= 0, one per item, shape ({n},)"
    arr = as_array(y, name, form)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        hint = " One-hot labels? Use y.argmax(axis=1)." if arr.ndim == 2 else ""
        raise DataError(f"{form}. Received: {name} with shape {arr.shape}.{hint}")
    if len(arr) != n:
        raise DataError(
            f"Expected one label per item: {n} labels. Received: {len(arr)} labels "
            f"({name} has shape {arr.shape}, the images {n} items). Fix: pass the labels "
            f"that belong to these images, in the same order.")
    if arr.dtype.kind not in "biuf":
        raise DataError(
            f"{form}. Received: {name} of dtype {arr.dtype}. Names as labels? Map them to "
            f"numbers, e.g. names, {name} = np.unique({name}, return_inverse=True), and pass "
            f"label_names=names.")
    if arr.dtype.kind == "f":
        bad = ~np.isfinite(arr) | (arr != np.round(arr)) if n else np.zeros(0, bool)
        if bad.any():
            first = int(np.argmax(bad))
            raise DataError(
                f"{form}. Received: {name} with {int(bad.sum())} value(s) that are not whole "
                f"numbers; the first is {name}[{first}]={arr[first].item()!r}.")
    lo, hi = (arr.min().item(), arr.max().item()) if n else (0, 0)
    if lo < 0 or hi > _MAX_LABEL:
        raise DataError(
            f"{form}. Received: {name} with values in [{lo:g}, {hi:g}]. "
            f"Fix: number the classes 0, 1, 2, ...")
    return arr.astype(np.int64)


def check_texts(texts: Any) -> list[str]:
    """Return ``texts`` as a list of str, or raise DataError (not a list, empty, all blank)."""
    example = "Example: texts=['the cat sat', 'a dog ran']"
    if isinstance(texts, str):
        raise DataError(
            f"Expected a list of strings. Received: a single str of {len(texts)} characters. "
            f"Fix: pass texts=[text], or split it with split_text(text, 'line').")
    if isinstance(texts, np.ndarray) and texts.ndim == 1:
        texts = texts.tolist()
    if not isinstance(texts, (list, tuple)):
        raise DataError(
            f"Expected a list of strings. Received: {_describe(texts)}. Fix: list(texts). "
            f"{example}")
    if not texts:
        raise DataError(f"Expected a non-empty list of strings. Received: an empty list. {example}")
    for i, item in enumerate(texts):
        if not isinstance(item, str):
            raise DataError(
                f"Expected every item to be a str. Received: texts[{i}] of type "
                f"{type(item).__name__} ({reprlib.repr(item)}). Fix: [str(t) for t in texts], "
                f"or decode bytes with t.decode('utf-8').")
    if not any(item.strip() for item in texts):
        raise DataError(
            f"Expected some text. Received: {len(texts)} item(s), all blank. {example}")
    return list(texts)

"""Your own images as arrays: ``from_arrays(x, y)`` validates them into a Dataset;
``npz_dataset(path)`` reads them from a ``.npz`` file (the ``images`` dataset)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from genwidgets.data.validate import DataError, check_images, check_labels
from genwidgets.spec import DataInfo, Dataset


def from_arrays(x: Any, y: Any = None, *, name: str = "arrays",
                label_names: Sequence[str] | None = None) -> Dataset:
    """A Dataset of images ``x`` ((N, H, W) or (N, H, W, C); uint8 or floats in [0, 1])
    with optional labels ``y`` (N class indices) and ``label_names`` (one per class)."""
    if not isinstance(name, str) or not name.strip():
        raise DataError(f"Expected name to be a non-empty str. Received: name={name!r}")
    images = check_images(x)
    labels = None if y is None else check_labels(y, len(images))
    names = None
    if label_names is not None:
        if isinstance(label_names, str) or not all(isinstance(s, str) for s in label_names):
            raise DataError(
                f"Expected label_names as a list of str, one per class. Received: "
                f"{label_names!r}. Example: label_names=['cat', 'dog']")
        names = tuple(label_names)
        if labels is None:
            raise DataError("Expected y with label_names: the names describe the labels. "
                            "Received: y=None. Fix: pass y=, or drop label_names.")
        if labels.max() >= len(names):
            raise DataError(
                f"Expected one name per class: label {labels.max()} needs at least "
                f"{labels.max() + 1} label_names. Received: {len(names)} names.")
    info = DataInfo(name=name, modality="image", shape=tuple(images.shape[1:]),
                    n_items=len(images), label_names=names)
    return Dataset(x=images, info=info, y=labels)


def npz_dataset(path: Any, size: int | None = None, color: str | None = None,
                limit: int | None = None) -> Dataset:
    """The ``images`` dataset from a ``.npz`` file: ``x`` (N, H, W) or (N, H, W, C), uint8
    or other integers in [0, 255], or floats in [0, 1]; optional ``y`` (N labels) and
    ``label_names`` (strings). Read within bounds, never unpickled
    (:func:`genwidgets.data.npz.read_npz`); ``size`` resizes, ``color`` converts."""
    import numpy as np

    from genwidgets.data.files import MAX_BYTES, gib
    from genwidgets.data.npz import read_npz

    arrays = read_npz(path, [], ["x", "y", "label_names"])
    if "x" not in arrays:
        from genwidgets.data.npz import npz_keys

        raise DataError(f"Expected an array named x (the images) in {str(path)!r}. Found: "
                        f"{sorted(npz_keys(path)[1])}. Fix: np.savez('data.npz', x=images, "
                        f"y=labels) (y optional).")
    x = arrays["x"]
    if x.dtype.kind in "iu" and x.dtype != np.uint8:  # pixels as 0..255 in any integer type
        lo, hi = (int(x.min()), int(x.max())) if x.size else (0, 0)
        if lo < 0 or hi > 255:
            raise DataError(f"Expected integer pixels in [0, 255] in {str(path)!r}. Received: "
                            f"x of dtype {x.dtype} with values in [{lo}, {hi}]. Fix: save "
                            f"x.astype('uint8') for 0..255 pixels, or x / {hi} as floats.")
        x = x.astype(np.uint8)
    images = check_images(x)
    y = arrays.get("y")
    if y is not None:
        check_labels(y, len(images))
    names = arrays.get("label_names")
    if names is not None:
        if names.ndim != 1 or names.dtype.kind != "U":
            raise DataError(f"Expected label_names as a 1-D array of strings in "
                            f"{str(path)!r}. Received: shape {names.shape}, dtype "
                            f"{names.dtype}. Example: label_names=np.array(['cat', 'dog'])")
        names = [str(n) for n in names]
    images, y = images[:limit], (None if y is None else y[:limit])
    if color == "gray" and images.shape[-1] == 3:
        images = (images @ np.float32([0.299, 0.587, 0.114]))[..., None]
    elif color == "rgb" and images.shape[-1] == 1:
        images = np.repeat(images, 3, axis=-1)
    if size is not None and images.shape[1:3] != (size, size):
        if len(images) * size * size * images.shape[-1] * 4 > MAX_BYTES:
            raise DataError(f"Expected images that fit in {gib(MAX_BYTES)} as floats. "
                            f"Received: {len(images):,} at size={size}. Fix: a smaller "
                            f"size= or limit=.")
        images = _resize(images, size)
    return from_arrays(np.clip(images, 0.0, 1.0), y, name="images", label_names=names)


def _resize(images: Any, size: int) -> Any:
    """Float images (N, H, W, C) resized to (N, size, size, C), each channel by Pillow."""
    import numpy as np
    from PIL import Image

    out = np.empty((len(images), size, size, images.shape[-1]), np.float32)
    for i, image in enumerate(images):
        for c in range(images.shape[-1]):
            plane = Image.fromarray(np.ascontiguousarray(image[..., c], np.float32))  # "F"
            out[i, ..., c] = np.asarray(plane.resize((size, size), Image.Resampling.BILINEAR))
    return out

"""Your own images as arrays: ``from_arrays(x, y)`` validates them into a Dataset."""

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

"""A conditional model's training items: images with their labels, indexed together.

A model whose spec claims the ``"condition"`` capability trains on ``fit((x, labels))``.
:func:`conditioned` checks the data have labels a model can learn from (a clear message
otherwise, before anything is built or written) and pairs them; the run splits, cuts and
orders the pair like a plain array, and the worker hands each batch's ``(x, labels)`` to fit.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from genwidgets.spec import Dataset, ModelSpec


class LabelledItems:
    """Items ``x`` and their int32 ``labels``, indexed as one (a slice or an index array
    gives another ``LabelledItems``); :attr:`inputs` is what fit takes."""

    def __init__(self, x: Any, labels: Any):
        if len(x) != len(labels):
            raise ValueError(f"Expected one label per item. Received: {len(x)} items, "
                             f"{len(labels)} labels")
        self.x, self.labels = x, np.asarray(labels, dtype="int32")

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, index) -> LabelledItems:
        return LabelledItems(self.x[index], self.labels[index])

    @property
    def inputs(self) -> tuple[Any, np.ndarray]:
        return self.x, self.labels

    def __repr__(self) -> str:
        return f"LabelledItems({len(self)} items)"


def fit_inputs(items: Any) -> Any:
    """What fit takes for ``items``: the pair ``(x, labels)``, or the plain items."""
    return items.inputs if isinstance(items, LabelledItems) else items


def conditioned(spec: ModelSpec, dataset: Dataset) -> tuple[Dataset, Any]:
    """``(dataset, items)`` to train ``spec`` on: the plain items for a model without the
    ``"condition"`` capability; for one with it, the items paired with their labels, and
    the dataset given label names ("0", "1", ...) where it had labels but no names.

    Data without labels, or with labels a model cannot take, raise ValueError saying so.
    """
    if "condition" not in spec.capabilities:
        return dataset, dataset.x
    info, y = dataset.info, dataset.y
    fix = ("Pick labelled data (digits, mnist, fashion_mnist, an .npz with y, a .zip with "
           "a folder per class), or a model without labels")
    if y is None:
        raise ValueError(
            f"Model {spec.name!r} is conditioned on labels: expected data with a label per "
            f"item. Received: {info.modality} data {info.name!r} without labels. {fix}.")
    labels = np.asarray(y)
    if labels.ndim != 1 or len(labels) != len(dataset.x):
        raise ValueError(f"Model {spec.name!r}: expected one label per item, shape "
                         f"({len(dataset.x)},). Received: labels of shape {labels.shape}.")
    if labels.dtype.kind not in "iu" or (labels.size and labels.min() < 0):
        raise ValueError(f"Model {spec.name!r}: expected labels as class indices 0, 1, ... "
                         f"Received: labels of dtype {labels.dtype}"
                         + (f", min {labels.min()}" if labels.dtype.kind in "iuf" else ""))
    names = info.label_names
    if names is None:
        count = int(labels.max()) + 1 if labels.size else 0
        names = tuple(str(i) for i in range(count))
        dataset = dataclasses.replace(dataset, info=dataclasses.replace(info,
                                                                        label_names=names))
    if len(names) < 2:
        raise ValueError(f"Model {spec.name!r}: expected labels of at least two classes. "
                         f"Received: {len(names)} class(es) in {info.name!r}. {fix}.")
    if labels.size and labels.max() >= len(names):
        raise ValueError(f"Model {spec.name!r}: expected labels in [0, {len(names)}) (one "
                         f"per label name). Received: a label {int(labels.max())}.")
    return dataset, LabelledItems(dataset.x, labels)

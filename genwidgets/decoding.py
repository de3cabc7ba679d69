"""What a model plugin's ``encode`` / ``decode`` / ``sample`` share (NumPy only, no Keras).

- :func:`batched` / :func:`padded_calls`: a network over many items in batches of a few
  fixed sizes (the last padded), so a compiled step is traced for few shapes.
- :func:`sigmoid`, :func:`tanh_to_unit`, :func:`greedy_tokens`: a decoder's raw output as
  the items the widgets show: pixel probabilities in [0, 1], or token ids.
- :func:`model_labels`: the ``labels=`` a conditional model was given, checked (the
  ``"condition"`` capability).

The built-in plugins use these; so may yours (``from genwidgets.decoding import batched``).
``genwidgets.latent.compiled`` maps a decoder's output with the same functions.
"""

from __future__ import annotations

import numpy as np

from genwidgets.spec import BOS, EOS, PAD


BUCKETS = (16, 64, 256)  # batch sizes a compiled net is called with


def batch_plan(n: int, buckets=BUCKETS) -> list[tuple[int, int]]:
    """``(start, size)`` of each padded batch that covers ``n`` items: the largest bucket
    while that many are left, then the smallest bucket that holds the rest."""
    plan, start, top = [], 0, buckets[-1]
    while start < n:
        left = n - start
        size = top if left >= top else next(b for b in buckets if b >= left)
        plan.append((start, size))
        start += size
    return plan


def padded_calls(fn, x, buckets=BUCKETS) -> np.ndarray:
    """``fn`` over ``x`` in batches of the sizes in ``buckets`` (the last one padded with
    copies of the last item), the padding cut off again: each size is seen once.

    ``x`` is an array or a tuple of arrays of the same length (``fn`` gets the same
    structure); ``fn`` returns an array (NumPy, JAX or a Keras tensor).
    """
    arrays = tuple(np.asarray(a) for a in x) if isinstance(x, tuple) else (np.asarray(x),)
    n = len(arrays[0])
    if n == 0:
        raise ValueError("Expected at least one item. Received: an empty array")
    out = []
    for start, size in batch_plan(n, buckets):
        chunks = [a[start:start + size] for a in arrays]
        pad = size - len(chunks[0])
        if pad:
            chunks = [np.concatenate([c, np.repeat(c[-1:], pad, axis=0)]) for c in chunks]
        result = fn(tuple(chunks) if isinstance(x, tuple) else chunks[0])
        out.append(np.asarray(result)[: size - pad])
    return np.concatenate(out)


def batched(fn, x, batch_size: int) -> np.ndarray:
    """:func:`padded_calls` with the powers of two up to ``batch_size`` as the sizes: a
    compiled step is traced for at most log2(batch_size) + 1 shapes."""
    top = max(1, int(batch_size))
    return padded_calls(fn, x, tuple(1 << i for i in range(top.bit_length())
                                     if 1 << i < top) + (top,))


def sigmoid(logits: np.ndarray) -> np.ndarray:
    """Bernoulli logits -> pixel probabilities in [0, 1] (float32)."""
    return (1.0 / (1.0 + np.exp(-np.asarray(logits)))).astype("float32")


def tanh_to_unit(images: np.ndarray) -> np.ndarray:
    """Images in [-1, 1] (a tanh generator) -> [0, 1] (float32)."""
    return np.clip((np.asarray(images) + 1.0) / 2.0, 0.0, 1.0).astype("float32")


def greedy_tokens(logits: np.ndarray) -> np.ndarray:
    """Per-position logits (n, L, V) -> the likeliest ids (never BOS, which only starts a
    sentence), PAD after the first EOS."""
    logits = np.array(logits, dtype="float32")
    logits[..., BOS] = -np.inf
    ids = logits.argmax(-1).astype("int32")
    ids[np.cumsum(ids == EOS, axis=1) - (ids == EOS) > 0] = PAD
    return ids


def model_labels(labels, n: int, num_classes: int, *, seed: int = 0,
                 one_label: bool = False) -> np.ndarray:
    """The ``labels=`` a conditional model's ``decode`` / ``sample`` / ``encode`` was given,
    as int32 class indices, one per item (``n``), checked against ``num_classes``.

    ``None``: any label, each item's drawn uniformly from ``seed`` (with ``one_label``, one
    label drawn for every item); one int: that label for every item; an array: one label
    per item. Anything else raises ValueError ("Expected ... Received").
    """
    n, k = int(n), int(num_classes)
    if labels is None:
        drawn = np.random.default_rng([int(seed), 104729]).integers(0, k, 1 if one_label else n)
        return np.broadcast_to(drawn, (n,)).astype("int32")
    if isinstance(labels, (bool, np.bool_)) or isinstance(labels, (str, bytes)):
        raise ValueError(f"Expected labels as class indices in [0, {k}) (an int, or one per "
                         f"item). Received: labels={labels!r}")
    array = np.asarray(labels)
    if array.ndim == 0:
        array = np.full(n, array)
    if array.dtype.kind == "f" and np.all(np.isfinite(array)) and np.all(array == np.round(array)):
        array = array.astype("int64")
    if array.dtype.kind not in "iu":
        raise ValueError(f"Expected labels as integer class indices in [0, {k}). Received: "
                         f"labels of dtype {array.dtype} ({_short(labels)})")
    if array.shape != (n,):
        raise ValueError(f"Expected one label per item, shape ({n},). Received: labels of "
                         f"shape {array.shape}")
    if array.size and (array.min() < 0 or array.max() >= k):
        bad = array[(array < 0) | (array >= k)][0]
        raise ValueError(f"Expected labels in [0, {k}) (this model knows {k} classes). "
                         f"Received: a label {int(bad)}")
    return array.astype("int32")


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."

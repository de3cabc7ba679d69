"""What a model plugin's ``encode`` / ``decode`` / ``sample`` share (NumPy only, no Keras).

- :func:`batched`: a network over many items in batches of a few fixed sizes (the last
  padded), so a compiled step is traced for few shapes.
- :func:`sigmoid`, :func:`tanh_to_unit`, :func:`greedy_tokens`: a decoder's raw output as
  the items the widgets show: pixel probabilities in [0, 1], or token ids.

The built-in plugins use these; so may yours (``from genwidgets.decoding import batched``).
``genwidgets.latent.compiled`` maps a decoder's output with the same functions.
"""

from __future__ import annotations

import numpy as np

from genwidgets.spec import EOS, PAD


def batched(fn, x, batch_size: int) -> np.ndarray:
    """``fn`` over ``x`` in batches of ``batch_size`` items, or of the next power of two
    above ``len(x)`` when fewer; the last batch is padded by repeating its final item and
    the padding is cut off again.

    ``x`` is an array or a tuple of arrays of the same length (``fn`` gets the same
    structure); ``fn`` returns an array (NumPy, JAX or a Keras tensor).
    """
    arrays = tuple(np.asarray(a) for a in x) if isinstance(x, tuple) else (np.asarray(x),)
    n = len(arrays[0])
    if n == 0:
        raise ValueError("Expected at least one item. Received: an empty array")
    size = min(int(batch_size), 1 << (n - 1).bit_length())
    out = []
    for start in range(0, n, size):
        chunks = [a[start:start + size] for a in arrays]
        pad = size - len(chunks[0])
        if pad:
            chunks = [np.concatenate([c, np.repeat(c[-1:], pad, axis=0)]) for c in chunks]
        result = fn(tuple(chunks) if isinstance(x, tuple) else chunks[0])
        out.append(np.asarray(result)[: size - pad])
    return np.concatenate(out)


def sigmoid(logits: np.ndarray) -> np.ndarray:
    """Bernoulli logits -> pixel probabilities in [0, 1] (float32)."""
    return (1.0 / (1.0 + np.exp(-np.asarray(logits)))).astype("float32")


def tanh_to_unit(images: np.ndarray) -> np.ndarray:
    """Images in [-1, 1] (a tanh generator) -> [0, 1] (float32)."""
    return np.clip((np.asarray(images) + 1.0) / 2.0, 0.0, 1.0).astype("float32")


def greedy_tokens(logits: np.ndarray) -> np.ndarray:
    """Per-position logits (n, L, V) -> the likeliest ids, PAD after the first EOS."""
    ids = np.asarray(logits).argmax(-1).astype("int32")
    ids[np.cumsum(ids == EOS, axis=1) - (ids == EOS) > 0] = PAD
    return ids

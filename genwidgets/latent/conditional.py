"""What a conditional model's views ask of a :class:`~genwidgets.latent.LatentSource`:
samples of a chosen label and the "same z, every label" sheet (style held, class changed).

The model calls go through the source (``decode(z, labels=...)``, ``sample(...,
labels=...)``), so they work on a live run between two batches as on a saved one.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from genwidgets.latent.grids import label_rows

MAX_COLUMNS = 32  # latents a side of the "every label" sheet at most
ANY = -1  # the label picker's "any": each sample's label is the model's draw


def label_choices(source: Any) -> list[tuple[str, int]]:
    """The label picker's options: ``("any", ANY)`` (unconditional sampling), then each
    label name with its class index; only ``("any", ANY)`` for a model without labels."""
    names = source.label_names if source.conditional else None
    return [("any", ANY), *((str(name), i) for i, name in enumerate(names or ()))]


def sample_of(source: Any, n: int, seed: int, label: int = ANY) -> Any:
    """``n`` samples of class ``label`` (``ANY``: the model's own draw of labels)."""
    if label == ANY:
        return source.sample(n, seed=seed)
    return source.sample(n, seed=seed, labels=int(label))


def every_label(source: Any, n: int, seed: int = 0) -> np.ndarray:
    """``n`` draws of z from N(0, I) (``seed``), each decoded as every class: an array
    (num_classes, n, H, W, C), row ``k`` the class ``k``, column ``j`` the draw ``j``."""
    if not source.conditional:
        raise ValueError(
            f"{source.spec.name} is not conditioned on labels. Expected a model whose "
            f"capabilities include 'condition'. Received: "
            f"capabilities={sorted(source.capabilities)}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= MAX_COLUMNS:
        raise ValueError(f"Expected 1 <= n <= {MAX_COLUMNS} latents. Received: n={n!r}")
    k = len(source.label_names or ())
    z = np.random.default_rng(int(seed)).standard_normal((int(n), source.latent_dim))
    rows, labels = label_rows(z.astype("float32"), k)
    return np.asarray(source.decode_raw(rows, labels)).reshape(k, int(n), *source.info.shape)

"""Attribute vectors: a direction in the latent space between two groups of items.

The mean latent of group B minus the mean latent of group A is a direction; adding
``alpha`` times it to a point moves that point "from A towards B" (``alpha`` 1: as far as
the groups' means lie apart). The groups are items: two labels, or two selections on the
map. Plain NumPy on latent vectors the model made; decoding them is the caller's.
"""

from __future__ import annotations

import dataclasses

import numpy as np

ALPHAS = tuple(float(a) for a in np.linspace(-2.0, 2.0, 9))  # the strip: -2 .. +2


@dataclasses.dataclass(frozen=True)
class Direction:
    """``vector`` = mean latent of ``to`` minus that of ``start``; ``name`` says which."""

    name: str
    vector: np.ndarray
    start: str
    to: str
    n_start: int
    n_to: int

    @property
    def norm(self) -> float:
        return float(np.linalg.norm(self.vector))


def _group(name: str, z) -> np.ndarray:
    z = np.asarray(z, dtype="float32")
    if z.ndim != 2 or not len(z):
        raise ValueError(f"Expected group {name} to hold at least one latent vector, as an "
                         f"array (n, latent_dim). Received: shape {z.shape}")
    if not np.all(np.isfinite(z)):
        raise ValueError(f"Expected finite latent vectors in group {name}. Received: "
                         f"{int((~np.isfinite(z)).any(1).sum())} of {len(z)} with NaN or inf")
    return z


def direction(z_start, z_to, *, start: str = "A", to: str = "B",
              name: str | None = None) -> Direction:
    """The direction from the group of latents ``z_start`` to the group ``z_to``."""
    a, b = _group(start, z_start), _group(to, z_to)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"Expected both groups in the same latent space. Received: "
                         f"{a.shape[1]} and {b.shape[1]} dimensions")
    vector = b.mean(0) - a.mean(0)
    return Direction(name or f"{start} → {to}", vector.astype("float32"), start, to,
                     len(a), len(b))


def along(z, vector, alphas=ALPHAS) -> np.ndarray:
    """``z + alpha * vector`` for each alpha: (len(alphas), latent_dim)."""
    z = np.asarray(z, dtype="float32").reshape(-1)
    vector = np.asarray(vector, dtype="float32").reshape(-1)
    if z.shape != vector.shape:
        raise ValueError(f"Expected the point and the direction in the same latent space. "
                         f"Received: {z.shape[0]} and {vector.shape[0]} dimensions")
    alphas = np.asarray(alphas, dtype="float32").reshape(-1, 1)
    return z[None, :] + alphas * vector[None, :]


def class_means(z, labels) -> dict[int, np.ndarray]:
    """Each label's mean latent vector."""
    z, labels = np.asarray(z, dtype="float32"), np.asarray(labels).reshape(-1)
    return {int(c): z[labels == c].mean(0) for c in np.unique(labels)}


def transfer(z, labels, start: int, to: int) -> np.ndarray:
    """The latents of the items labelled ``start`` moved by the direction ``start -> to``
    (``alpha`` 1): what the attribute-transfer figure decodes and judges."""
    means = class_means(z, labels)
    for c in (start, to):
        if c not in means:
            raise ValueError(f"Expected items labelled {c}. Received: labels "
                             f"{sorted(means)}")
    z = np.asarray(z, dtype="float32")
    return z[np.asarray(labels).reshape(-1) == start] + (means[to] - means[start])

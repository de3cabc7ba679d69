"""Grids of latent vectors to decode into a sheet of samples (NumPy only).

Both grids are row-major ``(n * n, d)``: row ``i``, column ``j`` is item ``i * n + j``, so
``decode(grid).reshape(n, n, ...)`` lays out like the picture it describes. So are the
rows of :func:`label_rows` (a conditional model's "same z, every label").
"""

from __future__ import annotations

import numpy as np

from genwidgets.latent.interpolate import perpendicular


def _size(n) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"Expected a grid of n >= 2 points a side. Received: n={n!r}")
    return int(n)


def manifold_grid(z, n: int, quantiles: tuple[float, float] = (0.05, 0.95)) -> np.ndarray:
    """An ``n`` x ``n`` grid over a 2-D latent, spaced by the quantiles of ``z`` (N, 2).

    Each axis steps through the latents' quantiles from ``quantiles[0]`` to
    ``quantiles[1]``, so the grid covers where the data lie, densely where they are dense
    (Kingma and Welling's manifold figure, with the data's quantiles for the prior's).
    Rows go from high to low second coordinate (up is up), columns from low to high first.
    """
    z = np.asarray(z, dtype="float64")
    if z.ndim != 2 or z.shape[1] != 2 or len(z) < 1:
        raise ValueError(f"Expected the latents of a 2-D latent space, shape (N, 2) with "
                         f"N >= 1. Received: z.shape={z.shape}. Use plane_grid for "
                         f"larger latent spaces.")
    if not np.all(np.isfinite(z)):
        raise ValueError("Expected finite latents. Received: NaN or inf values")
    lo, hi = quantiles
    if not 0.0 <= lo < hi <= 1.0:
        raise ValueError(f"Expected quantiles (lo, hi) with 0 <= lo < hi <= 1. Received: "
                         f"quantiles={quantiles!r}")
    n = _size(n)
    q = np.linspace(lo, hi, n)
    xs, ys = np.quantile(z[:, 0], q), np.quantile(z[:, 1], q)[::-1]
    gx, gy = np.meshgrid(xs, ys)  # gx[i, j] = xs[j], gy[i, j] = ys[i]
    return np.stack([gx.ravel(), gy.ravel()], axis=1).astype("float32")


def plane_grid(points, n: int) -> np.ndarray:
    """An ``n`` x ``n`` grid on the plane through two or three latent points, shape (n*n, d).

    Three points ``p0, p1, p2``: the parallelogram with ``p0`` top left, ``p1`` top right
    and ``p2`` bottom left (``p1 + p2 - p0`` bottom right); all three are grid points.
    Two points ``a, b``: the square whose top row is the straight path from ``a`` to ``b``
    and whose side, as long as ``b - a``, points towards the origin (the prior's mean) at
    a right angle.
    """
    p = np.asarray(points, dtype="float64")
    if p.ndim != 2 or len(p) not in (2, 3) or p.shape[1] < 1:
        raise ValueError(f"Expected 2 or 3 latent points, shape (2 or 3, latent_dim). "
                         f"Received: points.shape={p.shape}")
    if not np.all(np.isfinite(p)):
        raise ValueError("Expected finite points. Received: NaN or inf values")
    n = _size(n)
    if len(p) == 2:
        p = np.stack([p[0], p[1], p[0] + _side(p[0], p[1])])
    across, down = p[1] - p[0], p[2] - p[0]
    if not np.any(across) or not np.any(down):
        raise ValueError("Expected distinct points to span a plane. Received: points that "
                         "coincide")
    t = np.linspace(0.0, 1.0, n)
    grid = p[0] + t[None, :, None] * across + t[:, None, None] * down  # [row, col, d]
    grid[0, 0], grid[0, -1], grid[-1, 0] = p[0], p[1], p[2]
    return grid.reshape(n * n, -1).astype("float32")


def _side(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A vector at right angles to ``b - a``, as long, towards the origin where it can."""
    u = b - a
    length = np.linalg.norm(u)
    if length == 0.0:
        raise ValueError("Expected two distinct points. Received: a == b")
    if u.size == 1:
        raise ValueError("A 1-D latent has no plane: use a path between the two points.")
    u = u / length
    toward = -(a + b) / 2.0
    toward = toward - (toward @ u) * u
    norm = np.linalg.norm(toward)
    v = toward / norm if norm > 1e-9 * max(1.0, np.linalg.norm(a + b)) else perpendicular(u)
    return v * length


def label_rows(z, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """"Same z, every label": ``(latents, labels)`` of ``num_classes`` rows of the ``n``
    latents ``z`` (n, d), row-major (row ``k``, column ``j`` is item ``k * n + j``: latent
    ``j`` as class ``k``), to decode with a conditional model."""
    z = np.asarray(z, dtype="float32")
    if z.ndim != 2 or len(z) < 1:
        raise ValueError(f"Expected latents of shape (n, latent_dim), n >= 1. Received: "
                         f"z.shape={z.shape}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) \
            or num_classes < 1:
        raise ValueError(f"Expected num_classes >= 1. Received: num_classes={num_classes!r}")
    labels = np.repeat(np.arange(int(num_classes), dtype="int32"), len(z))
    return np.tile(z, (int(num_classes), 1)), labels

"""Which items a latent view shows: a fixed random choice, the same for a map, its
snapshots and a reload."""

from __future__ import annotations

import numpy as np


def subset_indices(n: int, max_items: int, seed: int = 0) -> np.ndarray:
    """A fixed random choice of at most ``max_items`` of ``n`` item indices, sorted."""
    if isinstance(max_items, bool) or not isinstance(max_items, (int, np.integer)) or (
            max_items < 1):
        raise ValueError(f"Expected max_items to be a positive integer. Received: "
                         f"max_items={max_items!r}")
    chosen = np.random.default_rng(seed).choice(n, size=min(int(max_items), n), replace=False)
    return np.sort(chosen).astype("int64")

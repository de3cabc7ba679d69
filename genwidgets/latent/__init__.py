"""The latent engine: encode, project, interpolate, sample grids, health metrics, and the
state of a latent map (:class:`MapState`) apart from its view.

Views talk to a :class:`LatentSource` and to the NumPy helpers here, never to Keras.
Names load when first used, so ``from genwidgets.latent import path`` imports no JAX.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "LatentSource": "source",
    "Projection": "project",
    "lerp": "interpolate",
    "slerp": "interpolate",
    "path": "interpolate",
    "manifold_grid": "grids",
    "plane_grid": "grids",
    "label_rows": "grids",
    "every_label": "conditional",
    "latent_health": "health",
    "CompiledNet": "compiled",
    "LatentSnapshots": "snapshots",
    "SnapshotStore": "snapshots",
    "MapState": "map_state",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)

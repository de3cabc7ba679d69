"""Datasets: built-in loaders, tokenizers and validation (NumPy, scikit-learn; no Keras)."""

from __future__ import annotations

from typing import Any

from genwidgets.spec import Dataset


def load_dataset(name: str, **options: Any) -> Dataset:
    """Load a registered dataset by name, e.g. ``load_dataset("digits")``."""
    from genwidgets.plugins import get_registry

    return get_registry().dataset(name).load(**options)

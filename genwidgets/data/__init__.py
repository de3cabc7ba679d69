"""Datasets: built-in loaders, tokenizers and validation (NumPy, scikit-learn, tokenizers;
no Keras).

The loaders are imported when first used (``from genwidgets.data import from_arrays``),
so listing plugins does not import NumPy.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "DataError": "validate",
    "check_images": "validate",
    "check_labels": "validate",
    "check_texts": "validate",
    "from_arrays": "arrays",
    "npz_dataset": "arrays",
    "load_images": "image_files",
    "load_digits": "images",
    "load_mnist": "images",
    "read_idx": "images",
    "CharTokenizer": "chars",
    "SubwordTokenizer": "subword",
    "WordTokenizer": "words",
    "tokenizer_from_dict": "tokenizers",
    "load_sentences": "sentences",
    "read_sentences": "sentences",
    "load_text": "text",
    "load_python_docs": "text",
    "read_text_file": "text",
    "split_text": "text",
}

__all__ = [*_LAZY]  # a registered dataset by name: genwidgets.registry.load_dataset


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

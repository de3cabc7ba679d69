"""The datasets that ship with genwidgets, registered like any plugin's."""

from __future__ import annotations

from genwidgets.hookspecs import hookimpl
from genwidgets.spec import Dataset, DatasetSpec


def _digits(**options) -> Dataset:
    from genwidgets.data.images import load_digits

    return load_digits(**options)


def _mnist(**options) -> Dataset:
    from genwidgets.data.images import load_mnist

    return load_mnist(kind="mnist", **options)


def _fashion_mnist(**options) -> Dataset:
    from genwidgets.data.images import load_mnist

    return load_mnist(kind="fashion_mnist", **options)


def _text(**options) -> Dataset:
    from genwidgets.data.text import load_text

    return load_text(**options)


def _python_docs(**options) -> Dataset:
    from genwidgets.data.text import load_python_docs

    return load_python_docs(**options)


@hookimpl
def register_datasets():
    return [
        DatasetSpec(
            "digits", "image", _digits,
            "scikit-learn's 1,797 handwritten digits, 8x8 grey (offline; the default)",
            {"limit": "use only the first N images"},
        ),
        DatasetSpec(
            "mnist", "image", _mnist,
            "MNIST 28x28 digits: IDX or .npz files from a path, else Keras' download",
            {"path": "folder of IDX files or an .npz", "split": "train, test or all",
             "limit": "use only the first N images"},
        ),
        DatasetSpec(
            "fashion_mnist", "image", _fashion_mnist,
            "Fashion-MNIST 28x28 clothes: IDX or .npz files from a path, else Keras' download",
            {"path": "folder of IDX files or an .npz", "split": "train, test or all",
             "limit": "use only the first N images"},
        ),
        DatasetSpec(
            "text", "text", _text,
            "your own text: a UTF-8 file or a list of strings, one item per line or sentence",
            {"path": "a UTF-8 text file", "texts": "a list of strings",
             "mode": "line or sentence", "seq_len": "padded length in characters",
             "limit": "use only the first N items"},
        ),
        DatasetSpec(
            "python_docs", "text", _python_docs,
            "sentences from Python's own help pages (offline text default)",
            {"mode": "line or sentence", "seq_len": "padded length in characters",
             "limit": "use only the first N items"},
        ),
    ]

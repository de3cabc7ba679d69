"""The datasets that ship with genwidgets, registered like any plugin's."""

from __future__ import annotations

from collections.abc import Sequence

from genwidgets.hookspecs import hookimpl
from genwidgets.spec import Dataset, DatasetSpec

DEFAULT_DATA = {"image": "digits", "text": "sentences"}


def default_dataset(modalities: Sequence[str]) -> str:
    """The dataset a model starts on when none is named: the built-in default of its
    first modality (``"digits"`` for images, ``"sentences"`` for text)."""
    for modality in modalities:
        if modality in DEFAULT_DATA:
            return DEFAULT_DATA[modality]
    raise ValueError(f"Expected modalities among {tuple(DEFAULT_DATA)}. "
                     f"Received: modalities={tuple(modalities)!r}")


def _digits(**options) -> Dataset:
    from genwidgets.data.images import load_digits

    return load_digits(**options)


def _mnist(**options) -> Dataset:
    from genwidgets.data.images import load_mnist

    return load_mnist(kind="mnist", **options)


def _fashion_mnist(**options) -> Dataset:
    from genwidgets.data.images import load_mnist

    return load_mnist(kind="fashion_mnist", **options)


def _images(**options) -> Dataset:
    from genwidgets.data.image_files import load_images

    return load_images(**options)


def _text(**options) -> Dataset:
    from genwidgets.data.text import load_text

    return load_text(**options)


def _python_docs(**options) -> Dataset:
    from genwidgets.data.text import load_python_docs

    return load_python_docs(**options)


def _sentences(**options) -> Dataset:
    from genwidgets.data.sentences import load_sentences

    return load_sentences(**options)


_TOKEN_OPTIONS = {"tokens": "char (the default), subword (BPE pieces of this text) or word "
                            "(whole words of this text; an unseen word reads as UNK)",
                  "vocab_size": "at most this many tokens (subword default 2000)"}


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
            "MNIST 28x28 digits: IDX or .npz files from a path, else downloaded (11 MB)",
            {"path": "folder of IDX files or an .npz", "split": "train, test or all",
             "limit": "use only the first N images"},
        ),
        DatasetSpec(
            "fashion_mnist", "image", _fashion_mnist,
            "Fashion-MNIST 28x28 clothes: IDX or .npz files from a path, else downloaded (30 MB)",
            {"path": "folder of IDX files or an .npz", "split": "train, test or all",
             "limit": "use only the first N images"},
        ),
        DatasetSpec(
            "images", "image", _images,
            "your own images: an .npz (x, optional y), or a .zip or folder of PNG/JPEG "
            "files (labels from sub-folder names)",
            {"path": "an .npz, a .zip or a folder of PNG/JPEG files",
             "size": "side in pixels (default: the images' own when all equal, else 28)",
             "color": "gray or rgb (default: gray when every image is)",
             "limit": "use only the first N images"},
        ),
        DatasetSpec(
            "text", "text", _text,
            "your own text: a UTF-8 file or a list of strings, one item per line or sentence",
            {"path": "a UTF-8 text file", "texts": "a list of strings",
             "mode": "line or sentence", "seq_len": "padded length in tokens",
             "limit": "use only the first N items", **_TOKEN_OPTIONS},
        ),
        DatasetSpec(
            "python_docs", "text", _python_docs,
            "sentences from Python's own help pages (offline)",
            {"mode": "line or sentence",
             "seq_len": "padded length in tokens (char: also the longest item, 64)",
             "limit": "use only the first N items", **_TOKEN_OPTIONS},
        ),
        DatasetSpec(
            "sentences", "text", _sentences,
            "40,720 short sentences of WordNet 3.0's usage examples (offline; the text "
            "default; WordNet licence)",
            {"tokens": "word (whole words, the default: a path between two sentences "
                       "swaps words; an unseen word reads as UNK), subword (BPE pieces) "
                       "or char",
             "vocab_size": "subword pieces or words, the 4 special tokens included "
                           "(default: 2000 pieces, every word)",
             "seq_len": "padded length in tokens (default: 95th percentile + 1)",
             "split": "all, train or heldout (line i is held out when i % 10 == 9)",
             "limit": "use only the first N sentences"},
        ),
    ]

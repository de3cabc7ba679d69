"""A tokenizer of any kind: fitted on texts (``tokens="char"``, ``"subword"`` or
``"word"``) or rebuilt from its dict (``config.json``) by its ``"type"``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from genwidgets.data.chars import CharTokenizer
from genwidgets.data.subword import SubwordTokenizer
from genwidgets.data.tokens import (
    DEFAULT_SUBWORD_VOCAB,
    TOKENS,
    check_tokens,
    check_vocab_size,
)
from genwidgets.data.validate import DataError
from genwidgets.data.words import WordTokenizer


def fit_tokenizer(texts: Sequence[str], tokens: str = "char", vocab_size: int | None = None):
    """A tokenizer of kind ``tokens`` fitted on ``texts`` (``vocab_size``: see
    :func:`check_vocab_size`)."""
    tokens = check_tokens(tokens)
    vocab_size = check_vocab_size(vocab_size, tokens)
    if tokens == "char":
        return CharTokenizer.fit(texts, max_vocab=vocab_size)
    if tokens == "word":
        return WordTokenizer.fit(texts, max_vocab=vocab_size)
    return SubwordTokenizer.fit(texts, vocab_size=vocab_size or DEFAULT_SUBWORD_VOCAB)


def tokenizer_from_dict(d: Mapping[str, Any]):
    """The tokenizer that ``to_dict()`` gave ``d``, of any kind (by ``d["type"]``)."""
    kind = d.get("type") if isinstance(d, Mapping) else None
    if kind == "char":
        return CharTokenizer.from_dict(d)
    if kind == "subword":
        return SubwordTokenizer.from_dict(d)
    if kind == "word":
        return WordTokenizer.from_dict(d)
    raise DataError(
        f"Expected a tokenizer dict from to_dict() whose 'type' is one of {TOKENS}. "
        f"Received: {str(d)[:80]}")


def tokenizer_kind(tokenizer: Any) -> str | None:
    """The ``tokens=`` kind of a genwidgets tokenizer (``"char"``, ``"subword"`` or
    ``"word"``), None for a tokenizer of any other class."""
    kinds = {CharTokenizer: "char", SubwordTokenizer: "subword", WordTokenizer: "word"}
    return kinds.get(type(tokenizer))

"""The character tokenizer: one token a character, the vocab fitted on the data (most
frequent first); characters outside it encode as ``UNK`` and decode as U+FFFD."""

from __future__ import annotations

import collections
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from genwidgets.data.tokens import (
    Tokenizer,
    check_encode_texts,
    check_seq_len,
    pad_ids,
    shown_tokens,
    vocab_by_frequency,
)
from genwidgets.data.validate import DataError, check_texts
from genwidgets.spec import SPECIAL_TOKENS, UNK


class CharTokenizer(Tokenizer):
    """Characters to token ids and back. ``vocab`` starts with the special tokens."""

    def __init__(self, vocab: Sequence[str]):
        vocab = tuple(vocab)
        n = len(SPECIAL_TOKENS)
        if vocab[:n] != SPECIAL_TOKENS:
            raise DataError(
                f"Expected a vocab that starts with {SPECIAL_TOKENS}. "
                f"Received: {vocab[:n]!r}...")
        chars = vocab[n:]
        if not all(isinstance(c, str) and len(c) == 1 for c in chars) or (
                len(set(chars)) != len(chars)):
            raise DataError(
                f"Expected the vocab after the special tokens to be distinct single "
                f"characters. Received: {chars[:20]!r}")
        self.vocab: tuple[str, ...] = vocab
        self._ids = {c: i for i, c in enumerate(vocab) if i >= n}

    @classmethod
    def fit(cls, texts: Sequence[str], max_vocab: int | None = None) -> CharTokenizer:
        """A tokenizer for ``texts``: chars by frequency (most first), ties by char.

        ``max_vocab`` caps the vocab size, special tokens included; rarer chars become UNK.
        """
        texts = check_texts(texts)
        counts = collections.Counter()
        for t in texts:
            counts.update(t)
        return cls(vocab_by_frequency(counts, max_vocab, "a character"))

    def _key(self):
        return self.vocab

    def token_ids(self, texts: str | Sequence[str]) -> list[list[int]]:
        """Each text's character ids, whole (no EOS, no cut)."""
        get = self._ids.get
        return [[get(c, UNK) for c in text] for text in check_encode_texts(texts)]

    def encode(self, texts: str | Sequence[str], seq_len: int) -> np.ndarray:
        """Token ids, int32 of shape (N, seq_len): chars (at most seq_len - 1), EOS, PAD..."""
        seq_len = check_seq_len(seq_len)
        return pad_ids(self.token_ids([t[:seq_len - 1] for t in check_encode_texts(texts)]),
                       seq_len)

    def decode(self, ids: Any) -> list[str]:
        """Strings from token ids of shape (seq_len,) or (N, seq_len): stops at EOS,
        skips PAD and BOS, shows UNK as U+FFFD."""
        return ["".join(chars) for chars in shown_tokens(self.vocab, ids)]

    def unknown(self, text: str, seq_len: int | None = None) -> list[str]:
        """The characters of ``text`` (of its first ``seq_len - 1``) that are not in the
        vocab (they encode as UNK), sorted, each once."""
        (text,) = check_encode_texts([text])
        if seq_len is not None:
            text = text[:check_seq_len(seq_len) - 1]
        return sorted({c for c in text if c not in self._ids})

    def to_dict(self) -> dict[str, Any]:
        return {"type": "char", "vocab": list(self.vocab)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CharTokenizer:
        if not isinstance(d, Mapping) or d.get("type") != "char" or not isinstance(
                d.get("vocab"), (list, tuple)):
            raise DataError(
                f"Expected a dict like {{'type': 'char', 'vocab': [...]}} from "
                f"CharTokenizer.to_dict(). Received: {str(d)[:80]}")
        return cls(d["vocab"])

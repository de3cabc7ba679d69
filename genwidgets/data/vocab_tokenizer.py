"""What the character and the word tokenizers share: a text is a sequence of units
(characters, words), each looked up in a vocab fitted on the data, most frequent first.
A unit outside the vocab encodes as ``UNK`` and decodes as U+FFFD; decoding joins the
units with the subclass's ``joiner``."""

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


class VocabTokenizer(Tokenizer):
    """Units to token ids and back. ``vocab`` starts with the special tokens.

    A subclass names its ``kind`` (its dict's ``type``), ``unit`` ("a word", for
    messages), ``units_rule`` (what the vocab holds after the special tokens, for
    messages) and ``joiner``, and defines ``units(text)`` and ``is_unit(unit)``.
    """

    kind: str
    unit: str
    units_rule: str
    joiner: str

    @staticmethod
    def units(text: str) -> Sequence[str]:
        """The units of ``text``, in order."""
        raise NotImplementedError

    @staticmethod
    def is_unit(unit: Any) -> bool:
        """Whether ``unit`` could be one of ``units(text)``."""
        raise NotImplementedError

    def __init__(self, vocab: Sequence[str]):
        vocab = tuple(vocab)
        n = len(SPECIAL_TOKENS)
        if vocab[:n] != SPECIAL_TOKENS:
            raise DataError(
                f"Expected a vocab that starts with {SPECIAL_TOKENS}. "
                f"Received: {vocab[:n]!r}...")
        rest = vocab[n:]
        if not all(self.is_unit(u) for u in rest) or len(set(vocab)) != len(vocab):
            raise DataError(
                f"Expected the vocab after the special tokens to be distinct "
                f"{self.units_rule}. Received: {rest[:20]!r}")
        self.vocab: tuple[str, ...] = vocab
        self._ids = {u: i for i, u in enumerate(vocab) if i >= n}

    @classmethod
    def fit(cls, texts: Sequence[str], max_vocab: int | None = None):
        """A tokenizer for ``texts``: units by frequency (most first), ties by unit.

        ``max_vocab`` caps the vocab size, special tokens included; rarer units become UNK.
        A unit spelled like a special token (the word ``"<pad>"``) reads as UNK.
        """
        texts = check_texts(texts)
        counts = collections.Counter()
        for t in texts:
            counts.update(cls.units(t))
        for special in SPECIAL_TOKENS:
            counts.pop(special, None)
        return cls(vocab_by_frequency(counts, max_vocab, cls.unit))

    def _key(self):
        return self.vocab

    def _unit_ids(self, units: Sequence[str]) -> list[int]:
        get = self._ids.get
        return [get(u, UNK) for u in units]

    def token_ids(self, texts: str | Sequence[str]) -> list[list[int]]:
        """Each text's unit ids, whole (no EOS, no cut)."""
        return [self._unit_ids(self.units(t)) for t in check_encode_texts(texts)]

    def encode(self, texts: str | Sequence[str], seq_len: int) -> np.ndarray:
        """Token ids, int32 of shape (N, seq_len): units (at most seq_len - 1), EOS, PAD..."""
        seq_len = check_seq_len(seq_len)
        return pad_ids([self._unit_ids(self.units(t)[:seq_len - 1])
                        for t in check_encode_texts(texts)], seq_len)

    def decode(self, ids: Any) -> list[str]:
        """Strings from token ids of shape (seq_len,) or (N, seq_len): stops at EOS,
        skips PAD and BOS, shows UNK as U+FFFD; the units joined by ``joiner``."""
        return [self.joiner.join(units) for units in shown_tokens(self.vocab, ids)]

    def unknown(self, text: str, seq_len: int | None = None) -> list[str]:
        """The units of ``text`` (of its first ``seq_len - 1``) that are not in the vocab
        (they encode as UNK), sorted, each once."""
        (text,) = check_encode_texts([text])
        units = self.units(text)
        if seq_len is not None:
            units = units[:check_seq_len(seq_len) - 1]
        return sorted({u for u in units if u not in self._ids})

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.kind, "vocab": list(self.vocab)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]):
        if not isinstance(d, Mapping) or d.get("type") != cls.kind or not isinstance(
                d.get("vocab"), (list, tuple)):
            raise DataError(
                f"Expected a dict like {{'type': '{cls.kind}', 'vocab': [...]}} from "
                f"{cls.__name__}.to_dict(). Received: {str(d)[:80]}")
        return cls(d["vocab"])

"""The word tokenizer: one token a whitespace-split word, kept exactly as written (case
and punctuation are part of the word: ``"Williams'"`` and ``"hit."`` are words), the vocab
fitted on the data (most frequent first); the same interface as
:class:`genwidgets.data.chars.CharTokenizer`.

Decoding joins the words with one space, so ``decode(encode(s))`` is ``" ".join(s.split())``
for a sentence whose words are all in the vocab. A word outside it encodes as ``UNK`` and
decodes as U+FFFD; so does a word spelled like a special token (``"<pad>"``), which the
vocab never holds twice.
"""

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


def _is_word(w: Any) -> bool:
    """A non-empty str without whitespace (what ``str.split()`` gives)."""
    return isinstance(w, str) and w.split() == [w]


class WordTokenizer(Tokenizer):
    """Words to token ids and back. ``vocab`` starts with the special tokens."""

    def __init__(self, vocab: Sequence[str]):
        vocab = tuple(vocab)
        n = len(SPECIAL_TOKENS)
        if vocab[:n] != SPECIAL_TOKENS:
            raise DataError(
                f"Expected a vocab that starts with {SPECIAL_TOKENS}. "
                f"Received: {vocab[:n]!r}...")
        words = vocab[n:]
        if not all(_is_word(w) for w in words) or len(set(vocab)) != len(vocab):
            raise DataError(
                f"Expected the vocab after the special tokens to be distinct words "
                f"(non-empty strings without whitespace, none a special token). "
                f"Received: {words[:20]!r}")
        self.vocab: tuple[str, ...] = vocab
        self._ids = {w: i for i, w in enumerate(vocab) if i >= n}

    @classmethod
    def fit(cls, texts: Sequence[str], max_vocab: int | None = None) -> WordTokenizer:
        """A tokenizer for ``texts``: words by frequency (most first), ties by word.

        ``max_vocab`` caps the vocab size, special tokens included; rarer words become UNK.
        """
        texts = check_texts(texts)
        counts = collections.Counter()
        for t in texts:
            counts.update(t.split())
        for special in SPECIAL_TOKENS:  # "<pad>" in a text reads as UNK, not as PAD
            counts.pop(special, None)
        return cls(vocab_by_frequency(counts, max_vocab, "a word"))

    def _key(self):
        return self.vocab

    def token_ids(self, texts: str | Sequence[str]) -> list[list[int]]:
        """Each text's word ids, whole (no EOS, no cut)."""
        get = self._ids.get
        return [[get(w, UNK) for w in text.split()] for text in check_encode_texts(texts)]

    def encode(self, texts: str | Sequence[str], seq_len: int) -> np.ndarray:
        """Token ids, int32 of shape (N, seq_len): words (at most seq_len - 1), EOS, PAD..."""
        seq_len = check_seq_len(seq_len)
        return pad_ids(self.token_ids(texts), seq_len)

    def decode(self, ids: Any) -> list[str]:
        """Strings from token ids of shape (seq_len,) or (N, seq_len): stops at EOS,
        skips PAD and BOS, shows UNK as U+FFFD; the words joined by one space."""
        return [" ".join(words) for words in shown_tokens(self.vocab, ids)]

    def unknown(self, text: str, seq_len: int | None = None) -> list[str]:
        """The words of ``text`` (of its first ``seq_len - 1``) that are not in the vocab
        (they encode as UNK), sorted, each once."""
        (text,) = check_encode_texts([text])
        words = text.split()
        if seq_len is not None:
            words = words[:check_seq_len(seq_len) - 1]
        return sorted({w for w in words if w not in self._ids})

    def to_dict(self) -> dict[str, Any]:
        return {"type": "word", "vocab": list(self.vocab)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> WordTokenizer:
        if not isinstance(d, Mapping) or d.get("type") != "word" or not isinstance(
                d.get("vocab"), (list, tuple)):
            raise DataError(
                f"Expected a dict like {{'type': 'word', 'vocab': [...]}} from "
                f"WordTokenizer.to_dict(). Received: {str(d)[:80]}")
        return cls(d["vocab"])

"""``SubwordTokenizer``: BPE pieces learnt from the data, with the Hugging Face
``tokenizers`` package; the same interface as :class:`genwidgets.data.chars.CharTokenizer`.

Words are split at spaces and each space becomes the word mark ``▁`` that begins the next
piece (a Metaspace pre-tokenizer), so decoding gives the spaces back exactly; only spaces
at the very start of a text are lost (and a literal ``▁`` comes back as a space). Every printable ASCII character is in the
alphabet, so an unseen word is spelled from smaller pieces rather than read as UNK.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from genwidgets.data.tokens import (
    ALPHABET,
    WORD_MARK,
    DEFAULT_SUBWORD_VOCAB,
    Tokenizer,
    check_encode_texts,
    check_seq_len,
    check_vocab_size,
    pad_ids,
    shown_tokens,
)
from genwidgets.data.validate import DataError, check_texts
from genwidgets.spec import SPECIAL_TOKENS, UNK

_WORDS = re.compile(f"(?={WORD_MARK})")  # a piece never crosses a word mark
_METASPACE = {"type": "Metaspace", "replacement": WORD_MARK, "prepend_scheme": "always",
              "split": True}
_FORM = ("Expected the JSON string of a Hugging Face tokenizers BPE model with a Metaspace "
         "pre-tokenizer and decoder whose vocab starts with "
         f"{SPECIAL_TOKENS} (from SubwordTokenizer.fit(texts).to_dict()['tokenizer'])")


class SubwordTokenizer(Tokenizer):
    """BPE pieces to token ids and back. ``vocab`` (the pieces by id) starts with the
    special tokens; build one with :meth:`fit` or :meth:`from_dict`."""

    def __init__(self, tokenizer_json: str):
        from tokenizers import Tokenizer

        try:
            doc = json.loads(tokenizer_json)
            if ((doc.get("model") or {}).get("type"), (doc.get("pre_tokenizer") or {}).get(
                    "type"), (doc.get("decoder") or {}).get("type")) != (
                    "BPE", "Metaspace", "Metaspace"):
                raise ValueError("another model, pre-tokenizer or decoder")
            doc["added_tokens"] = []  # "<pad>" in a text is spelled like any text
            tok = Tokenizer.from_str(json.dumps(doc))
        except Exception as exc:  # bad JSON, a dict of another form, Rust's errors
            raise DataError(f"{_FORM}. Received: {str(tokenizer_json)[:80]!r} "
                            f"({type(exc).__name__}: {exc})") from None
        ids = tok.get_vocab(with_added_tokens=False)
        vocab = sorted(ids, key=ids.get)
        n = len(SPECIAL_TOKENS)
        if tuple(vocab[:n]) != SPECIAL_TOKENS or [ids[p] for p in vocab] != list(
                range(len(vocab))):
            raise DataError(f"{_FORM}. Received: a vocab starting {tuple(vocab[:n])!r}")
        self.vocab: tuple[str, ...] = tuple(vocab)
        self._tok = tok
        self._json = tok.to_str()
        # fit()'s pipeline: words are encoded once each by the BPE model (2-3x faster)
        self._by_word = doc.get("normalizer") is None and doc["pre_tokenizer"] == _METASPACE

    @classmethod
    def fit(cls, texts: Sequence[str],
            vocab_size: int = DEFAULT_SUBWORD_VOCAB) -> SubwordTokenizer:
        """Learn BPE pieces from ``texts``: at most ``vocab_size`` of them, the special
        tokens and the alphabet included (fewer when the texts offer no more merges)."""
        from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

        texts = check_texts(texts)
        vocab_size = check_vocab_size(vocab_size, "subword")
        if vocab_size is None:
            vocab_size = DEFAULT_SUBWORD_VOCAB
        tok = Tokenizer(models.BPE(unk_token=SPECIAL_TOKENS[UNK]))
        tok.pre_tokenizer = pre_tokenizers.Metaspace()
        tok.decoder = decoders.Metaspace()
        trainer = trainers.BpeTrainer(
            vocab_size=vocab_size, special_tokens=list(SPECIAL_TOKENS),
            initial_alphabet=list(ALPHABET), limit_alphabet=vocab_size - len(SPECIAL_TOKENS),
            show_progress=False)
        tok.train_from_iterator(texts, trainer)
        return cls(tok.to_str())

    def _key(self):
        return self._json

    def token_ids(self, texts: str | Sequence[str]) -> list[list[int]]:
        """Each text's piece ids, whole (no EOS, no cut)."""
        texts = check_encode_texts(texts)
        if not self._by_word:
            return [e.ids for e in self._tok.encode_batch(texts, add_special_tokens=False)]
        tokenize, words, out = self._tok.model.tokenize, {}, []
        for text in texts:  # what the Metaspace pre-tokenizer does, then BPE a word at a time
            text = text.replace(" ", WORD_MARK)
            if text and text[0] != WORD_MARK:
                text = WORD_MARK + text
            row = []
            for word in _WORDS.split(text):
                ids = words.get(word)
                if ids is None:
                    ids = words[word] = [t.id for t in tokenize(word)] if word else []
                row.extend(ids)
            out.append(row)
        return out

    def encode(self, texts: str | Sequence[str], seq_len: int) -> np.ndarray:
        """Token ids, int32 of shape (N, seq_len): pieces (at most seq_len - 1), EOS, PAD..."""
        seq_len = check_seq_len(seq_len)
        return pad_ids(self.token_ids(texts), seq_len)

    def decode(self, ids: Any) -> list[str]:
        """Strings from token ids of shape (seq_len,) or (N, seq_len): stops at EOS,
        skips PAD and BOS, shows UNK as U+FFFD."""
        decoder = self._tok.decoder
        return [decoder.decode(pieces) if pieces else "" for pieces in
                shown_tokens(self.vocab, ids)]

    def unknown(self, text: str, seq_len: int | None = None) -> list[str]:
        """The characters of ``text`` (of its first ``seq_len - 1`` pieces) that this
        tokenizer cannot spell (they encode as UNK), sorted, each once."""
        (text,) = check_encode_texts([text])
        n = None if seq_len is None else check_seq_len(seq_len) - 1
        enc = self._tok.encode(text, add_special_tokens=False)
        return sorted({text[a:b] for i, (a, b) in zip(enc.ids[:n], enc.offsets[:n])
                       if i == UNK})

    def to_dict(self) -> dict[str, Any]:
        return {"type": "subword", "tokenizer": self._json}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SubwordTokenizer:
        if not isinstance(d, Mapping) or d.get("type") != "subword" or not isinstance(
                d.get("tokenizer"), str):
            raise DataError(
                f"Expected a dict like {{'type': 'subword', 'tokenizer': '{{...}}'}} from "
                f"SubwordTokenizer.to_dict(). Received: {str(d)[:80]}")
        return cls(d["tokenizer"])

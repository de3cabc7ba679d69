"""What every text tokenizer shares: the ``tokens=`` choice, argument checks, and
the base class (fitting one of any kind, or rebuilding one from its dict, is
:mod:`genwidgets.data.tokenizers`).

Three kinds: ``"char"`` (:class:`genwidgets.data.chars.CharTokenizer`, one token a
character), ``"subword"`` (:class:`genwidgets.data.subword.SubwordTokenizer`, BPE pieces
learnt from the data) and ``"word"`` (:class:`genwidgets.data.words.WordTokenizer`, one
token a whitespace-split word as written). All reserve ``PAD``, ``BOS``, ``EOS``, ``UNK``
as ids 0-3.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from genwidgets.data.validate import DataError, as_array

TOKENS = ("char", "subword", "word")
DEFAULT_SUBWORD_VOCAB = 2000
UNKNOWN_CHAR = "\ufffd"  # how decode() shows UNK
WORD_MARK = "\u2581"  # "▁", what a space becomes in subword pieces
# the characters a subword vocab always holds: printable ASCII and the word mark
ALPHABET: tuple[str, ...] = tuple(chr(i) for i in range(33, 127)) + (WORD_MARK,)
MIN_SEQ_LEN = 2


def check_seq_len(seq_len: Any) -> int:
    if isinstance(seq_len, bool) or not isinstance(seq_len, (int, np.integer)) or (
            seq_len < MIN_SEQ_LEN):
        raise DataError(
            f"Expected seq_len to be an integer >= {MIN_SEQ_LEN} (tokens plus the end "
            f"token). Received: seq_len={seq_len!r}")
    return int(seq_len)


def check_tokens(tokens: Any) -> str:
    if tokens not in TOKENS:
        raise DataError(f"Expected tokens to be one of {TOKENS}. Received: tokens={tokens!r}")
    return tokens


def check_encode_texts(texts: Any) -> list[str]:
    """``texts`` to encode as a list of str (one str is a list of one)."""
    if isinstance(texts, str):
        return [texts]
    if not isinstance(texts, (list, tuple)):
        raise DataError(
            f"Expected a str or a list of str to encode. Received: {type(texts).__name__}")
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise DataError(f"Expected a str or a list of str to encode. Received: "
                            f"texts[{i}] of type {type(t).__name__}")
    return list(texts)


def check_ids(ids: Any, vocab_size: int) -> list[list[int]]:
    """Token ids of shape (seq_len,) or (N, seq_len) as rows of ints in [0, vocab_size)."""
    form = "Expected integer token ids of shape (seq_len,) or (N, seq_len)"
    arr = as_array(ids, "ids", form)
    if arr.dtype.kind not in "biuf" or arr.ndim not in (1, 2):
        raise DataError(f"{form}. Received: array of shape {arr.shape}, dtype {arr.dtype}")
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr) & (arr == np.round(arr))):
        raise DataError(f"{form}. Received: {arr.dtype} values that are not whole numbers")
    lo, hi = (arr.min().item(), arr.max().item()) if arr.size else (0, 0)
    if lo < 0 or hi >= vocab_size:
        raise DataError(
            f"Expected token ids in [0, {vocab_size}) for this vocab. Received: ids "
            f"in [{lo:g}, {hi:g}]. Was the model built for another dataset?")
    arr = arr.astype(np.int64)
    return (arr[None] if arr.ndim == 1 else arr).tolist()


def pad_ids(rows: Sequence[Sequence[int]], seq_len: int) -> np.ndarray:
    """int32 of shape (N, seq_len): each row's ids (at most seq_len - 1), EOS, PAD..."""
    from genwidgets.spec import EOS, PAD

    out = np.full((len(rows), seq_len), PAD, dtype=np.int32)
    for i, row in enumerate(rows):
        row = list(row[:seq_len - 1])
        row.append(EOS)
        out[i, :len(row)] = row
    return out


def check_token_options(tokens: Any, vocab_size: Any) -> tuple[str, int | None]:
    """``tokens`` and ``vocab_size`` of a text dataset, checked before any loading."""
    tokens = check_tokens(tokens)
    return tokens, check_vocab_size(vocab_size, tokens)


def check_vocab_size(vocab_size: Any, tokens: str) -> int | None:
    """``vocab_size`` for ``tokens``: None (all characters, 2000 pieces, or all words) or
    an integer large enough for the special tokens and the tokens a tokenizer must keep."""
    from genwidgets.spec import SPECIAL_TOKENS

    if vocab_size is None:
        return None
    if tokens == "char":
        least, what = len(SPECIAL_TOKENS) + 1, "a character"
    elif tokens == "word":
        least, what = len(SPECIAL_TOKENS) + 1, "a word"
    else:
        least, what = len(SPECIAL_TOKENS) + len(ALPHABET), (
            f"the alphabet: {len(ALPHABET) - 1} printable ASCII characters and the word "
            f"mark \u2581")
    if isinstance(vocab_size, bool) or not isinstance(vocab_size, (int, np.integer)) or (
            vocab_size < least):
        raise DataError(
            f"Expected vocab_size to be an integer >= {least} for tokens={tokens!r} (the "
            f"{len(SPECIAL_TOKENS)} special tokens and {what}) or None. "
            f"Received: vocab_size={vocab_size!r}")
    return int(vocab_size)


class Tokenizer:
    """What every tokenizer shares: ``vocab`` (the special tokens first), its size, and
    equality by ``_key()`` (what rebuilds it exactly)."""

    vocab: tuple[str, ...]

    def _key(self) -> Any:
        raise NotImplementedError

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def __len__(self) -> int:
        return len(self.vocab)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._key() == self._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"{type(self).__name__}(vocab_size={len(self.vocab)})"


def vocab_by_frequency(counts, max_vocab: Any, unit: str) -> tuple[str, ...]:
    """The special tokens, then the ``counts``' keys most frequent first (ties by the key),
    at most ``max_vocab`` in all (None: every key); ``unit`` names one ("a character")."""
    from genwidgets.spec import SPECIAL_TOKENS

    keys = sorted(counts, key=lambda k: (-counts[k], k))
    if max_vocab is not None:
        least = len(SPECIAL_TOKENS) + 1
        if not isinstance(max_vocab, int) or isinstance(max_vocab, bool) or (
                max_vocab < least):
            raise DataError(
                f"Expected max_vocab to be an integer >= {least} (the {least - 1} special "
                f"tokens and {unit}) or None. Received: max_vocab={max_vocab!r}")
        keys = keys[:max_vocab - len(SPECIAL_TOKENS)]
    return SPECIAL_TOKENS + tuple(keys)


def shown_tokens(vocab: Sequence[str], ids: Any) -> list[list[str]]:
    """Each row of token ids as the strings its decode joins: up to EOS, PAD and BOS
    skipped, UNK shown as U+FFFD (ids checked against ``vocab`` first)."""
    from genwidgets.spec import BOS, EOS, PAD, UNK

    out = []
    for row in check_ids(ids, len(vocab)):
        shown = []
        for i in row:
            if i == EOS:
                break
            if i == PAD or i == BOS:
                continue
            shown.append(UNKNOWN_CHAR if i == UNK else vocab[i])
        out.append(shown)
    return out

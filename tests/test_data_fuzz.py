"""Fuzzing the data checks and the tokenizer: any input either passes and comes back in
the documented form, or raises DataError; never another exception."""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import genwidgets  # noqa: F401
from genwidgets.data.text import CharTokenizer, split_text
from genwidgets.data.validate import DataError, check_images, check_labels, check_texts
from genwidgets.data.words import WordTokenizer
from genwidgets.spec import EOS, PAD, SPECIAL_TOKENS

FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])

dtypes = st.one_of(hnp.boolean_dtypes(), hnp.integer_dtypes(), hnp.unsigned_integer_dtypes(),
                   hnp.floating_dtypes(), hnp.complex_number_dtypes(),
                   hnp.unicode_string_dtypes(max_len=3), hnp.datetime64_dtypes())
arrays = hnp.arrays(dtypes, hnp.array_shapes(min_dims=0, max_dims=5, min_side=0, max_side=4))
scalars = st.one_of(st.none(), st.integers(), st.floats(), st.text(max_size=5),
                    st.binary(max_size=3))
nested = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4), max_leaves=30)


def calls(fn, *args, **kwargs):
    """Run fn; DataError is an allowed answer (returns None), anything else fails."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning (overflow, cast) is a bug too
        try:
            return fn(*args, **kwargs)
        except DataError as e:
            assert str(e).startswith("Expected"), str(e)
            return None


@FUZZ
@given(st.one_of(arrays, nested))
def test_check_images_fuzz(x):
    out = calls(check_images, x)
    if out is not None:
        assert out.dtype == np.float32 and out.ndim == 4 and out.shape[-1] in (1, 3)
        assert out.size and np.all(np.isfinite(out)) and out.min() >= 0 and out.max() <= 1
        assert out.shape[:3] == np.asarray(x).shape[:3]


@FUZZ
@given(st.one_of(arrays, nested), st.integers(0, 6))
def test_check_labels_fuzz(y, n):
    out = calls(check_labels, y, n)
    if out is not None:
        assert out.dtype == np.int64 and out.shape == (n,)
        assert n == 0 or out.min() >= 0


@FUZZ
@given(st.one_of(st.lists(st.one_of(st.text(max_size=8), st.integers(), st.none()),
                          max_size=5), st.text(max_size=5), nested, arrays))
def test_check_texts_fuzz(texts):
    out = calls(check_texts, texts)
    if out is not None:
        assert isinstance(out, list) and all(isinstance(t, str) for t in out)
        assert any(t.strip() for t in out)


def fitted_and_encoded(kind, texts, seq_len, max_vocab):
    """``(tokenizer, ids)`` of ``kind`` fitted on and encoding ``texts``, the vocab and the
    ids checked; ``ids`` None where fitting or encoding refused (clearly) what it was given."""
    tok = calls(kind.fit, texts, max_vocab=max_vocab)
    if tok is None:
        return None, None
    assert tok.vocab[:4] == SPECIAL_TOKENS and len(set(tok.vocab)) == len(tok.vocab)
    ids = calls(tok.encode, texts, seq_len)
    if ids is None:
        assert seq_len < 2
        return tok, None
    assert ids.dtype == np.int32 and ids.shape == (len(texts), seq_len)
    assert ids.min() >= 0 and ids.max() < len(tok.vocab)
    return tok, ids


@FUZZ
@given(st.lists(st.text(max_size=20), min_size=1, max_size=6), st.integers(-2, 24),
       st.one_of(st.none(), st.integers(-1, 12)))
def test_tokenizer_fuzz(texts, seq_len, max_vocab):
    tok, ids = fitted_and_encoded(CharTokenizer, texts, seq_len, max_vocab)
    if ids is None:
        return
    lengths = (ids != PAD).sum(axis=1)
    assert all(ids[i, lengths[i] - 1] == EOS for i in range(len(texts)))
    back = tok.decode(ids)
    if max_vocab is None:
        assert back == [t[:seq_len - 1] for t in texts]
    else:
        assert [len(b) for b in back] == [len(t[:seq_len - 1]) for t in texts]
    assert CharTokenizer.from_dict(tok.to_dict()) == tok


@FUZZ
@given(st.lists(st.text(alphabet="ab <>\t\n.\u3000\u00e9", max_size=20), min_size=1,
                max_size=6), st.integers(-2, 12), st.one_of(st.none(), st.integers(-1, 9)))
def test_word_tokenizer_fuzz(texts, seq_len, max_vocab):
    tok, ids = fitted_and_encoded(WordTokenizer, texts, seq_len, max_vocab)
    if ids is None:
        return
    back = tok.decode(ids)
    cut = [t.split()[:seq_len - 1] for t in texts]
    if max_vocab is None:
        assert back == [" ".join(w if w not in SPECIAL_TOKENS else "\ufffd" for w in words)
                        for words in cut]
    else:
        assert [b.split() if b else [] for b in back] == [
            [w if w in tok.vocab[4:] else "\ufffd" for w in words] for words in cut]
    assert WordTokenizer.from_dict(tok.to_dict()) == tok


@FUZZ
@given(st.one_of(st.lists(st.one_of(st.text(max_size=4), st.integers(), st.none()),
                          max_size=8), nested))
def test_word_tokenizer_from_dict_fuzz(words):
    vocab = [*SPECIAL_TOKENS, *words] if isinstance(words, list) else words
    tok = calls(WordTokenizer.from_dict, {"type": "word", "vocab": vocab})
    if tok is not None:
        assert tok.vocab == tuple(vocab) and all(w.split() == [w] for w in tok.vocab)


@FUZZ
@given(st.one_of(arrays, nested))
def test_decode_fuzz(ids):
    tok = CharTokenizer.fit(["abc"])
    out = calls(tok.decode, ids)
    if out is not None:
        assert isinstance(out, list) and all(isinstance(s, str) for s in out)


@FUZZ
@given(st.text(max_size=60), st.sampled_from(["line", "sentence"]))
def test_split_text_fuzz(text, mode):
    items = split_text(text, mode)
    assert all(item and item == item.strip() for item in items)
    assert "".join("".join(items).split()) == "".join(text.split())

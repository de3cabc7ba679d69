"""The built-in ``sentences`` (WordNet 3.0's usage examples, shipped in the package), the
subword and word tokenizers: round trips, the split, seq_len, saving and reloading with a
run."""

from __future__ import annotations

import functools
import hashlib
import json
import lzma
import math
from importlib import resources

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from genwidgets.data import DataError
from genwidgets.registry import load_dataset
from genwidgets.data.builtin import default_dataset
from genwidgets.data.sentences import (
    FILE,
    N_SENTENCES,
    SHA256,
    license_text,
    load_sentences,
    read_sentences,
)
from genwidgets.data.subword import SubwordTokenizer
from genwidgets.data.text import CharTokenizer, load_python_docs, load_text
from genwidgets.data.tokenizers import fit_tokenizer, tokenizer_from_dict, tokenizer_kind
from genwidgets.data.tokens import TOKENS
from genwidgets.data.words import WordTokenizer
from genwidgets.spec import BOS, EOS, PAD, SPECIAL_TOKENS, UNK, DataInfo

WORDS = ["the cat sat on the mat", "a dog ran to the cat", "the bird sat on a dog",
         "cats and dogs ran", "a mat, a cat; the end."]


@pytest.fixture(scope="module")
def default():  # the subword pieces (the default tokens are words: see below)
    return load_dataset("sentences", tokens="subword")


@pytest.fixture(scope="module")
def train_split():
    return load_sentences(split="train", tokens="subword")


def fits(tokenizer, texts, seq_len) -> list[bool]:
    return [len(r) < seq_len for r in tokenizer.token_ids(texts)]


# -- the shipped file ----------------------------------------------------------
def test_the_package_ships_the_sentences_and_their_licence():
    data = lzma.decompress((resources.files("genwidgets.data") / FILE).read_bytes())
    assert hashlib.sha256(data).hexdigest() == SHA256
    lines = read_sentences()
    assert len(lines) == N_SENTENCES == 40_720 and len(set(lines)) == N_SENTENCES
    assert lines[0] == "it was full of rackets, balls and other objects"
    assert all(s == s.strip() and s.isascii() and s for s in lines)
    notice = license_text()
    assert "WordNet 3.0 Copyright 2006 by Princeton University" in notice
    assert "ALL copies" in notice


def test_split_holds_out_every_tenth_line():
    everything, train, held = (read_sentences(s) for s in ("all", "train", "heldout"))
    assert (len(train), len(held)) == (36_648, 4_072)
    assert not set(train) & set(held) and sorted(train + held) == sorted(everything)
    assert held[:2] == [everything[9], everything[19]] and train[9] == everything[10]


# -- the dataset -----------------------------------------------------------------
def test_every_sentence_that_fits_comes_back_exactly(default):
    tok, seq_len = default.tokenizer, default.info.seq_len
    assert isinstance(tok, SubwordTokenizer) and tok.vocab_size == len(tok) == 2000
    assert default.x.shape == (N_SENTENCES, seq_len) and default.x.dtype == np.int32
    assert default.info.name == "sentences" and default.info.vocab == tok.vocab
    assert not (default.x == UNK).any()  # ASCII: every character has a piece
    lines = read_sentences()
    ok = fits(tok, lines, seq_len)
    assert np.mean(ok) >= 0.95
    back = tok.decode(default.x)
    assert [b for b, s, f in zip(back, lines, ok) if f] == [s for s, f in zip(lines, ok) if f]
    lengths = [len(r) for r in tok.token_ids(lines)]
    assert 6 < np.mean(lengths) < 14  # pieces a sentence, against ~32 characters


def test_default_seq_len_is_the_95th_percentile_plus_the_end_token(default):
    lengths = [len(r) for r in default.tokenizer.token_ids(read_sentences())]
    assert default.info.seq_len == max(8, math.ceil(np.percentile(lengths, 95)) + 1)
    chars = load_sentences(tokens="char", limit=500)
    p95 = np.percentile([len(s) for s in read_sentences()[:500]], 95)
    assert isinstance(chars.tokenizer, CharTokenizer)
    assert chars.info.seq_len == max(8, math.ceil(p95) + 1)
    short = load_sentences(seq_len=6, limit=50, tokens="subword")
    assert short.x.shape == (50, 6) and (short.x[:, -1] != PAD).any()
    tiny = load_sentences(limit=2, vocab_size=120, tokens="subword")
    assert tiny.info.seq_len >= 8


def test_the_tokenizer_sees_only_its_split(default, train_split):
    assert len(train_split) == 36_648
    assert train_split.tokenizer == SubwordTokenizer.fit(read_sentences("train"))
    assert train_split.tokenizer != default.tokenizer
    assert len(load_sentences(split="heldout", limit=300)) == 300


def test_a_saved_tokenizer_reloads_and_decodes_alike(train_split):
    tok = train_split.tokenizer
    again = tokenizer_from_dict(json.loads(json.dumps(tok.to_dict())))
    assert again == tok and hash(again) == hash(tok) and again.vocab == tok.vocab
    held = read_sentences("heldout")[:500]
    ids = tok.encode(held, train_split.info.seq_len)
    assert np.array_equal(again.encode(held, train_split.info.seq_len), ids)
    assert again.decode(ids) == tok.decode(ids)
    char = CharTokenizer.fit(WORDS)
    assert tokenizer_from_dict(json.loads(json.dumps(char.to_dict()))) == char
    with pytest.raises(DataError, match=r"Expected a tokenizer dict.*Received: \{'type': 'x'"):
        tokenizer_from_dict({"type": "x"})


def test_unseen_words_are_spelled_from_pieces(train_split):
    tok, seq_len = train_split.tokenizer, 64
    texts = ["zyzzyva quixotically flummoxed the QWERTY", "Tom's 42 cats (all #1) sat!",
             "a  double space and a trailing one ", "<pad> <unk> <eos> are plain text"]
    ids = tok.encode(texts, seq_len)
    assert not np.isin(ids[:, :-1], [UNK]).any()
    assert not np.isin(ids[3, :ids[3].tolist().index(EOS)], [PAD, EOS, UNK]).any()
    assert tok.decode(ids) == texts
    assert tok.unknown(texts[0]) == [] and tok.unknown("h\u00e9llo w\u00f6rld") == [
        "\u00e9", "\u00f6"]
    assert tok.unknown("h\u00e9llo w\u00f6rld", seq_len=3) == ["\u00e9"]
    assert tok.decode(tok.encode(["caf\u00e9"], 8)) == ["caf\ufffd"]
    char = CharTokenizer.fit(["abc"])
    assert char.unknown("abxcy") == ["x", "y"] and char.unknown("abxcy", seq_len=4) == ["x"]


def test_pieces_are_those_of_the_tokenizers_own_pipeline(default):
    tok = default.tokenizer
    texts = read_sentences()[::7] + ["", " ", "  a  b ", "a\tb", "x\u2581y", "\u2581\u2581a",
                                     " lead", "trail  ", "h\u00e9llo w\u00f6rld", "\n a\nb"]
    pipeline = [e.ids for e in tok._tok.encode_batch(texts, add_special_tokens=False)]
    assert tok.token_ids(texts) == pipeline


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(alphabet="ab \u2581\u00e9\t.", max_size=12), min_size=1, max_size=4))
def test_pieces_match_the_pipeline_on_any_text(texts):
    tok = _tiny()
    assert tok.token_ids(texts) == [
        e.ids for e in tok._tok.encode_batch(texts, add_special_tokens=False)]


# -- the subword tokenizer on tiny text -------------------------------------------
@functools.lru_cache(maxsize=1)
def _tiny() -> SubwordTokenizer:
    return SubwordTokenizer.fit(WORDS, vocab_size=120)


def test_subword_tokenizer_interface():
    tok = SubwordTokenizer.fit(WORDS, vocab_size=120)
    assert tok.vocab[:4] == SPECIAL_TOKENS and len(tok) <= 120 and repr(tok).startswith(
        "SubwordTokenizer(vocab_size=")
    ids = tok.encode(WORDS, seq_len=32)
    assert ids.dtype == np.int32 and ids.shape == (5, 32)
    assert tok.decode(ids) == WORDS and tok.decode(ids[0]) == [WORDS[0]]
    cut = tok.encode("the cat sat on the mat", 3)[0].tolist()
    assert len(cut) == 3 and cut[-1] == EOS and EOS not in cut[:2]
    assert tok.encode(["", "x"], 4)[0].tolist() == [EOS, PAD, PAD, PAD]
    assert tok.decode([[1, *ids[1, :-1]]]) == [WORDS[1]]  # BOS is skipped
    assert SubwordTokenizer.fit(WORDS, vocab_size=120) == tok  # fitting is deterministic


@pytest.mark.parametrize("bad", [[0, 999], "xyz", [[0.5, 1.0]], np.zeros((2, 2, 2))])
def test_subword_decode_checks_ids_like_the_char_tokenizer(bad):
    sub, char = SubwordTokenizer.fit(WORDS, vocab_size=120), CharTokenizer.fit(WORDS)
    with pytest.raises(DataError) as a:
        sub.decode(bad)
    with pytest.raises(DataError) as b:
        char.decode(bad)
    assert str(a.value).replace(str(len(sub)), "V") == str(b.value).replace(
        str(len(char)), "V")
    assert str(a.value).startswith("Expected")


def test_subword_tokenizer_errors():
    tok = SubwordTokenizer.fit(WORDS, vocab_size=120)
    with pytest.raises(DataError, match=r"seq_len to be an integer >= 2.*Received: seq_len=1"):
        tok.encode(WORDS, 1)
    with pytest.raises(DataError, match=r"Expected a str or a list of str.*Received: int"):
        tok.encode(3, 8)
    with pytest.raises(DataError, match=r"Expected a dict like.*Received: \{'type': 'char'"):
        SubwordTokenizer.from_dict({"type": "char", "vocab": ["a"]})
    with pytest.raises(DataError, match=r"Expected the JSON string.*Received: 'not json'"):
        SubwordTokenizer.from_dict({"type": "subword", "tokenizer": "not json"})
    with pytest.raises(DataError, match=r"vocab_size to be an integer >= 99.*Received: "
                                        r"vocab_size=3"):
        SubwordTokenizer.fit(WORDS, vocab_size=3)


@pytest.mark.parametrize("options, message", [
    ({"tokens": "bpe"}, r"Expected tokens to be one of \('char', 'subword', 'word'\)\. "
                        r"Received: tokens='bpe'"),
    ({"tokens": "subword", "vocab_size": 3},
     r"Expected vocab_size to be an integer >= 99 .*Received: vocab_size=3"),
    ({"tokens": "char", "vocab_size": 3}, r"vocab_size to be an integer >= 5 .*Received: "),
    ({"tokens": "word", "vocab_size": 4}, r"vocab_size to be an integer >= 5 for "
                                          r"tokens='word' .*a word\) or None\. Received: "),
    ({"split": "x"}, r"Expected split to be one of \('all', 'train', 'heldout'\)\. "
                     r"Received: split='x'"),
    ({"seq_len": 1}, r"Expected seq_len to be an integer >= 2.*Received: seq_len=1"),
    ({"limit": 0}, r"Expected limit to be a positive integer or None\. Received: 0"),
    ({"limit": 1}, r"Expected at least 2 .*Received: 1 from WordNet's sentences"),
])
def test_bad_options_say_what_was_expected(options, message):
    with pytest.raises(DataError, match=message):
        load_dataset("sentences", **options)


def test_text_and_python_docs_take_tokens():
    data = load_text(texts=WORDS * 4, tokens="subword", vocab_size=120)
    assert isinstance(data.tokenizer, SubwordTokenizer) and data.info.vocab == data.tokenizer.vocab
    assert data.tokenizer.decode(data.x) == WORDS * 4
    assert isinstance(load_text(texts=WORDS).tokenizer, CharTokenizer)
    with pytest.raises(DataError, match=r"Received: tokens='bpe'"):
        load_text(texts=WORDS, tokens="bpe")
    docs = load_python_docs(tokens="subword", vocab_size=500, limit=100)
    assert docs.info.name == "python_docs" and docs.x.shape[0] == 100
    assert len(docs.tokenizer) <= 500 and docs.info.seq_len < 64


def test_default_data_of_a_model():
    from genwidgets.cli import build_parser

    assert default_dataset(("image", "text")) == "digits"
    assert default_dataset(("text",)) == "sentences"
    assert build_parser().parse_args(["train", "--out", "x"]).data is None


# -- every kind of tokenizer, and the word tokenizer --------------------------------
def _fit(tokens: str):
    return fit_tokenizer(WORDS, tokens, 120 if tokens == "subword" else None)


@pytest.mark.parametrize("tokens", TOKENS)
def test_every_kind_round_trips_and_reloads_byte_for_byte(tokens):
    tok = _fit(tokens)
    assert tokenizer_kind(tok) == tokens and tok.vocab[:4] == SPECIAL_TOKENS
    ids = tok.encode(WORDS, 32)
    assert ids.dtype == np.int32 and ids.shape == (5, 32)
    assert tok.decode(ids) == WORDS and tok.decode(ids[0]) == [WORDS[0]]
    assert tok.decode([[BOS, *ids[1, :-1]]]) == [WORDS[1]]  # BOS is skipped
    assert tok.encode(["", "x"], 4)[0].tolist() == [EOS, PAD, PAD, PAD]
    text = json.dumps(tok.to_dict())
    again = tokenizer_from_dict(json.loads(text))
    assert again == tok and hash(again) == hash(tok) and type(again) is type(tok)
    assert json.dumps(again.to_dict()) == text and tok.to_dict()["type"] == tokens
    assert np.array_equal(again.encode(WORDS, 32), ids)
    data = load_text(texts=WORDS * 4, tokens=tokens, vocab_size=120)
    assert data.info.tokens == tokens and data.info.vocab == data.tokenizer.vocab
    assert data.tokenizer.decode(data.x) == WORDS * 4


def test_words_are_kept_as_written_most_frequent_first():
    texts = ["The cat sat.", "the cat  ran", "Williams' cat hit.\tthe ball"]
    tok = WordTokenizer.fit(texts)
    assert tok.vocab == SPECIAL_TOKENS + ("cat", "the", "The", "Williams'", "ball", "hit.",
                                          "ran", "sat.")  # by count, ties by the word
    assert repr(tok) == "WordTokenizer(vocab_size=12)"
    assert tok.decode(tok.encode(texts, 8)) == [" ".join(t.split()) for t in texts]
    assert tok.token_ids("  cat\n the ") == [[4, 5]]
    assert tok.encode("the cat sat. The", 3)[0].tolist() == [5, 4, EOS]  # cut to 2 words
    assert WordTokenizer.fit(texts) == tok  # fitting is deterministic


def test_an_unseen_word_reads_as_unk():
    tok = WordTokenizer.fit(WORDS)
    ids = tok.encode(["the zebra sat on the Mat", "<pad> cat <unk>"], 10)
    assert ids[0].tolist()[:7] == [tok.vocab.index("the"), UNK, tok.vocab.index("sat"),
                                   tok.vocab.index("on"), tok.vocab.index("the"), UNK, EOS]
    assert ids[1].tolist()[:4] == [UNK, tok.vocab.index("cat"), UNK, EOS]
    assert tok.decode(ids) == ["the \ufffd sat on the \ufffd", "\ufffd cat \ufffd"]
    assert tok.unknown("the zebra sat on the Mat zebra") == ["Mat", "zebra"]
    assert tok.unknown("the zebra sat on the Mat", seq_len=4) == ["zebra"]
    assert WordTokenizer.fit(["<pad> <eos> a"]).vocab == SPECIAL_TOKENS + ("a",)


def test_max_vocab_keeps_the_most_frequent_words():
    texts = ["a a a b b c", "a b d"]
    tok = WordTokenizer.fit(texts, max_vocab=6)
    assert tok.vocab == SPECIAL_TOKENS + ("a", "b")
    assert tok.decode(tok.encode(texts, 8)) == ["a a a b b \ufffd", "a b \ufffd"]
    assert WordTokenizer.fit(texts, max_vocab=5).vocab == SPECIAL_TOKENS + ("a",)
    assert WordTokenizer.fit(texts, max_vocab=99) == WordTokenizer.fit(texts)
    assert fit_tokenizer(texts, "word", 6) == tok
    for bad in (4, 5.0, True, "6"):
        with pytest.raises(DataError, match=r"Expected max_vocab to be an integer >= 5 \(the "
                                            r"4 special tokens and a word\) or None\. "):
            WordTokenizer.fit(texts, max_vocab=bad)


@pytest.mark.parametrize("d, message", [
    ({"type": "char", "vocab": list(SPECIAL_TOKENS)}, r"Expected a dict like \{'type': 'word'"),
    ({"type": "word"}, r"Expected a dict like \{'type': 'word'"),
    ({"type": "word", "vocab": "abc"}, r"Expected a dict like \{'type': 'word'"),
    ("word", r"Expected a dict like \{'type': 'word'"),
    ({"type": "word", "vocab": ["a", "b"]}, r"Expected a vocab that starts with"),
    ({"type": "word", "vocab": [*SPECIAL_TOKENS[1:], "a"]}, r"Expected a vocab that starts"),
    ({"type": "word", "vocab": [*SPECIAL_TOKENS, "a", "a"]}, r"Expected .* distinct words"),
    ({"type": "word", "vocab": [*SPECIAL_TOKENS, "a b"]}, r"Expected .* distinct words"),
    ({"type": "word", "vocab": [*SPECIAL_TOKENS, "a\u3000"]}, r"Expected .* distinct words"),
    ({"type": "word", "vocab": [*SPECIAL_TOKENS, ""]}, r"Expected .* distinct words"),
    ({"type": "word", "vocab": [*SPECIAL_TOKENS, 7]}, r"Expected .* distinct words"),
    ({"type": "word", "vocab": [*SPECIAL_TOKENS, "<pad>"]}, r"Expected .* distinct words"),
])
def test_word_tokenizer_from_a_bad_dict_says_what_was_expected(d, message):
    with pytest.raises(DataError, match=message):
        WordTokenizer.from_dict(d)
    if isinstance(d, dict) and d.get("type") == "word":
        with pytest.raises(DataError, match=message):
            tokenizer_from_dict(d)


def test_word_tokenizer_errors():
    tok = WordTokenizer.fit(WORDS)
    with pytest.raises(DataError, match=r"seq_len to be an integer >= 2.*Received: seq_len=1"):
        tok.encode(WORDS, 1)
    with pytest.raises(DataError, match=r"Expected a str or a list of str.*Received: int"):
        tok.encode(3, 8)
    with pytest.raises(DataError, match=rf"token ids in \[0, {len(tok)}\)"):
        tok.decode([0, len(tok)])
    with pytest.raises(DataError, match=r"Expected some text\. Received: 2 item\(s\), all"):
        WordTokenizer.fit(["  ", ""])


def test_sentences_by_words():
    data = load_sentences(tokens="word", limit=500)
    lines, tok = read_sentences()[:500], data.tokenizer
    assert isinstance(tok, WordTokenizer) and data.info.tokens == "word"
    assert data.info.vocab == tok.vocab and not (data.x == UNK).any()
    words = [len(s.split()) for s in lines]
    assert data.info.seq_len == max(8, math.ceil(np.percentile(words, 95)) + 1)
    ok = [n < data.info.seq_len for n in words]
    assert np.mean(ok) >= 0.95
    back = tok.decode(data.x)
    assert [b for b, f in zip(back, ok) if f] == [s for s, f in zip(lines, ok) if f]
    assert {"whole?", "rackets,"} <= set(tok.vocab)  # words as written, punctuation too
    capped = load_sentences(tokens="word", vocab_size=50, limit=500)
    assert len(capped.tokenizer) == 50 and (capped.x == UNK).any()
    assert load_sentences(tokens="char", limit=50).info.tokens == "char"
    assert load_sentences(limit=50, vocab_size=120, tokens="subword").info.tokens == "subword"
    assert load_dataset("sentences", limit=50).info.tokens == "word"  # the default


def test_data_info_of_an_older_run_has_no_tokens():
    old = {"name": "sentences", "modality": "text", "shape": [12], "n_items": 3,
           "vocab": list(SPECIAL_TOKENS), "label_names": None}
    info = DataInfo.from_dict(old)
    assert info.tokens is None and info.shape == (12,) and info.vocab == SPECIAL_TOKENS
    new = DataInfo.from_dict(json.loads(json.dumps({**old, "tokens": "word"})))
    assert new.tokens == "word" and DataInfo.from_dict(new.to_dict()) == new
    assert DataInfo("digits", "image", (8, 8, 1), 4).tokens is None


# -- with a run ------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("tokens", ["subword", "word"])
def test_a_text_run_on_sentences_reloads_and_decodes_alike(tmp_path, tokens):
    from genwidgets.latent import LatentSource
    from genwidgets.training import train

    run = train("vae", "sentences", {"latent_dim": 2, "rnn_units": 8, "embed_dim": 4},
                epochs=1, batch_size=200, out=tmp_path / "run",
                data_options={"limit": 200, "tokens": tokens})
    assert run.steps == 1
    doc = json.loads((tmp_path / "run" / "config.json").read_text())
    assert doc["data"] == "sentences" and doc["tokenizer"]["type"] == tokens
    assert doc["data_info"]["tokens"] == tokens
    source = LatentSource.from_folder(tmp_path / "run")
    assert source.tokenizer == run.dataset.tokenizer and source.info.tokens == tokens
    assert source.items(np.arange(3)) == read_sentences()[:3]
    z = np.random.default_rng(0).standard_normal((3, source.latent_dim)).astype("float32")
    assert source.decode(z) == run.dataset.tokenizer.decode(run.model.decode(z))

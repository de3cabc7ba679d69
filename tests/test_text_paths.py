"""The sentence-path protocol's figures on hand-computed cases (no model, no shared data)."""

from __future__ import annotations

import numpy as np
import pytest

from genwidgets.data.text import CharTokenizer
from genwidgets.latent import text_paths as tp


def test_normalise_and_levenshtein():
    assert tp.normalise("  the  cat\tsat \n") == "the cat sat"
    assert tp.levenshtein("kitten", "sitting") == 3
    assert tp.levenshtein("", "abc") == tp.levenshtein("abc", "") == 3
    assert tp.levenshtein("same", "same") == 0
    assert tp.levenshtein(["a", "b"], ["a", "c", "b"]) == 1
    assert tp.char_distance("a  b", "a b") == 0
    assert tp.word_distance("the cat sat", "the dog sat down") == 2
    assert tp.word_distance("a b c", "c b a") == 2


def test_endpoint_exact_and_char_accuracy():
    assert tp.endpoint_exact(["a b", "c d"], ["a  b ", "c e"]) == 0.5
    # 1 - 1/4 and 1 - 2/4
    assert tp.char_accuracy(["abcd", "ab"], ["abed", "abcd"]) == pytest.approx(0.625)
    assert tp.char_accuracy(["", "x"], ["", "x"]) == 1.0
    with pytest.raises(ValueError, match="one decoded sentence per sentence"):
        tp.endpoint_exact(["a"], [])


def test_a_path_that_never_moves():
    a, b = "the cat sat on the mat", "a dog ran in the park"
    path = ["the cat sat"] * 8
    assert tp.path_straightness(a, b, path) == 0.0
    assert tp.distinct([path]) == 1.0
    assert tp.steps_toward_b(b, path) == (0, 0)
    assert tp.toward_b([(a, b)], [path]) == 0.0
    # the ratio alone would give 6 / (3 + 6): it is a path that does not move all the same
    assert tp.path_straightness(a, b, [a] * 8) == 0.0


def test_a_perfect_path():
    a, b = "a b c", "x y z"
    path = ["a b c", "x b c", "x y c", "x y z", "x y z", "x y z", "x y z", "x y z"]
    assert tp.path_straightness(a, b, path) == 1.0
    assert tp.distinct([path]) == 4.0
    assert tp.steps_toward_b(b, path) == (3, 3)
    figures = tp.score([a, b], [path[0], path[-1]], [(a, b)], [path],
                       tp.word_vocabulary(["a b c x y z"]))
    assert figures == {"endpoint_exact": 1.0, "char_acc": 1.0, "distinct": 4.0,
                       "straightness": 1.0, "toward_b": 1.0, "real_words": 1.0}


def test_a_detour():
    a, b = "a b", "a c"
    path = ["a b", "a d", "a c"] + ["a c"] * 5
    # Lev(A, B) = 1 over 0 + 1 + 1 + 0 ... = 2; "a b" -> "a d" stays 1 from B
    assert tp.path_straightness(a, b, path) == 0.5
    assert tp.steps_toward_b(b, path) == (2, 1)
    assert tp.straightness([(a, b), (a, b)], [path, ["a c"] * 8]) == 0.25


def test_toward_b_counts_the_moving_steps_of_all_pairs():
    pairs = [("a b", "a c"), ("p q r", "p q s")]
    away = ["a c", "a b", "a b", "a c", "a c", "a c", "a c", "a c"]  # away, then back
    one = ["p q r"] * 4 + ["p q s"] * 4
    assert tp.steps_toward_b("a c", away) == (2, 1)
    assert tp.steps_toward_b("p q s", one) == (1, 1)
    assert tp.toward_b(pairs, [away, one]) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="one path per pair"):
        tp.toward_b(pairs, [one])


def test_real_words_lowercase_and_strip_punctuation():
    vocabulary = tp.word_vocabulary(["It was full of rackets, balls and other objects",
                                     "the team is a unit"])
    assert {"it", "rackets", "balls", "unit"} <= vocabulary
    assert "rackets," not in vocabulary
    path = ["zzz zzz",  # p_0 and p_7 are not counted
            "The TEAM, is", "rackets! qqq --", "unit.", "(unit)", "Unit", "xx",
            "zzz"]
    # p_1 ... p_6: the team is | rackets qqq ("--" is no word) | unit x 3 | xx
    assert tp.plain_words("rackets! qqq --") == ["rackets", "qqq"]
    assert tp.real_words([path], vocabulary) == pytest.approx(7 / 9)
    # the middle points p_3, p_4 alone: unit x 2
    assert tp.real_words([path], vocabulary, tp.MIDDLE) == 1.0
    assert tp.real_words([path[:3] + ["qqq unit", "xx"] + path[5:]], vocabulary,
                         tp.MIDDLE) == pytest.approx(1 / 3)
    assert tp.real_words([["a"] * 8], vocabulary) == 1.0
    assert tp.real_words([[""] * 8], vocabulary) == 0.0


def test_real_sentences_count_a_sentence_with_one_made_up_word_as_broken():
    vocabulary = tp.word_vocabulary(["the team is a unit", "it was full of balls"])
    whole, broken = "the team is a unit", "the team is a qqq"
    path = ["zzz", "zzz", "zzz", whole, broken, "zzz", "zzz", "zzz"]
    # p_3 and p_4 only: 9 of their 10 words are real, 1 of their 2 sentences
    assert tp.real_words([path], vocabulary, tp.MIDDLE) == pytest.approx(9 / 10)
    assert tp.real_sentences([path], vocabulary) == pytest.approx(1 / 2)
    assert tp.real_sentences([path, path[:3] + [whole, "Balls!"] + path[5:]],
                             vocabulary) == pytest.approx(3 / 4)
    # an empty sentence holds no real word: not counted as one
    assert tp.real_sentences([path[:3] + ["", whole] + path[5:]], vocabulary) == 0.5
    assert tp.real_sentences([path], vocabulary, slice(0, 8)) == pytest.approx(1 / 8)
    assert tp.real_sentences([], vocabulary) == 0.0


def test_protocol_sentences():
    lines = [f"line {i} has five words" if i % 3 else f"short {i}" for i in range(2000)]
    lines[0] = "  line  0 has   five words\n"
    split = tp.protocol_sentences(lines)
    assert len(split.train) == 1800 and len(split.heldout) == 200
    assert split.heldout[:2] == ["short 9", "line 19 has five words"]
    assert split.train[0] == "line 0 has five words"  # normalised, and of 5 words
    assert len(split.endpoints) == 64
    assert all(4 <= len(s.split()) <= 10 for s in split.endpoints)
    assert "short 3" not in split.endpoints and split.endpoints[1] == "line 1 has five words"
    assert len(split.pairs) == 32
    held = [s for s in split.heldout if len(s.split()) == 5][:64]
    assert split.pairs[0] == (held[0], held[1]) and split.pairs[-1] == (held[62], held[63])
    assert split.heldout_endpoints == held
    few = tp.protocol_sentences(["one two three four"] * 30)
    assert len(few.endpoints) == 27 and len(few.pairs) == 1


def test_path_latents():
    z = tp.path_latents([0.0, 7.0], [7.0, 0.0])
    assert z.shape == (8, 2)
    np.testing.assert_allclose(z[:, 0], np.arange(8))
    np.testing.assert_allclose(z[0], [0, 7]) and np.testing.assert_allclose(z[-1], [7, 0])
    with pytest.raises(ValueError, match="same length"):
        tp.path_latents([0.0], [1.0, 2.0])


class IdsAsLatents:
    """A model whose latent is the token ids themselves: decode(encode(x)) == x."""

    def __init__(self, vocab_size):
        self.vocab_size = vocab_size

    def encode(self, ids):
        return np.asarray(ids, dtype="float32")

    def decode(self, z):
        return np.clip(np.rint(z), 0, self.vocab_size - 1).astype("int32")


def test_codec_and_evaluate_on_a_model_that_copies():
    sentences = [f"w{i} x{i % 3} y z" for i in range(40)]
    tokenizer = CharTokenizer.fit(sentences)
    model = IdsAsLatents(len(tokenizer.vocab))
    codec = tp.TextCodec.of(model, tokenizer, seq_len=16)
    assert codec.reconstruct(["w1 x1  y z"]) == ["w1 x1 y z"]
    split = tp.protocol_sentences(sentences)
    paths = codec.paths(split.pairs)
    assert len(paths) == len(split.pairs) == 2
    assert all(len(p) == 8 for p in paths)
    assert paths[0][0] == split.pairs[0][0] and paths[0][-1] == split.pairs[0][1]
    result = tp.evaluate(codec, split)
    assert result["endpoint_exact_train"] == result["endpoint_exact_heldout"] == 1.0
    assert result["char_acc_heldout"] == 1.0
    assert 1.0 <= result["distinct"] <= 8.0 and result["paths"] == paths
    assert 0.0 <= result["straightness"] <= 1.0 and 0.0 <= result["real_words"] <= 1.0
    assert 0.0 <= result["real_sentences_middle"] <= 1.0


def test_codec_of_a_source_like_object():
    tokenizer = CharTokenizer.fit(["ab", "ba"])
    model = IdsAsLatents(len(tokenizer.vocab))

    class Source:  # what a LatentSource offers: info, tokenizer, encode ids, decode strings
        def __init__(self):
            self.info = type("Info", (), {"seq_len": 4})()
            self.tokenizer = tokenizer

        def encode(self, x):
            return model.encode(x)

        def decode(self, z):
            return tokenizer.decode(model.decode(z))

    codec = tp.TextCodec.of(Source())
    assert codec.seq_len == 4 and codec.reconstruct(["ab", "ba"]) == ["ab", "ba"]
    with pytest.raises(ValueError, match="tokenizer"):
        tp.TextCodec.of(model)

"""Decoding per-position logits with the data's token trigrams (genwidgets.latent.piece_lm)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from genwidgets.decoding import greedy_tokens
from genwidgets.latent.piece_lm import PieceLM, log_softmax
from genwidgets.spec import BOS, EOS, PAD

# ids 4.. are words; two training sentences that share no position's token
A = [4, 5, 6, EOS, PAD, PAD]
B = [7, 8, 9, 10, EOS, PAD]
V = 11


def brute_force(lm: PieceLM, logits: np.ndarray, weight: float) -> np.ndarray:
    """The best sequence by trying every one (tiny vocabularies only)."""
    logp = log_softmax(logits)
    best, best_score = None, -np.inf
    for seq in itertools.product([t for t in range(lm.vocab_size) if t != BOS],
                                 repeat=logits.shape[0]):
        before = [BOS, BOS, *seq]
        score = sum(logp[i, t] + weight * lm.log_prob(before[i], before[i + 1], t)
                    for i, t in enumerate(seq))
        if score > best_score:
            best, best_score = seq, score
    return np.array(best)


def test_the_search_finds_the_best_sequence():
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 6, (40, 4)).astype("int32")
    lm = PieceLM(ids, 6)
    for trial in range(6):
        logits = rng.standard_normal((1, 4, 6)) * 2
        want = brute_force(lm, logits[0], weight=1.5)
        got = lm.decode(logits, weight=1.5, candidates=5)[0]
        cut = list(want).index(EOS) + 1 if EOS in want else len(want)
        assert list(got[:cut]) == list(want[:cut]), trial


def test_weight_zero_is_each_positions_argmax():
    rng = np.random.default_rng(1)
    lm = PieceLM(np.array([A, B] * 5), V)
    logits = rng.standard_normal((7, 6, V)).astype("float32")
    assert np.array_equal(lm.decode(logits, weight=0.0), greedy_tokens(logits))


def test_a_hesitant_decoder_gives_a_training_sentence_not_a_mix():
    lm = PieceLM(np.array([A, B] * 20), V)
    # each position: A's token and B's about equally likely, A's ahead at even positions
    logits = np.full((1, 6, V), -8.0)
    for i, (a, b) in enumerate(zip(A, B)):
        logits[0, i, a] = 1.0 + 0.1 * (i % 2 == 0)
        logits[0, i, b] = 1.0 + 0.1 * (i % 2 == 1)
    mixed = greedy_tokens(logits)[0]
    assert list(mixed) not in (A, B)  # the argmax joins pieces of both
    assert list(lm.decode(logits)[0]) in (A, B)


def test_a_sure_decoder_is_followed_even_off_the_training_text():
    lm = PieceLM(np.array([A, B] * 20), V)
    unseen = [4, 8, 6, 10, EOS, PAD]
    logits = np.full((1, 6, V), -10.0)
    logits[0, np.arange(6), unseen] = 10.0
    assert list(lm.decode(logits)[0]) == unseen


def test_never_bos_and_pad_after_the_end():
    lm = PieceLM(np.array([A, B]), V)
    logits = np.zeros((2, 6, V))
    logits[:, :, BOS] = 50.0
    logits[:, 1, EOS] = 40.0
    logits[:, 2:, 5] = 30.0
    ids = lm.decode(logits)
    assert not np.any(ids == BOS)
    assert np.all(ids[:, 1] == EOS) and np.all(ids[:, 2:] == PAD)


@pytest.mark.parametrize("ids, message", [
    (np.zeros((3,), "int32"), "shape \\(n, seq_len\\)"),
    (np.zeros((0, 4), "int32"), "n >= 1"),
    (np.zeros((2, 4), "float32"), "dtype float32"),
    (np.full((2, 4), 11), "ids in \\[0, 11\\)"),
])
def test_bad_ids_are_refused(ids, message):
    with pytest.raises(ValueError, match=message):
        PieceLM(ids, V)


def test_logits_of_another_vocabulary_are_refused():
    lm = PieceLM(np.array([A, B]), V)
    with pytest.raises(ValueError, match=f"seq_len, {V}"):
        lm.decode(np.zeros((1, 6, V + 1)))

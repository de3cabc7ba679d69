"""The word-slot parts (``genwidgets.word_slots``): the tied cosine word logits, the order
in which a path's slots change words, and the sampled softmax against the full one."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")
from keras import ops  # noqa: E402

from genwidgets.spec import BOS, EOS, PAD  # noqa: E402
from genwidgets.word_slots import (  # noqa: E402
    FIRST_WORD,
    NEVER,
    SlotTraining,
    frequency_keys,
    gru_mixer,
    repeated,
    slot_code_dim,
    slot_loss,
    slot_nets,
    slot_targets,
    slot_words,
)

VOCAB, LENGTH = 40, 6


def nets(code=4):
    keras.utils.set_random_seed(0)
    return slot_nets(LENGTH, VOCAB, 8, code, 8, gru_mixer(8))


def test_the_decoder_scores_every_word_and_never_says_bos_or_eos():
    encoder, decoder, vectors, words = nets()
    ids = np.array([[5, 9, 12, EOS, PAD, PAD]], "int32")
    z = encoder.predict_on_batch(ids)
    assert z.shape == (1, LENGTH * 4)
    logits = np.asarray(decoder.predict_on_batch(z))
    assert logits.shape == (1, LENGTH, VOCAB)
    assert logits[..., BOS].max() < -1e8 and logits[..., EOS].max() < -1e8
    assert np.all(np.isfinite(logits))
    # the decoder's word vectors are the encoder's: one table
    assert words.embedding is encoder.get_layer("words")


def test_a_few_candidates_score_as_the_full_vocabulary_does():
    _, decoder, vectors, words = nets()
    z = np.random.default_rng(0).normal(size=(3, LENGTH * 4)).astype("float32")
    full = np.asarray(decoder.predict_on_batch(z))
    cand = np.array([PAD, 7, 21, 39], "int32")
    some = np.asarray(words(vectors(z), ops.convert_to_tensor(cand)))
    np.testing.assert_allclose(some, full[..., cand], rtol=1e-5, atol=1e-5)


def test_the_sampled_loss_over_every_word_is_the_full_cross_entropy():
    _, decoder, vectors, words = nets()
    rng = np.random.default_rng(1)
    z = rng.normal(size=(4, LENGTH * 4)).astype("float32")
    targets = rng.integers(FIRST_WORD, VOCAB, (4, LENGTH)).astype("int32")
    targets[:, 4:] = PAD
    every = np.array([i for i in range(VOCAB) if i not in (BOS, EOS)], "int32")
    got = np.asarray(slot_loss(words, vectors(z), targets, ops.convert_to_tensor(every),
                               ops.zeros((len(every),))))
    logits = np.asarray(decoder.predict_on_batch(z)).astype("float64")
    logp = logits - np.log(np.exp(logits - logits.max(-1, keepdims=True)).sum(-1,
                                                                            keepdims=True)) \
        - logits.max(-1, keepdims=True)
    want = -np.take_along_axis(logp, targets[..., None], -1)[..., 0].sum(-1)
    np.testing.assert_allclose(got, want, rtol=1e-4)


def test_a_candidate_drawn_twice_counts_once():
    _, _, vectors, words = nets()
    z = np.random.default_rng(2).normal(size=(1, LENGTH * 4)).astype("float32")
    targets = np.array([[8, 9, 10, PAD, PAD, PAD]], "int32")
    cand = np.array([PAD, 8, 9, 10, 11, 12], "int32")
    twice = np.array([PAD, 8, 9, 10, 11, 12, 8, 9, 10, PAD], "int32")
    def nats(ids):
        return np.asarray(slot_loss(words, vectors(z), targets, ids, -NEVER * repeated(ids)))

    np.testing.assert_allclose(nats(cand), nats(twice), rtol=1e-5)
    assert np.array_equal(np.asarray(repeated(twice)), [False] * 6 + [True] * 4)


def test_a_path_swaps_words_in_the_same_order_walked_from_either_end():
    a = np.array([4, 30, 6, 35, EOS, PAD], "int32")  # ranks: 4 frequent, 30 / 35 rare
    b = np.array([25, 5, 38, 7, 9, EOS], "int32")
    batch = np.stack([a, b])  # row 0 goes to b (the row before it), row 1 to a
    for t in np.linspace(0.01, 0.99, 23):
        there = np.asarray(slot_targets(batch, ops.convert_to_tensor([t, 1.0 - t])))
        assert np.array_equal(there[0], there[1]), t  # the same point of the segment
    start = np.asarray(slot_targets(batch, ops.convert_to_tensor([0.0, 0.0])))
    end = np.asarray(slot_targets(batch, ops.convert_to_tensor([1.0, 1.0])))
    assert np.array_equal(start, np.asarray(slot_words(batch)))
    assert np.array_equal(end[0], np.asarray(slot_words(batch))[1])
    assert EOS not in start and EOS not in end


def test_rare_words_change_first_and_a_path_changes_at_several_points():
    keys = np.asarray(frequency_keys(np.array([[4, 30, 300, EOS, PAD]], "int32")))[0]
    assert keys[0] > keys[1] > keys[2] and keys[3] == keys[4] == 0.0
    a = np.array([4, 30, 300, 5, EOS, PAD, PAD], "int32")
    b = np.array([6, 7, 8, 900, 10, 11, EOS], "int32")
    batch = np.stack([a, b])
    seen = {tuple(np.asarray(slot_targets(batch, ops.convert_to_tensor([t, 0.0])))[0])
            for t in np.linspace(0, 1, 8)}
    assert len(seen) >= 5


def test_training_gives_finite_nats_for_each_sentence_and_its_mixup_points():
    encoder, _, vectors, words = nets()
    ids = np.array([[5, 9, 12, EOS, PAD, PAD], [20, 21, EOS, PAD, PAD, PAD],
                    [30, 31, 32, 33, 34, EOS]], "int32")
    seed = keras.random.SeedGenerator(0)
    z = encoder(ids)
    own, mixed = SlotTraining(vectors, words, VOCAB, negatives=8).loss(ids, z, seed, 1.0)
    assert own.shape == (3,) and mixed.shape == (3,)
    assert np.all(np.isfinite(np.asarray(own))) and np.all(np.asarray(own) > 0)
    own, none = SlotTraining(vectors, words, VOCAB, negatives=8).loss(ids, z, seed, 0.0)
    assert none is None and own.shape == (3,)


@pytest.mark.parametrize("latent, length, code", [(128, 12, 11), (120, 12, 10), (5, 12, 1)])
def test_the_latent_is_shared_by_the_slots_rounded_up(latent, length, code):
    assert slot_code_dim(latent, length) == code

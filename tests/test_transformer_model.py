"""What is particular to the Transformer plugin: causal decoding, temperature, the compiled
sampling loop, the KL schedule and settings that change mid-run, patch sizes."""

from __future__ import annotations

import numpy as np
import pytest

import genwidgets  # noqa: F401  (sets the Keras backend first)
from genwidgets.spec import BOS, EOS, PAD, SPECIAL_TOKENS, DataInfo
from genwidgets_transformer.spec import TransformerSpec

SEQ_LEN = 12
TEXTS = ["to be or not", "the cat sat", "a dog ran", "be not so", "sat on a mat",
         "or the dog", "not a cat", "to the mat"]
CHARS = sorted(set("".join(TEXTS)))
VOCAB = SPECIAL_TOKENS + tuple(CHARS)
TINY = dict(latent_dim=4, d_model=16, num_heads=2, ff_mult=2, encoder_layers=1,
            decoder_layers=1)


def _encode(texts):
    x = np.full((len(texts), SEQ_LEN), PAD, dtype="int32")
    for row, text in enumerate(texts):
        ids = [VOCAB.index(c) for c in text[: SEQ_LEN - 1]] + [EOS]
        x[row, : len(ids)] = ids
    return x


X = _encode(TEXTS * 2)
INFO = DataInfo("tiny", "text", (SEQ_LEN,), len(X), vocab=VOCAB)


def _build(**settings):
    spec = TransformerSpec()
    return spec.build(spec.config(**{**TINY, **settings}), INFO)


@pytest.fixture(scope="module")
def text_model():
    model = _build(learning_rate=3e-3)
    model.fit(X, batch_size=8, epochs=3, verbose=0)
    return model


def test_decoder_is_causal(text_model):
    rng = np.random.default_rng(0)
    inputs = rng.integers(4, len(VOCAB), (2, SEQ_LEN)).astype("int32")
    changed = inputs.copy()
    changed[:, 7:] = rng.integers(4, len(VOCAB), (2, SEQ_LEN - 7))
    z = rng.standard_normal((2, 4)).astype("float32")
    a = text_model.decoder.predict_on_batch([inputs, z])
    b = text_model.decoder.predict_on_batch([changed, z])
    np.testing.assert_allclose(a[:, :7], b[:, :7], atol=1e-5)
    assert np.abs(a[:, 7:] - b[:, 7:]).max() > 1e-4


def test_generated_ids_end_with_eos_then_pad(text_model):
    ids = text_model.sample(16, seed=3, temperature=1.5)
    assert ids.shape == (16, SEQ_LEN) and ids.dtype == np.int32
    for row in ids:
        ends = np.flatnonzero(row == EOS)
        body = row[: ends[0]] if len(ends) else row
        assert not np.isin(body, [PAD, BOS]).any(), row
        if len(ends):
            assert (row[ends[0] + 1:] == PAD).all(), row


def test_temperature_reaches_the_compiled_loop_without_retracing(text_model, monkeypatch):
    from genwidgets_transformer.model import TextSampler

    greedy = text_model.sample(16, seed=5, temperature=0.0)  # compiles if not yet
    traces = []
    original = TextSampler.call
    monkeypatch.setattr(TextSampler, "call",
                        lambda self, inputs: traces.append(1) or original(self, inputs))
    near_greedy = text_model.sample(16, seed=5, temperature=1e-6)  # no near-ties flip
    hot = [text_model.sample(16, seed=s, temperature=2.0) for s in (5, 6)]
    again = text_model.sample(16, seed=5, temperature=2.0)
    z = np.random.default_rng(1).standard_normal((16, 4)).astype("float32")
    decoded = text_model.decode(z)
    assert traces == [], "sampling with a new seed or temperature traced the loop again"
    np.testing.assert_array_equal(near_greedy, greedy)
    assert not np.array_equal(hot[0], greedy)
    assert not np.array_equal(hot[0], hot[1])
    np.testing.assert_array_equal(again, hot[0])
    np.testing.assert_array_equal(text_model.decode(z), decoded)


@pytest.mark.parametrize("causal", [False, True])
def test_self_attention_matches_keras_multi_head_attention(causal):
    import keras

    from genwidgets_transformer.layers import SelfAttention

    d, heads, length = 16, 4, 6
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, length, d)).astype("float32")
    key_mask = np.ones((3, length), dtype=bool)
    key_mask[1, 4:] = key_mask[2, 2:] = False
    ours = SelfAttention(d, heads, causal=causal)
    ours.build(x.shape)
    qkv_kernel, qkv_bias, out_kernel, out_bias = (w.numpy() for w in ours.weights)
    theirs = keras.layers.MultiHeadAttention(heads, d // heads)
    theirs.build(x.shape, x.shape)
    kernels = qkv_kernel.reshape(d, 3, heads, d // heads)
    biases = qkv_bias.reshape(3, heads, d // heads)
    for i, dense in enumerate((theirs.query_dense, theirs.key_dense, theirs.value_dense)):
        dense.set_weights([kernels[:, i], biases[i]])
    theirs.output_dense.set_weights([out_kernel.reshape(heads, d // heads, d), out_bias])
    mask = np.repeat(key_mask[:, None, :], length, axis=1)
    expected = theirs(x, x, attention_mask=mask, use_causal_mask=causal)
    np.testing.assert_allclose(ours(x, key_mask=key_mask), expected, atol=1e-5)
    changed = x.copy()
    changed[1, 4:] = 9.0  # masked keys and values: nothing attends to them
    np.testing.assert_allclose(ours(changed, key_mask=key_mask)[1, :4],
                               ours(x, key_mask=key_mask)[1, :4], atol=1e-5)


def test_byte_dropout_drops_its_share_scales_the_rest_and_is_off_in_inference():
    from genwidgets_transformer.layers import ByteDropout

    x = np.ones((64, 1001), dtype="float32")  # not a multiple of four values
    drop = ByteDropout(0.1, seed=3)
    first, second = np.asarray(drop(x, training=True)), np.asarray(drop(x, training=True))
    share = (first == 0).mean()
    assert abs(share - 26 / 256) < 0.005, share
    assert abs(first.mean() - 1.0) < 0.01
    np.testing.assert_allclose(first[first > 0], 256 / 230, rtol=1e-6)
    assert (first == 0).mean(axis=0).std() < 0.05  # no column always kept or dropped
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(drop(x, training=False), x)
    np.testing.assert_array_equal(ByteDropout(0.0)(x, training=True), x)
    with pytest.raises(ValueError, match="rate"):
        ByteDropout(1.0)


def test_elbo_terms_count_characters_and_eos(text_model):
    terms = text_model.elbo_terms(X[:5])
    np.testing.assert_array_equal(terms["count"], (X[:5] != PAD).sum(1))
    assert (terms["reconstruction"] > 0).all() and (terms["kl"] >= 0).all()


def test_kl_warmup_starts_at_zero_and_beta_changes_mid_run():
    model = _build(kl_warmup_steps=1000, free_bits=0.0)
    first = model.fit(X[:8], batch_size=8, epochs=1, verbose=0).history
    assert first["loss"][0] == pytest.approx(first["reconstruction"][0], rel=1e-6)
    assert first["kl"][0] > 0
    step_fn = model.train_function
    model.set_hyper("beta", 0.0)
    off = model.fit(X[:8], batch_size=8, epochs=1, verbose=0).history
    assert off["loss"][0] == pytest.approx(off["reconstruction"][0], rel=1e-6)
    model.set_hyper("beta", 500.0)
    on = model.fit(X[:8], batch_size=8, epochs=1, verbose=0).history
    assert on["loss"][0] > on["reconstruction"][0] + 1e-3
    assert model.train_function is step_fn, "changing beta recompiled the step"
    with pytest.raises(ValueError, match="(?i)expected one of"):
        model.set_hyper("d_model", 3)


def test_patches_fit_digits_and_mnist_and_other_sizes_fail_clearly():
    spec = TransformerSpec()
    config = spec.config(**TINY)
    for shape in ((8, 8, 1), (28, 28, 1)):
        model = spec.build(config, DataInfo("img", "image", shape, 4))
        out = model.decode(np.zeros((2, 4), "float32"))
        assert out.shape == (2, *shape) and 0.0 <= out.min() and out.max() <= 1.0
    with pytest.raises(ValueError, match="patch_size must divide"):
        spec.build(config, DataInfo("img", "image", (10, 10, 1), 4))


def test_settings_are_checked():
    with pytest.raises(ValueError, match="d_model must be divisible by num_heads"):
        TransformerSpec().config(d_model=30, num_heads=4)
    with pytest.raises(ValueError, match="token_dropout"):
        TransformerSpec().config(token_dropout=1.5)

"""The encoder and decoder nets (functional Keras models) for text and images."""

from __future__ import annotations

import keras
from keras import layers, ops

from genwidgets.spec import PAD, DataInfo
from genwidgets_transformer.layers import (
    Patchify,
    PositionEmbedding,
    TransformerBlock,
    Unpatchify,
)


def _blocks(config, count: int, causal: bool, prefix: str, local_mix: int = 0):
    return [
        TransformerBlock(config.d_model, config.num_heads, config.ff_mult * config.d_model,
                         config.dropout, causal=causal, local_mix=local_mix,
                         name=f"{prefix}_block_{i}")
        for i in range(count)
    ]


def _posterior(config, pooled):
    """Mean and log-variance of q(z | x) from a pooled vector."""
    stats = layers.Dense(2 * config.latent_dim, name="posterior")(pooled)
    mean = stats[:, : config.latent_dim]
    log_var = ops.clip(stats[:, config.latent_dim:], -12.0, 8.0)
    return mean, log_var


def _encoded_tokens(config, info: DataInfo):
    """The text encoder's input, its real-token mask and the blocks' normalised output."""
    seq_len, vocab, d = info.seq_len, info.vocab_size, config.d_model
    tokens = keras.Input((seq_len,), dtype="int32", name="tokens")
    real = ops.cast(ops.not_equal(tokens, PAD), "float32")
    h = layers.Embedding(vocab, d, name="enc_embedding")(tokens)
    h = PositionEmbedding(seq_len, d, name="enc_positions")(h)
    for block in _blocks(config, config.encoder_layers, False, "enc"):
        h = block(h, key_mask=real)
    h = layers.LayerNormalization(epsilon=1e-5, name="enc_norm")(h)
    return tokens, real, h


def text_nets(config, info: DataInfo):
    """Encoder tokens -> (mean, log_var); decoder (shifted tokens, z) -> logits, causal."""
    seq_len, vocab, d = info.seq_len, info.vocab_size, config.d_model
    tokens, real, h = _encoded_tokens(config, info)
    weights = ops.expand_dims(real, -1)
    pooled = ops.sum(h * weights, axis=1) / ops.maximum(ops.sum(weights, axis=1), 1.0)
    encoder = keras.Model(tokens, _posterior(config, pooled), name="encoder")

    inputs = keras.Input((seq_len,), dtype="int32", name="decoder_inputs")
    z = keras.Input((config.latent_dim,), name="z")
    h = layers.Embedding(vocab, d, name="dec_embedding")(inputs)
    h = PositionEmbedding(seq_len, d, name="dec_positions")(h)
    h = h + ops.expand_dims(layers.Dense(d, name="z_projection")(z), 1)
    for block in _blocks(config, config.decoder_layers, True, "dec", config.local_mix):
        h = block(h)
    h = layers.LayerNormalization(epsilon=1e-5, name="dec_norm")(h)
    logits = layers.Dense(vocab, name="logits")(h)
    return encoder, keras.Model([inputs, z], logits, name="decoder")


def parallel_text_nets(config, info: DataInfo):
    """Encoder tokens -> (mean, log_var), read position by position (not pooled); decoder
    z -> logits for every position at once through non-causal blocks: z is its only input."""
    from genwidgets.text_nets import parallel_decoder

    seq_len, vocab, d = info.seq_len, info.vocab_size, config.d_model
    tokens, real, h = _encoded_tokens(config, info)
    h = layers.Dense(32, name="enc_per_position")(h) * ops.expand_dims(real, -1)
    encoder = keras.Model(tokens, _posterior(config, layers.Flatten()(h)), name="encoder")

    def mix(h):
        for block in _blocks(config, config.decoder_layers, False, "dec"):
            h = block(h)
        return h

    return encoder, parallel_decoder(seq_len, vocab, config.latent_dim, d, mix)


def word_slot_nets(config, info: DataInfo):
    """Whole words (``tokens="word"``): a code per word slot, the slots mixed by
    ``max(1, encoder_layers)`` Transformer blocks; each slot decoded on its own
    (:mod:`genwidgets.word_slots`). ``(encoder, decoder, slot_vectors, words)``."""
    from genwidgets.word_slots import slot_code_dim, slot_nets

    def mix(h):
        for block in _blocks(config, max(1, config.encoder_layers), False, "enc"):
            h = block(h)
        return h

    code = slot_code_dim(config.latent_dim, info.seq_len)
    return slot_nets(info.seq_len, info.vocab_size, config.d_model, code, config.d_model,
                     mix, outputs=("mean", "log_var"))


def image_nets(config, info: DataInfo):
    """Patch Transformer: encoder image -> (mean, log_var); decoder z -> pixel logits."""
    h_px, w_px, channels = info.shape
    p, d = config.patch_size, config.d_model
    if h_px % p or w_px % p:
        raise ValueError(
            f"transformer: patch_size must divide the image height and width. Received: "
            f"patch_size={p}, shape={info.shape}. Try patch_size=4 (8x8 and 28x28 images).")
    n_patches = (h_px // p) * (w_px // p)
    image = keras.Input(info.shape, name="image")
    h = Patchify(p, name="patchify")(image)
    h = layers.Dense(d, name="patch_embedding")(h)
    h = PositionEmbedding(n_patches, d, name="enc_positions")(h)
    for block in _blocks(config, config.encoder_layers, False, "enc"):
        h = block(h)
    h = layers.LayerNormalization(epsilon=1e-5, name="enc_norm")(h)
    encoder = keras.Model(image, _posterior(config, ops.mean(h, axis=1)), name="encoder")

    z = keras.Input((config.latent_dim,), name="z")
    h = layers.Dense(n_patches * d, name="z_to_patches")(z)
    h = layers.Reshape((n_patches, d))(h)
    h = PositionEmbedding(n_patches, d, name="dec_positions")(h)
    for block in _blocks(config, config.decoder_layers, False, "dec"):
        h = block(h)
    h = layers.LayerNormalization(epsilon=1e-5, name="dec_norm")(h)
    h = layers.Dense(p * p * channels, name="patch_pixels")(h)
    logits = Unpatchify(p, info.shape, name="unpatchify")(h)
    return encoder, keras.Model(z, logits, name="decoder")

"""Keras layers the Transformer nets are made of: a pre-norm block, positions, patches."""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import layers, ops

from genwidgets.text_nets import Positions

PACKAGE = "genwidgets_transformer"


@keras.saving.register_keras_serializable(package=PACKAGE)
class ByteDropout(layers.Layer):
    """Dropout that draws one random byte per value, four to a 32-bit word (on JAX).

    Keras' ``Dropout`` draws a float per value, and on CPU those draws are a large share of
    a training step. Here one ``jax.random.bits`` word serves four values: at the
    Transformer's text settings (batch 8 of 128 characters, dropout 0.1) training ran 14%
    more steps a second on this project's 2-core CPU (10.4 against 9.1). The rate is
    rounded to a multiple of 1/256 (0.1 drops 26/256 = 0.1016), the kept values are scaled by
    the exact inverse of the keep share. Other backends use ``keras.random.dropout``.
    """

    def __init__(self, rate: float, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"Expected 0 <= rate < 1. Received: rate={rate}")
        self.rate, self.seed = rate, seed
        self.threshold = int(round(rate * 256))
        self.seed_generator = keras.random.SeedGenerator(seed) if rate else None

    def call(self, x, training=None):
        if not training or not self.threshold:
            return x
        if keras.backend.backend() != "jax":
            return keras.random.dropout(x, self.threshold / 256, seed=self.seed_generator)
        import jax

        shape = tuple(x.shape)
        n = math.prod(shape)
        words = jax.random.bits(self.seed_generator.next(), ((n + 3) // 4,), np.uint32)
        draws = jax.lax.bitcast_convert_type(words, np.uint8).reshape(-1)[:n].reshape(shape)
        keep = draws >= self.threshold
        return ops.where(keep, x * (256.0 / (256 - self.threshold)), ops.zeros_like(x))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


@keras.saving.register_keras_serializable(package=PACKAGE)
class SelfAttention(layers.Layer):
    """Multi-head self-attention, causal or not, with one fused query/key/value projection.

    ``call(x, key_mask=None)``: ``key_mask`` (batch, length) marks the positions that may be
    attended to. Dropout on the attention weights is :class:`ByteDropout`.
    """

    def __init__(self, d_model: int, num_heads: int, dropout: float = 0.0,
                 causal: bool = False, **kwargs):
        super().__init__(**kwargs)
        if d_model % num_heads:
            raise ValueError(f"Expected d_model divisible by num_heads. Received: "
                             f"d_model={d_model}, num_heads={num_heads}")
        self.d_model, self.num_heads = d_model, num_heads
        self.dropout, self.causal = dropout, causal
        self.qkv = layers.Dense(3 * d_model, name="qkv")
        self.out = layers.Dense(d_model, name="out")
        self.drop = ByteDropout(dropout, name="weights_dropout")

    def build(self, input_shape):
        self.qkv.build(input_shape)
        self.out.build(input_shape)

    def call(self, x, key_mask=None, training=None):
        length, heads = x.shape[1], self.num_heads
        qkv = ops.reshape(self.qkv(x), (-1, length, 3, heads, self.d_model // heads))
        q, k, v = qkv[:, :, 0], qkv[:, :, 1], qkv[:, :, 2]
        scores = ops.einsum("bqhd,bkhd->bhqk", q, k) * (1.0 / math.sqrt(self.d_model // heads))
        allowed = None
        if self.causal:
            allowed = np.tril(np.ones((length, length), dtype=bool))[None, None]
        if key_mask is not None:
            keys = ops.cast(key_mask, "bool")[:, None, None, :]
            allowed = keys if allowed is None else ops.logical_and(allowed, keys)
        if allowed is not None:
            scores = ops.where(allowed, scores, ops.full_like(scores, -1e9))
        weights = self.drop(ops.softmax(scores, axis=-1), training=training)
        h = ops.einsum("bhqk,bkhd->bqhd", weights, v)
        return self.out(ops.reshape(h, (-1, length, self.d_model)))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "d_model": self.d_model, "num_heads": self.num_heads,
                "dropout": self.dropout, "causal": self.causal}


@keras.saving.register_keras_serializable(package=PACKAGE)
class TransformerBlock(layers.Layer):
    """Pre-norm self-attention + feed-forward block, causal or not.

    ``call(x, key_mask=None)``: ``key_mask`` (batch, length) marks the positions that may be
    attended to (e.g. not padding). With ``local_mix`` > 0 (causal blocks only) the
    attention's input is first mixed with the ``local_mix`` previous positions
    (:class:`CausalLocalMix`), which gives attention the recent characters at no cost.
    The feed-forward uses the tanh approximation of GELU (cheaper on CPU).
    """

    def __init__(self, d_model: int, num_heads: int, ff_dim: int, dropout: float = 0.0,
                 causal: bool = False, local_mix: int = 0, **kwargs):
        super().__init__(**kwargs)
        if local_mix and not causal:
            raise ValueError(
                f"Expected local_mix=0 for a non-causal block. Received: local_mix={local_mix}")
        self.d_model, self.num_heads, self.ff_dim = d_model, num_heads, ff_dim
        self.dropout, self.causal, self.local_mix = dropout, causal, local_mix
        self.mix = CausalLocalMix(local_mix, name="local_mix") if local_mix else None
        self.norm1 = layers.LayerNormalization(epsilon=1e-5)
        self.attention = SelfAttention(d_model, num_heads, dropout, causal, name="attention")
        self.norm2 = layers.LayerNormalization(epsilon=1e-5)
        self.ff_in = layers.Dense(ff_dim)
        self.ff_out = layers.Dense(d_model)
        self.drop = ByteDropout(dropout, name="dropout")

    def build(self, input_shape):
        self.norm1.build(input_shape)
        if self.mix is not None:
            self.mix.build(input_shape)
        self.attention.build(input_shape)
        self.norm2.build(input_shape)
        self.ff_in.build(input_shape)
        self.ff_out.build((*input_shape[:-1], self.ff_dim))

    def call(self, x, key_mask=None, training=None):
        h = self.norm1(x)
        if self.mix is not None:
            h = self.mix(h)
        h = self.attention(h, key_mask=key_mask, training=training)
        x = x + self.drop(h, training=training)
        h = self.ff_out(ops.gelu(self.ff_in(self.norm2(x)), approximate=True))
        return x + self.drop(h, training=training)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "d_model": self.d_model, "num_heads": self.num_heads,
                "ff_dim": self.ff_dim, "dropout": self.dropout, "causal": self.causal,
                "local_mix": self.local_mix}


@keras.saving.register_keras_serializable(package=PACKAGE)
class CausalLocalMix(layers.Layer):
    """``h[t] + sum_j w_j * h[t - j]`` for ``j = 1 .. width``, per channel.

    A causal depthwise convolution written as shifts (fast under XLA on CPU). The weights
    start at zero, so the layer starts as the identity.
    """

    def __init__(self, width: int, **kwargs):
        super().__init__(**kwargs)
        if width < 1:
            raise ValueError(f"Expected width >= 1. Received: width={width}")
        self.width = width

    def build(self, input_shape):
        self.kernel = self.add_weight((self.width, input_shape[-1]), initializer="zeros",
                                      name="kernel")

    def call(self, h):
        length = h.shape[1]
        out = h
        for j in range(1, min(self.width, length - 1) + 1):
            shifted = ops.pad(h, [[0, 0], [j, 0], [0, 0]])[:, :length]
            out = out + shifted * self.kernel[j - 1]
        return out

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "width": self.width}


@keras.saving.register_keras_serializable(package=PACKAGE)
class PositionEmbedding(Positions):
    """Add a learned vector per position: ``genwidgets.text_nets.Positions`` under the name
    the Transformer's saved models carry."""


@keras.saving.register_keras_serializable(package=PACKAGE)
class Patchify(layers.Layer):
    """(batch, H, W, C) images -> (batch, H/p * W/p, p*p*C) patches, row by row."""

    def __init__(self, patch_size: int, **kwargs):
        super().__init__(**kwargs)
        self.patch_size = patch_size

    def call(self, x):
        p = self.patch_size
        _, h, w, c = x.shape
        x = ops.reshape(x, (-1, h // p, p, w // p, p, c))
        x = ops.transpose(x, (0, 1, 3, 2, 4, 5))
        return ops.reshape(x, (-1, (h // p) * (w // p), p * p * c))

    def compute_output_shape(self, input_shape):
        _, h, w, c = input_shape
        p = self.patch_size
        return (input_shape[0], (h // p) * (w // p), p * p * c)

    def get_config(self):
        return {**super().get_config(), "patch_size": self.patch_size}


@keras.saving.register_keras_serializable(package=PACKAGE)
class Unpatchify(layers.Layer):
    """The inverse of :class:`Patchify` for images of ``shape`` (H, W, C)."""

    def __init__(self, patch_size: int, shape, **kwargs):
        super().__init__(**kwargs)
        self.patch_size, self.shape = patch_size, tuple(shape)

    def call(self, x):
        p = self.patch_size
        h, w, c = self.shape
        x = ops.reshape(x, (-1, h // p, w // p, p, p, c))
        x = ops.transpose(x, (0, 1, 3, 2, 4, 5))
        return ops.reshape(x, (-1, h, w, c))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self.shape)

    def get_config(self):
        return {**super().get_config(), "patch_size": self.patch_size, "shape": self.shape}

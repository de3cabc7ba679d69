"""Keras layers the Transformer nets are made of: a pre-norm block, positions, patches."""

from __future__ import annotations

import keras
from keras import layers, ops

PACKAGE = "genwidgets_transformer"


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
        self.attention = layers.MultiHeadAttention(
            num_heads, d_model // num_heads, dropout=dropout)
        self.norm2 = layers.LayerNormalization(epsilon=1e-5)
        self.ff_in = layers.Dense(ff_dim)
        self.ff_out = layers.Dense(d_model)
        self.drop = layers.Dropout(dropout)

    def build(self, input_shape):
        self.norm1.build(input_shape)
        if self.mix is not None:
            self.mix.build(input_shape)
        self.attention.build(input_shape, input_shape)
        self.norm2.build(input_shape)
        self.ff_in.build(input_shape)
        self.ff_out.build((*input_shape[:-1], self.ff_dim))

    def call(self, x, key_mask=None, training=None):
        mask = None
        if key_mask is not None:
            length = ops.shape(x)[1]
            mask = ops.repeat(ops.expand_dims(ops.cast(key_mask, "bool"), 1), length, axis=1)
        h = self.norm1(x)
        if self.mix is not None:
            h = self.mix(h)
        h = self.attention(h, h, attention_mask=mask, use_causal_mask=self.causal,
                           training=training)
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
class PositionEmbedding(layers.Layer):
    """Add a learned vector per position to a (batch, length, dim) sequence."""

    def __init__(self, length: int, dim: int, **kwargs):
        super().__init__(**kwargs)
        self.length, self.dim = length, dim

    def build(self, input_shape):
        self.table = self.add_weight((self.length, self.dim), name="positions",
                                     initializer=keras.initializers.RandomNormal(stddev=0.02))

    def call(self, x):
        return x + ops.cast(ops.expand_dims(self.table, 0), x.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "length": self.length, "dim": self.dim}


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

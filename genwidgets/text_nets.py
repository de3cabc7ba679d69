"""Keras parts for sentence autoencoders, shared by model plugins (imports Keras).

A sentence's latent must carry the sentence: a decoder that reads its previous tokens
learns the language and ignores z (every point then decodes to the same line). These
parts make z the decoder's only input:

- :func:`sentence_encoder`: token ids -> each position's embedding (plus a learned
  position vector), cut to a few numbers per position, flattened and projected to the
  latent's statistics. Word order is kept, PAD positions give zeros.
- :func:`parallel_decoder`: z -> a vector per position -> a sequence ``mixer`` (a
  bidirectional GRU, Transformer blocks, ...) -> logits for every position at once. No
  teacher forcing, so decoding is one pass (``argmax`` per position, cut at ``EOS``).
- :func:`sequence_loss`: cross-entropy summed over a sentence's positions, PAD after the
  end included (the decoder must say where the sentence ends).
- :func:`latent_mixup` and :func:`mixup_loss`: the points between two training sentences
  (``z_A + t (z_B - z_A)``, B the next sentence of the batch, t uniform) decoded towards
  both, position by position (weight ``1 - t`` on A's token, ``t`` on B's). Without it the
  space between two codes is a hole the decoder never saw: a path from A to B detours
  through piece salad. With it the decoder learns that the middle of a path holds words
  of A and of B, so a path changes the sentence a few words at a time.

Used by ``genwidgets_ae``, ``genwidgets_vae`` and ``genwidgets_transformer``; a third
party's plugin may use them too (``from genwidgets.text_nets import ...`` inside
``build``: importing ``genwidgets`` alone never imports Keras).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import keras
import numpy as np
from keras import layers, ops

from genwidgets.spec import BOS, EOS, PAD

PACKAGE = "genwidgets"
NEVER = -1e9  # logit given to tokens a sentence never holds (<bos>)


@keras.saving.register_keras_serializable(package=PACKAGE)
class Positions(layers.Layer):
    """Add a learned vector per position to a (batch, length, dim) sequence."""

    def __init__(self, length: int, dim: int, **kwargs):
        super().__init__(**kwargs)
        self.length, self.dim = int(length), int(dim)

    def build(self, input_shape):
        self.table = self.add_weight((self.length, self.dim), name="positions",
                                     initializer=keras.initializers.RandomNormal(stddev=0.02))

    def call(self, x):
        return x + ops.cast(ops.expand_dims(self.table, 0), x.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "length": self.length, "dim": self.dim}


def sentence_encoder(seq_len: int, vocab_size: int, embed_dim: int, outputs: Sequence[int],
                     per_position: int = 32, name: str = "encoder",
                     output_names: Sequence[str] = ("z",)) -> keras.Model:
    """Token ids (n, seq_len) -> one (n, size) output per entry of ``outputs`` (its layer
    named by ``output_names``, e.g. ``("mean", "log_var")``)."""
    tokens = keras.Input((seq_len,), dtype="int32", name="tokens")
    real = ops.expand_dims(ops.cast(ops.not_equal(tokens, PAD), "float32"), -1)
    h = layers.Embedding(vocab_size, embed_dim, name="embedding")(tokens)
    h = Positions(seq_len, embed_dim, name="positions")(h)
    h = layers.LayerNormalization(epsilon=1e-5, name="norm")(h)
    h = layers.Dense(per_position, name="per_position")(h) * real
    flat = layers.Flatten(name="flatten")(h)
    names = list(output_names) + [f"out_{i}" for i in range(len(output_names), len(outputs))]
    heads = [layers.Dense(size, name=names[i])(flat) for i, size in enumerate(outputs)]
    return keras.Model(tokens, heads if len(heads) > 1 else heads[0], name=name)


def parallel_decoder(seq_len: int, vocab_size: int, latent_dim: int, width: int,
                     mixer: Callable, name: str = "decoder") -> keras.Model:
    """z (n, latent_dim) -> logits (n, seq_len, vocab_size), every position at once.

    ``mixer(h)`` maps (n, seq_len, width) to (n, seq_len, any) so that positions agree.
    """
    z = keras.Input((latent_dim,), name="z")
    h = layers.Dense(seq_len * width, name="z_to_positions")(z)
    h = layers.Reshape((seq_len, width))(h)
    h = Positions(seq_len, width, name="positions")(h)
    h = mixer(h)
    h = layers.LayerNormalization(epsilon=1e-5, name="norm")(h)
    logits = layers.Dense(vocab_size, name="logits")(h)
    return keras.Model(z, logits, name=name)


def sequence_loss(tokens, logits):
    """Nats per sentence: cross-entropy summed over every position (n,)."""
    ce = keras.losses.sparse_categorical_crossentropy(ops.cast(tokens, "int32"), logits,
                                                      from_logits=True)
    return ops.sum(ce, axis=-1)


def latent_mixup(z, seed_generator):
    """``(z_mix, t)``: each z moved ``t`` (uniform in [0, 1), one per row) of the way
    towards the next row's z (the batch rolled by one)."""
    t = keras.random.uniform((ops.shape(z)[0],), seed=seed_generator)
    return z + ops.expand_dims(t, -1) * (ops.roll(z, 1, axis=0) - z), t


def mixup_loss(tokens, logits, t):
    """Nats per sentence of ``logits`` decoded at ``latent_mixup``'s points: ``(1 - t)``
    times the cross-entropy against the sentence's own tokens plus ``t`` times the one
    against the next row's (n,)."""
    tokens = ops.cast(tokens, "int32")
    return ((1.0 - t) * sequence_loss(tokens, logits)
            + t * sequence_loss(ops.roll(tokens, 1, axis=0), logits))


def decode_with_mixup(decoder, z, seed_generator, training: bool):
    """``(logits, mixed_logits, t)``: ``decoder`` on z and on ``latent_mixup(z)`` in one
    call (one batch of twice the rows)."""
    z_mix, t = latent_mixup(z, seed_generator)
    n = ops.shape(z)[0]
    both = decoder(ops.concatenate([z, z_mix], axis=0), training=training)
    return both[:n], both[n:], t


def scored_units(tokens):
    """Per sentence: its tokens and its EOS (what nats per token count), (n,)."""
    return ops.sum(ops.cast(ops.not_equal(tokens, PAD), "float32"), axis=-1)


def drop_tokens(tokens, rate, seed_generator, replacement: int):
    """Replace each real token (not PAD/BOS/EOS) by ``replacement`` with chance ``rate``."""
    tokens = ops.cast(tokens, "int32")
    u = keras.random.uniform(ops.shape(tokens), seed=seed_generator)
    real = ops.logical_and(tokens > EOS, u < rate)
    return ops.where(real, replacement, tokens)


def ids_from_logits(logits, temperature: float = 0.0, rng=None) -> np.ndarray:
    """Token ids (n, seq_len) from logits: argmax (temperature 0) or Gumbel-max sampling;
    never BOS; PAD after the first EOS."""
    logits = np.asarray(logits, dtype="float32").copy()
    logits[..., BOS] = NEVER
    if temperature > 0:
        rng = rng if rng is not None else np.random.default_rng(0)
        g = -np.log(-np.log(rng.uniform(1e-9, 1.0, logits.shape)))
        logits = logits / temperature + g
    ids = logits.argmax(-1).astype("int32")
    ended = np.cumsum(ids == EOS, axis=1) - (ids == EOS) > 0
    ids[ended] = PAD
    return ids


def bidirectional_gru(units: int, count: int = 1, prefix: str = "mixer") -> Callable:
    """A mixer: ``count`` bidirectional GRU layers of ``units`` each way."""
    def mix(h):
        for i in range(count):
            h = layers.Bidirectional(layers.GRU(units, return_sequences=True),
                                     name=f"{prefix}_gru_{i}")(h)
        return h
    return mix


CUSTOM_OBJECTS = {"Positions": Positions}

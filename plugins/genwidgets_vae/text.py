"""The sentence VAE (Bowman et al. 2016): GRU encoder -> Gaussian z -> GRU decoder. Maths only.

The decoder sees z at every step (and as its initial state) and reads the previous
character, replaced by ``<unk>`` with chance ``word_dropout`` while training so that it
must lean on z. Free bits and KL annealing (in the base class) keep the KL from collapsing.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from genwidgets.spec import BOS, EOS, PAD, UNK
from genwidgets_vae.base import VAEBase, batched

_NEVER = -1e9  # logit added to tokens a sentence never produces (<pad>, <bos>)


@keras.saving.register_keras_serializable(package="genwidgets_vae")
class TextDecoder(layers.Layer):
    """p(x|z): teacher-forced logits, or a fixed-length autoregressive generation loop."""

    def __init__(self, vocab_size: int, seq_len: int, latent_dim: int, embed_dim: int,
                 units: int, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size, self.seq_len, self.latent_dim = vocab_size, seq_len, latent_dim
        self.embed_dim, self.units = embed_dim, units
        self.embedding = layers.Embedding(vocab_size, embed_dim, name="embedding")
        self.initial = layers.Dense(units, activation="tanh", name="initial_state")
        self.gru = layers.GRU(units, return_sequences=True, name="gru")
        self.project = layers.Dense(vocab_size, name="logits")

    def build(self, input_shape=None):
        self.embedding.build((None, self.seq_len))
        self.initial.build((None, self.latent_dim))
        self.gru.build((None, self.seq_len, self.embed_dim + self.latent_dim))
        self.project.build((None, self.seq_len, self.units))
        self.built = True

    def call(self, z, tokens=None, gumbel=None):
        """With ``tokens`` (the previous character at each position): logits (n, L, V).
        Without: generated ids (n, L), each step ``argmax(logits + gumbel[:, i])``
        (zeros give greedy decoding; temperature * Gumbel noise gives sampling)."""
        if tokens is not None:
            inputs = self.embedding(tokens)
            zs = ops.repeat(ops.expand_dims(z, 1), ops.shape(inputs)[1], axis=1)
            seq = self.gru(ops.concatenate([inputs, ops.cast(zs, inputs.dtype)], axis=-1),
                           initial_state=[self.initial(z)])
            return self.project(seq)
        return self._generate(z, gumbel)

    def _generate(self, z, gumbel):
        n, length = ops.shape(z)[0], self.seq_len
        never = ops.where(ops.isin(ops.arange(self.vocab_size), [PAD, BOS]), _NEVER, 0.0)
        positions = ops.expand_dims(ops.arange(length), 0)

        def step(i, state):
            h, prev, out, done = state
            x = ops.concatenate([self.embedding(prev), ops.cast(z, h.dtype)], axis=-1)
            h, _ = self.gru.cell(x, [h])
            logits = self.project(h) + never
            noise = ops.take(gumbel, i, axis=1)
            token = ops.cast(ops.argmax(logits + noise, axis=-1), "int32")
            token = ops.where(done, PAD, token)
            out = ops.where(positions == i, ops.expand_dims(token, 1), out)
            return h, token, out, ops.logical_or(done, token == EOS)

        start = (self.initial(z), ops.full((n,), BOS, dtype="int32"),
                 ops.zeros((n, length), dtype="int32"), ops.zeros((n,), dtype="bool"))
        return ops.fori_loop(0, length, step, start)[2]

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size, "seq_len": self.seq_len,
                "latent_dim": self.latent_dim, "embed_dim": self.embed_dim, "units": self.units}


def _encoder(config, seq_len: int, vocab_size: int):
    x = keras.Input((seq_len,), dtype="int32", name="tokens")
    t = layers.Embedding(vocab_size, config.embed_dim, mask_zero=True)(x)
    t = layers.Bidirectional(layers.GRU(config.rnn_units))(t)
    d = config.latent_dim
    mean, log_var = layers.Dense(d, name="mean")(t), layers.Dense(d, name="log_var")(t)
    return keras.Model(x, [mean, log_var], name="encoder")


@keras.saving.register_keras_serializable(package="genwidgets_vae")
class TextVAE(VAEBase):
    """Token ids (n, L) -> q(z|x) -> per-character logits; loss in nats per sentence."""

    use_free_bits = True

    def __init__(self, config: dict, data_info: dict, **kwargs):
        super().__init__(config, data_info, **kwargs)
        if self.modality != "text":
            raise ValueError(f"TextVAE takes text data. Received: {self.modality!r}")
        info, cfg = self.data_info, self.vae_config
        if info.vocab_size <= UNK:
            raise ValueError(
                f"vae: text needs a vocabulary with the special tokens and characters. "
                f"Received: vocab_size={info.vocab_size}"
            )
        self.seq_len, self.vocab_size = info.seq_len, info.vocab_size
        self.encoder = _encoder(cfg, self.seq_len, self.vocab_size)
        self.decoder = TextDecoder(self.vocab_size, self.seq_len, cfg.latent_dim,
                                   cfg.embed_dim, cfg.rnn_units, name="decoder")
        self.decoder.build()
        self._generate_fn = None

    def call(self, x, training=False):
        x = ops.cast(x, "int32")
        mean, log_var = self.encoder(x, training=training)
        z = self.reparameterize(mean, log_var)
        n = ops.shape(x)[0]
        previous = ops.concatenate([ops.full((n, 1), BOS, dtype="int32"), x[:, :-1]], axis=1)
        if training:  # word dropout: hide some characters from the decoder
            hide = keras.random.uniform(ops.shape(previous), seed=self.seed_generator)
            hide = ops.logical_and(hide < self.hyper["word_dropout"], previous > UNK)
            previous = ops.where(hide, UNK, previous)
        return self.decoder(z, tokens=previous), mean, log_var

    def reconstruction_loss(self, x, logits):
        """Summed cross-entropy over each sentence's characters and its EOS (nats)."""
        x = ops.cast(x, "int32")
        mask = ops.cast(ops.not_equal(x, PAD), logits.dtype)
        ce = keras.losses.sparse_categorical_crossentropy(x, logits, from_logits=True)
        return ops.sum(ce * mask, axis=-1)

    # -- decoding: one compiled loop over seq_len positions ------------------
    def _generate(self, z: np.ndarray, gumbel: np.ndarray) -> np.ndarray:
        if self._generate_fn is None:
            import jax

            def run(trainable, non_trainable, z, gumbel):
                return self.decoder.stateless_call(trainable, non_trainable, z,
                                                   gumbel=gumbel)[0]

            self._generate_fn = jax.jit(run)
        return self._generate_fn([v.value for v in self.decoder.trainable_variables],
                                 [v.value for v in self.decoder.non_trainable_variables],
                                 z, gumbel)

    def _tokens(self, z: np.ndarray, temperature: float, rng, batch_size: int) -> np.ndarray:
        shape = (len(z), self.seq_len, self.vocab_size)
        if temperature > 0 and rng is not None:
            uniform = rng.uniform(1e-9, 1.0, shape)
            noise = (-np.log(-np.log(uniform)) * temperature).astype("float32")
        else:
            noise = np.zeros(shape, dtype="float32")
        ids = batched(lambda zn: self._generate(*zn), (z, noise), batch_size)
        return ids.astype("int32")

    def decode(self, z, batch_size: int = 256) -> np.ndarray:
        """Greedy decoding: token ids (n, seq_len), PAD after the first EOS."""
        return self._tokens(self.check_latents(z), 0.0, None, batch_size)

    def sample(self, n: int, seed: int = 0, temperature: float = 1.0) -> np.ndarray:
        """Draw z from N(0, I) and decode with ``temperature`` (0 = greedy)."""
        z, rng = self.prior_draws(n, seed)
        return self._tokens(z, float(temperature), rng, 256)

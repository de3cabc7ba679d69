"""The autoencoder's Keras model: maths only."""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
from keras import layers, ops

from genwidgets.spec import PAD, DataInfo
from genwidgets_ae.spec import AESpec


def _use_conv(config, info: DataInfo) -> bool:
    if config.architecture != "auto":
        return config.architecture == "conv"
    import jax

    small = min(info.shape[:2]) < 16
    return not small and jax.default_backend() != "cpu"


def _image_nets(config, info: DataInfo):
    h, w, c = info.shape
    x = keras.Input(info.shape, name="image")
    if _use_conv(config, info):
        if h % 4 or w % 4:
            raise ValueError(
                f"ae: the conv architecture needs height and width divisible by 4. "
                f"Received: shape={info.shape}. Use architecture='dense'."
            )
        f = config.filters
        t = layers.Conv2D(f, 3, strides=2, padding="same", activation="relu")(x)
        t = layers.Conv2D(2 * f, 3, strides=2, padding="same", activation="relu")(t)
        t = layers.Flatten()(t)
        t = layers.Dense(config.hidden, activation="relu")(t)
        z = layers.Dense(config.latent_dim, name="z")(t)
        zin = keras.Input((config.latent_dim,), name="z")
        t = layers.Dense(config.hidden, activation="relu")(zin)
        t = layers.Dense((h // 4) * (w // 4) * 2 * f, activation="relu")(t)
        t = layers.Reshape((h // 4, w // 4, 2 * f))(t)
        t = layers.Conv2DTranspose(f, 3, strides=2, padding="same", activation="relu")(t)
        t = layers.Conv2DTranspose(c, 3, strides=2, padding="same")(t)
    else:
        t = layers.Flatten()(x)
        t = layers.Dense(config.hidden, activation="relu")(t)
        t = layers.Dense(config.hidden // 2, activation="relu")(t)
        z = layers.Dense(config.latent_dim, name="z")(t)
        zin = keras.Input((config.latent_dim,), name="z")
        t = layers.Dense(config.hidden // 2, activation="relu")(zin)
        t = layers.Dense(config.hidden, activation="relu")(t)
        t = layers.Dense(h * w * c)(t)
        t = layers.Reshape((h, w, c))(t)
    logits = layers.Activation("linear", name="logits")(t)
    return keras.Model(x, z, name="encoder"), keras.Model(zin, logits, name="decoder")


def _text_nets(config, info: DataInfo):
    seq_len, vocab = info.seq_len, info.vocab_size
    x = keras.Input((seq_len,), dtype="int32", name="tokens")
    t = layers.Embedding(vocab, config.embed_dim, mask_zero=True)(x)
    t = layers.Bidirectional(layers.GRU(config.hidden))(t)
    z = layers.Dense(config.latent_dim, name="z")(t)
    zin = keras.Input((config.latent_dim,), name="z")
    t = layers.Dense(config.hidden, activation="tanh")(zin)
    t = PositionedRepeat(seq_len, config.embed_dim)(t)
    t = layers.GRU(config.hidden, return_sequences=True)(t)
    logits = layers.Dense(vocab, name="logits")(t)
    return keras.Model(x, z, name="encoder"), keras.Model(zin, logits, name="decoder")


@keras.saving.register_keras_serializable(package="genwidgets_ae")
class PositionedRepeat(layers.Layer):
    """Repeat a vector over ``seq_len`` positions, each joined with a learned position vector."""

    def __init__(self, seq_len: int, dim: int, **kwargs):
        super().__init__(**kwargs)
        self.seq_len, self.dim = seq_len, dim

    def build(self, input_shape):
        self.table = self.add_weight((self.seq_len, self.dim), initializer="random_normal",
                                     name="positions")

    def call(self, h):
        n = ops.shape(h)[0]
        rep = ops.repeat(ops.expand_dims(h, 1), self.seq_len, axis=1)
        pos = ops.broadcast_to(ops.expand_dims(self.table, 0), (n, self.seq_len, self.dim))
        return ops.concatenate([rep, ops.cast(pos, rep.dtype)], axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.seq_len, input_shape[-1] + self.dim)

    def get_config(self):
        return {**super().get_config(), "seq_len": self.seq_len, "dim": self.dim}


@keras.saving.register_keras_serializable(package="genwidgets_ae")
class AutoEncoder(keras.Model):
    """Encoder -> latent z -> decoder; images use Bernoulli logits, text per-char logits."""

    def __init__(self, config: dict, data_info: dict, **kwargs):
        super().__init__(**kwargs)
        self.ae_config = AESpec.Config(**config)
        self.data_info = DataInfo.from_dict(data_info)
        self.latent_dim = self.ae_config.latent_dim
        self.modality = self.data_info.modality
        nets = _text_nets if self.modality == "text" else _image_nets
        self.encoder, self.decoder = nets(self.ae_config, self.data_info)
        self.seed_generator = keras.random.SeedGenerator(self.ae_config.seed)
        d = self.latent_dim
        self.prior_mean = self.add_weight((d,), initializer="zeros", trainable=False,
                                          name="prior_mean")
        self.prior_scale = self.add_weight((d, d), initializer="identity", trainable=False,
                                           name="prior_scale")

    def call(self, x, training=False):
        return self.decoder(self.encoder(x, training=training), training=training)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if self.modality == "text":
            mask = ops.cast(ops.not_equal(x, PAD), "float32")
            ce = keras.losses.sparse_categorical_crossentropy(x, y_pred, from_logits=True)
            loss = ops.sum(ce * mask) / ops.maximum(ops.sum(mask), 1.0)
        else:  # summed Bernoulli cross-entropy per image, averaged over the batch
            ce = ops.binary_crossentropy(x, y_pred, from_logits=True)
            loss = ops.mean(ops.sum(ops.reshape(ce, (ops.shape(ce)[0], -1)), axis=-1))
        return loss + ops.sum(self.losses) if self.losses else loss

    # -- the protocol the widgets use (NumPy in, NumPy out) ------------------
    def encode(self, x, batch_size: int = 256) -> np.ndarray:
        return _batched(self.encoder, np.asarray(x), batch_size)

    def decode(self, z, batch_size: int = 256) -> np.ndarray:
        z = np.asarray(z, dtype="float32")
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(
                f"Expected latent vectors of shape (n, {self.latent_dim}). "
                f"Received: z.shape={z.shape}"
            )
        logits = _batched(self.decoder, z, batch_size)
        if self.modality == "text":
            return _tokens(logits.argmax(-1))
        return (1.0 / (1.0 + np.exp(-logits))).astype("float32")

    def sample(self, n: int, seed: int = 0, temperature: float = 1.0) -> np.ndarray:
        rng = np.random.default_rng(seed)
        eps = rng.standard_normal((n, self.latent_dim)).astype("float32")
        z = ops.convert_to_numpy(self.prior_mean) + eps @ ops.convert_to_numpy(self.prior_scale).T
        if self.modality != "text" or temperature <= 0:
            return self.decode(z)
        logits = _batched(self.decoder, z.astype("float32"), 256) / temperature
        g = -np.log(-np.log(rng.uniform(1e-9, 1.0, logits.shape)))
        return _tokens((logits + g).argmax(-1))

    def fit_prior(self, x, batch_size: int = 256) -> None:
        """Fit the Gaussian that ``sample`` draws from to the latents of ``x``."""
        z = self.encode(x, batch_size)
        cov = np.cov(z, rowvar=False).reshape(self.latent_dim, self.latent_dim)
        cov += 1e-4 * np.eye(self.latent_dim)
        self.prior_mean.assign(z.mean(0).astype("float32"))
        self.prior_scale.assign(np.linalg.cholesky(cov).astype("float32"))

    def get_config(self):
        return {
            **super().get_config(),
            "config": dataclasses.asdict(self.ae_config),
            "data_info": self.data_info.to_dict(),
        }


def _tokens(ids: np.ndarray) -> np.ndarray:
    """Greedy ids with everything after the first EOS set to PAD."""
    from genwidgets.spec import EOS

    ids = ids.astype("int32")
    after = np.cumsum(ids == EOS, axis=1) - (ids == EOS) > 0
    ids[after] = PAD
    return ids


def _batched(net, x: np.ndarray, batch_size: int) -> np.ndarray:
    """Run ``net`` in fixed-size batches (padding the last) so the step compiles once."""
    n = len(x)
    if n == 0:
        raise ValueError("Expected at least one item. Received: an empty array")
    size = min(batch_size, n)
    out = []
    for start in range(0, n, size):
        chunk = x[start:start + size]
        pad = size - len(chunk)
        if pad:
            chunk = np.concatenate([chunk, np.repeat(chunk[-1:], pad, axis=0)])
        out.append(ops.convert_to_numpy(net.predict_on_batch(chunk))[: size - pad])
    return np.concatenate(out)


def build_autoencoder(config, data_info: DataInfo) -> AutoEncoder:
    config.validate()
    model = AutoEncoder(dataclasses.asdict(config), data_info.to_dict(), name="ae")
    model.compile(optimizer=keras.optimizers.Adam(config.learning_rate))
    return model

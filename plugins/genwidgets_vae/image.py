"""The image VAE: Gaussian latent, Bernoulli decoder over pixels. Maths only."""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from genwidgets.decoding import batched, sigmoid
from genwidgets.fast_conv import FastConv2DTranspose
from genwidgets.spec import DataInfo
from genwidgets_vae.base import VAEBase


def use_conv(config, info: DataInfo) -> bool:
    """``architecture="auto"``: conv on an accelerator for images of 16 px and more."""
    if config.architecture != "auto":
        return config.architecture == "conv"
    import jax

    return min(info.shape[:2]) >= 16 and jax.default_backend() != "cpu"


def _conv_nets(config, info: DataInfo):
    h, w, c = info.shape
    if h % 4 or w % 4:
        raise ValueError(
            f"vae: the conv architecture needs height and width divisible by 4. "
            f"Received: shape={info.shape}. Use architecture='dense'."
        )
    f, d, act = config.filters, config.latent_dim, config.activation
    x = keras.Input(info.shape, name="image")
    t = layers.Conv2D(f, 4, strides=2, padding="same", activation=act)(x)
    t = layers.Conv2D(2 * f, 4, strides=2, padding="same", activation=act)(t)
    t = layers.Flatten()(t)
    t = layers.Dense(config.hidden, activation=act)(t)
    mean, log_var = layers.Dense(d, name="mean")(t), layers.Dense(d, name="log_var")(t)
    zin = keras.Input((d,), name="z")
    t = layers.Dense(config.hidden, activation=act)(zin)
    t = layers.Dense((h // 4) * (w // 4) * 2 * f, activation=act)(t)
    t = layers.Reshape((h // 4, w // 4, 2 * f))(t)
    t = FastConv2DTranspose(f, 4, strides=2, padding="same", activation=act)(t)
    t = layers.Dropout(config.dropout)(t) if config.dropout else t
    logits = FastConv2DTranspose(c, 4, strides=2, padding="same", name="logits")(t)
    return keras.Model(x, [mean, log_var], name="encoder"), keras.Model(zin, logits,
                                                                        name="decoder")


def _dense_nets(config, info: DataInfo):
    d, act = config.latent_dim, config.activation
    x = keras.Input(info.shape, name="image")
    t = layers.Flatten()(x)
    for _ in range(config.depth):
        t = layers.Dense(config.hidden, activation=act)(t)
    mean, log_var = layers.Dense(d, name="mean")(t), layers.Dense(d, name="log_var")(t)
    zin = keras.Input((d,), name="z")
    t = zin
    for _ in range(config.depth):
        t = layers.Dense(config.hidden, activation=act)(t)
        # only the decoder: dropout in the encoder blurs q(z|x) and costs more than it saves
        t = layers.Dropout(config.dropout)(t) if config.dropout else t
    t = layers.Dense(int(np.prod(info.shape)))(t)
    logits = layers.Reshape(info.shape, name="logits")(t)
    return keras.Model(x, [mean, log_var], name="encoder"), keras.Model(zin, logits,
                                                                        name="decoder")


@keras.saving.register_keras_serializable(package="genwidgets_vae")
class ImageVAE(VAEBase):
    """Images in [0, 1] -> q(z|x) = N(mean, exp(log_var)) -> Bernoulli pixel logits."""

    decoder_output = "logits"  # decode is sigmoid(decoder(z)) (genwidgets.built_model)

    def __init__(self, config: dict, data_info: dict, **kwargs):
        super().__init__(config, data_info, **kwargs)
        if self.modality != "image":
            raise ValueError(f"ImageVAE takes image data. Received: {self.modality!r}")
        self.architecture = "conv" if use_conv(self.vae_config, self.data_info) else "dense"
        nets = _conv_nets if self.architecture == "conv" else _dense_nets
        self.encoder, self.decoder = nets(self.vae_config, self.data_info)

    def call(self, x, training=False):
        mean, log_var = self.encoder(x, training=training)
        z = self.reparameterize(mean, log_var)
        return self.decoder(z, training=training), mean, log_var

    def reconstruction_loss(self, x, logits):
        """Summed Bernoulli cross-entropy per image (nats)."""
        ce = ops.binary_crossentropy(ops.cast(x, logits.dtype), logits, from_logits=True)
        return ops.sum(ops.reshape(ce, (ops.shape(ce)[0], -1)), axis=-1)

    def decode(self, z, batch_size: int = 256) -> np.ndarray:
        """Pixel probabilities (the Bernoulli means) for latent vectors ``z``."""
        logits = batched(self.decoder.predict_on_batch, self.check_latents(z), batch_size)
        return sigmoid(logits)

    def sample(self, n: int, seed: int = 0, temperature: float = 1.0) -> np.ndarray:
        """Decode ``n`` draws from the prior N(0, I) (``temperature`` is for text only)."""
        z, _ = self.prior_draws(n, seed)
        return self.decode(z)

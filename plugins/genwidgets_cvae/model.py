"""The conditional image VAE: q(z | x, y) and p(x | z, y), y a class's one-hot. Maths only.

It trains on ``fit((images, labels))``: each batch's inputs are the pair. The decoder
always reads the label, so z is left to hold what the label does not say (the style): that
is what makes "same z, every label" a column of one hand writing every digit.

The encoder also learns to encode an item without its label (``encode(x)``, for the map
and data whose labels are not at hand): a second pass with a zero vector for the label is
pulled towards the posterior the labelled pass gave (held fixed), ``UNTOLD_WEIGHT`` times
the squared distance of their means and log-variances. Only the encoder learns from it;
the decoder never sees its z, so z is not pushed to carry the class (showing the encoder
no label for some items of the ELBO itself did: their z had to say the class, and the
decoder learnt to read it from z, not from the label).
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
from keras import layers, ops

from genwidgets.decoding import batched, model_labels, sigmoid
from genwidgets.fast_conv import FastConv2DTranspose
from genwidgets.spec import DataInfo
from genwidgets_vae.base import VAEBase
from genwidgets_vae.image import use_conv

UNTOLD_WEIGHT = 1.0  # weight of the unlabelled pass's distance to the labelled posterior


def _encoder(config, info: DataInfo, k: int, conv: bool) -> keras.Model:
    x, y = keras.Input(info.shape, name="image"), keras.Input((k,), name="label")
    t = x
    if conv:
        f = config.filters
        t = layers.Conv2D(f, 4, strides=2, padding="same", activation=config.activation)(t)
        t = layers.Conv2D(2 * f, 4, strides=2, padding="same",
                          activation=config.activation)(t)
    t = layers.Concatenate()([layers.Flatten()(t), y])
    for _ in range(1 if conv else config.depth):
        t = layers.Dense(config.hidden, activation=config.activation)(t)
    d = config.latent_dim
    mean, log_var = layers.Dense(d, name="mean")(t), layers.Dense(d, name="log_var")(t)
    return keras.Model([x, y], [mean, log_var], name="encoder")


def _decoder(config, info: DataInfo, k: int, conv: bool) -> keras.Model:
    h, w, c = info.shape
    z, y = keras.Input((config.latent_dim,), name="z"), keras.Input((k,), name="label")
    t = z
    for _ in range(1 if conv else config.depth):  # the label joins every hidden layer
        t = layers.Dense(config.hidden, activation=config.activation)(
            layers.Concatenate()([t, y]))
        t = layers.Dropout(config.dropout)(t) if config.dropout and not conv else t
    if conv:
        f = config.filters
        t = layers.Dense((h // 4) * (w // 4) * 2 * f, activation=config.activation)(t)
        t = layers.Reshape((h // 4, w // 4, 2 * f))(t)
        t = FastConv2DTranspose(f, 4, strides=2, padding="same",
                                activation=config.activation)(t)
        t = layers.Dropout(config.dropout)(t) if config.dropout else t
        logits = FastConv2DTranspose(c, 4, strides=2, padding="same", name="logits")(t)
    else:
        logits = layers.Reshape(info.shape, name="logits")(layers.Dense(h * w * c)(t))
    return keras.Model([z, y], logits, name="decoder")


@keras.saving.register_keras_serializable(package="genwidgets_cvae")
class ConditionalVAE(VAEBase):
    """(images in [0, 1], labels) -> q(z | x, y) -> Bernoulli pixel logits of p(x | z, y)."""

    # decode is sigmoid(decoder([z, labels])); the views run decode itself: the decoder
    # needs the labels beside z
    decoder_output = "logits"

    def __init__(self, config: dict, data_info: dict, **kwargs):
        super().__init__(config, data_info, **kwargs)
        info = self.data_info
        if self.modality != "image" or len(info.shape) != 3:
            raise ValueError(f"cvae: expected images of shape (height, width, channels). "
                             f"Received: modality={self.modality!r}, shape={info.shape}")
        if not info.label_names or len(info.label_names) < 2:
            raise ValueError(
                f"cvae: expected data with labels of at least two classes (label_names). "
                f"Received: label_names={info.label_names!r} for {info.name!r}. Pick "
                f"labelled images (digits, mnist, an .npz with y), or the vae for data "
                f"without labels.")
        self.label_names = tuple(info.label_names)
        self.num_classes = len(self.label_names)
        conv = use_conv(self.vae_config, info)
        if conv and (info.shape[0] % 4 or info.shape[1] % 4):
            raise ValueError(f"cvae: the conv architecture needs height and width divisible "
                             f"by 4. Received: shape={info.shape}. Use architecture='dense'.")
        self.architecture = "conv" if conv else "dense"
        self.encoder = _encoder(self.vae_config, info, self.num_classes, conv)
        self.decoder = _decoder(self.vae_config, info, self.num_classes, conv)

    # -- training --------------------------------------------------------------------
    def _pair(self, inputs):
        if not isinstance(inputs, (tuple, list)) or len(inputs) != 2:
            raise ValueError(
                "cvae: expected inputs (images, labels), e.g. model.fit((x, y)). Received: "
                f"{type(inputs).__name__} {getattr(inputs, 'shape', '')}".rstrip())
        x, labels = inputs
        labels = ops.cast(ops.reshape(labels, (-1,)), "int32")
        return x, ops.one_hot(labels, self.num_classes, dtype=x.dtype)

    def call(self, inputs, training=False):
        x, onehot = self._pair(inputs)
        mean, log_var = self.encoder([x, onehot], training=training)
        z = self.reparameterize(mean, log_var)
        logits = self.decoder([z, onehot], training=training)
        if not training:
            return logits, mean, log_var
        untold = self.encoder([x, ops.zeros_like(onehot)], training=training)
        return logits, mean, log_var, *untold

    def extra_loss(self, x, y_pred):
        """The unlabelled pass's squared distance to the labelled posterior (held fixed)."""
        if len(y_pred) == 3:
            return 0.0
        _, mean, log_var, untold_mean, untold_log_var = y_pred
        gap = (ops.square(untold_mean - ops.stop_gradient(mean))
               + ops.square(untold_log_var - ops.stop_gradient(log_var)))
        return UNTOLD_WEIGHT * ops.mean(ops.sum(gap, axis=-1))

    def reconstruction_loss(self, inputs, logits):
        """Summed Bernoulli cross-entropy per image (nats)."""
        x = inputs[0]
        ce = ops.binary_crossentropy(ops.cast(x, logits.dtype), logits, from_logits=True)
        return ops.sum(ops.reshape(ce, (ops.shape(ce)[0], -1)), axis=-1)

    # -- the protocol the widgets use (NumPy in, NumPy out) ----------------------------
    def one_hot(self, labels, n: int, one_label: bool = False) -> np.ndarray:
        """One-hot rows (n, num_classes) of ``labels`` (``genwidgets.decoding.model_labels``)."""
        return np.eye(self.num_classes, dtype="float32")[
            model_labels(labels, n, self.num_classes, one_label=one_label)]

    def _seen(self, x, labels) -> np.ndarray:
        """The encoder's label input: the labels' one-hot, or zeros ("not told")."""
        if labels is None:
            return np.zeros((len(x), self.num_classes), dtype="float32")
        return self.one_hot(labels, len(x))

    def encode(self, x, labels=None, batch_size: int = 256) -> np.ndarray:
        """The posterior mean of each item, told its label or (``labels=None``) not."""
        x = np.asarray(x)
        return batched(lambda pair: self.encoder.predict_on_batch(list(pair))[0],
                       (x, self._seen(x, labels)), batch_size)

    def posterior(self, x, labels=None, batch_size: int = 256):
        """``(mean, log_var)`` of q(z | x, y) for each item, each (n, latent_dim)."""
        x = np.asarray(x)
        both = batched(lambda pair: np.concatenate(
            [np.asarray(a, dtype="float32") for a in self.encoder.predict_on_batch(list(pair))],
            axis=-1), (x, self._seen(x, labels)), batch_size)
        return both[:, :self.latent_dim], both[:, self.latent_dim:]

    def decode(self, z, labels=None, batch_size: int = 256) -> np.ndarray:
        """Pixel probabilities for latent vectors ``z`` drawn as class ``labels`` (one per
        row, or one for all; None: one label for all, drawn from a fixed seed, so that a path
        or a grid of latents stays one class)."""
        z = self.check_latents(z)
        onehot = self.one_hot(labels, len(z), one_label=True)
        logits = batched(lambda pair: self.decoder.predict_on_batch(list(pair)), (z, onehot),
                         batch_size)
        return sigmoid(logits)

    def sample(self, n: int, seed: int = 0, temperature: float = 1.0,
               labels=None) -> np.ndarray:
        """Decode ``n`` draws from N(0, I) as class ``labels`` (None: each drawn from
        ``seed``); ``temperature`` is for text only."""
        z, _ = self.prior_draws(n, seed)
        return self.decode(z, labels=model_labels(labels, len(z), self.num_classes,
                                                  seed=seed))


def build_cvae(config, data_info: DataInfo) -> ConditionalVAE:
    config.validate()
    model = ConditionalVAE(dataclasses.asdict(config), data_info.to_dict(), name="cvae")
    model.compile(optimizer=keras.optimizers.Adam(config.learning_rate))
    return model

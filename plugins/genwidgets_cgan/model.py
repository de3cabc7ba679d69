"""The class-conditional GAN: the GAN's stateless JAX step with labels in both networks.

It trains on ``fit((images, labels))``: the generator draws each batch's fakes with the
real items' labels (so classes come as often as in the data), and the discriminator
judges every image with its label.
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
from keras import ops

from genwidgets.decoding import batched, model_labels, tanh_to_unit
from genwidgets.spec import DataInfo
from genwidgets_cgan.nets import make_conditional_networks
from genwidgets_gan.model import GAN


def class_count(info: DataInfo) -> int:
    """The number of classes of labelled data, or a ValueError saying what is missing."""
    if not info.label_names or len(info.label_names) < 2:
        raise ValueError(
            f"cgan: expected data with labels of at least two classes (label_names). "
            f"Received: label_names={info.label_names!r} for {info.name!r}. Pick labelled "
            f"images (digits, mnist, an .npz with y), or the gan for data without labels.")
    return len(info.label_names)


@keras.saving.register_keras_serializable(package="genwidgets_cgan")
class ConditionalGAN(GAN):
    """A generator ``decode(z, labels)`` against a projection discriminator."""

    def __init__(self, config: dict, data_info: dict, **kwargs):
        super().__init__(config, data_info, **kwargs)
        self.label_names = tuple(self.data_info.label_names)
        self.num_classes = len(self.label_names)

    def networks(self):
        return make_conditional_networks(self.gan_config, self.data_info,
                                         class_count(self.data_info))

    def call(self, inputs, training=False):
        z, labels = inputs
        return (self.generator(self._g_in(z, labels), training=training) + 1.0) / 2.0

    # -- the hooks of the GAN's train step -------------------------------------------
    def _real(self, data):
        x = keras.utils.unpack_x_y_sample_weight(data)[0]
        if not isinstance(x, (tuple, list)) or len(x) != 2:
            raise ValueError(
                "cgan: expected inputs (images, labels), e.g. model.fit((x, y)). Received: "
                f"{type(x).__name__} {getattr(x, 'shape', '')}".rstrip())
        images, labels = x
        labels = ops.cast(ops.reshape(labels, (-1,)), "int32")
        return ops.cast(images, "float32") * 2.0 - 1.0, labels

    def _one_hot(self, labels):
        return ops.one_hot(ops.cast(labels, "int32"), self.num_classes, dtype="float32")

    def _g_in(self, z, labels):
        return [z, self._one_hot(labels)]

    def _d_in(self, images, labels):
        return [images, self._one_hot(labels)]

    # -- the protocol the widgets use (NumPy in, NumPy out) ----------------------------
    def decode(self, z, labels=None, batch_size: int = 256) -> np.ndarray:
        """Images in [0, 1] for latent vectors ``z`` drawn as class ``labels`` (one per
        row, or one for all; None: one label for all, drawn from a fixed seed, so that a path
        or a grid of latents stays one class)."""
        z = np.asarray(z, dtype="float32")
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"Expected latent vectors of shape (n, {self.latent_dim}). "
                             f"Received: z.shape={z.shape}")
        onehot = np.eye(self.num_classes, dtype="float32")[
            model_labels(labels, len(z), self.num_classes, one_label=True)]
        images = batched(lambda pair: self.generator.predict_on_batch(list(pair)),
                         (z, onehot), batch_size)
        return tanh_to_unit(images)

    def sample(self, n: int, seed: int = 0, temperature: float = 1.0,
               labels=None) -> np.ndarray:
        """Decode ``n`` draws of z ~ N(0, I) as class ``labels`` (None: each drawn from
        ``seed``); ``temperature`` does not apply to images."""
        if int(n) < 1:
            raise ValueError(f"Expected n >= 1 samples. Received: n={n}")
        rng = np.random.default_rng(seed)
        z = rng.standard_normal((int(n), self.latent_dim)).astype("float32")
        return self.decode(z, labels=model_labels(labels, int(n), self.num_classes,
                                                  seed=seed))


def build_cgan(config, data_info: DataInfo) -> ConditionalGAN:
    config.validate()
    model = ConditionalGAN(dataclasses.asdict(config), data_info.to_dict(), name="cgan")
    model.compile_gan()
    return model

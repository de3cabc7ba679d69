"""The generator and the discriminator, shaped by the image size (maths only)."""

from __future__ import annotations

import keras
from keras import layers

from genwidgets.fast_conv import FastConv2DTranspose
from genwidgets.spec import DataInfo
from genwidgets_gan.spectral import SpectralConv2D, SpectralDense


def discriminator_layers(config):
    """``(Conv2D, Dense)`` for a discriminator: spectrally normalised if the config says."""
    if config.spectral_norm:
        return SpectralConv2D, SpectralDense
    return layers.Conv2D, layers.Dense


def upsampling_plan(height: int, width: int, max_steps: int = 3, min_base: int = 2):
    """Where the generator starts and how often it doubles: ``(base_h, base_w, steps)``.

    Halve both sides while they stay even and at least ``min_base``, at most
    ``max_steps`` times: 28x28 -> (7, 7, 2), 8x8 -> (2, 2, 2), 32x32 -> (4, 4, 3),
    an odd size -> (h, w, 0) (no upsampling).
    """
    h, w, steps = height, width, 0
    while (steps < max_steps and h % 2 == 0 and w % 2 == 0
           and h // 2 >= min_base and w // 2 >= min_base):
        h, w, steps = h // 2, w // 2, steps + 1
    return h, w, steps


def make_networks(config, info: DataInfo):
    """Return ``(generator, discriminator)``: z -> image in [-1, 1], image -> one logit."""
    if info.modality != "image" or len(info.shape) != 3:
        raise ValueError(
            f"gan: expected images of shape (height, width, channels). "
            f"Received: modality={info.modality!r}, shape={info.shape}"
        )
    if config.architecture == "dense":
        return _dense_generator(config, info), _dense_discriminator(config, info)
    return _conv_generator(config, info), _conv_discriminator(config, info)


def _conv_generator(config, info: DataInfo) -> keras.Model:
    h, w, c = info.shape
    base_h, base_w, steps = upsampling_plan(h, w)
    f = config.filters
    z = keras.Input((config.latent_dim,), name="z")
    width = f * 2 ** max(steps - 1, 0)
    t = layers.Dense(base_h * base_w * width, use_bias=False, name="g_project")(z)
    t = layers.BatchNormalization(momentum=0.9, name="g_project_bn")(t)
    t = layers.ReLU()(t)
    t = layers.Reshape((base_h, base_w, width))(t)
    for i in range(steps - 1):  # every doubling but the last halves the filters
        width //= 2
        t = FastConv2DTranspose(max(width, f), 4, strides=2, padding="same",
                                use_bias=False, name=f"g_up{i}")(t)
        t = layers.BatchNormalization(momentum=0.9, name=f"g_up{i}_bn")(t)
        t = layers.ReLU()(t)
    if steps:
        t = FastConv2DTranspose(c, 4, strides=2, padding="same", name="g_out")(t)
    else:
        t = layers.Conv2D(c, 3, padding="same", name="g_out")(t)
    image = layers.Activation("tanh", name="image")(t)
    return keras.Model(z, image, name="generator")


def _conv_discriminator(config, info: DataInfo) -> keras.Model:
    h, w, _ = info.shape
    steps = max(upsampling_plan(h, w)[2], 1)
    conv, dense = discriminator_layers(config)
    x = keras.Input(info.shape, name="image")
    t = x
    for i in range(steps):
        t = conv(config.filters * 2 ** i, 4, strides=2, padding="same", name=f"d_down{i}")(t)
        t = layers.LeakyReLU(0.2)(t)
    t = layers.Flatten()(t)
    logit = dense(1, name="d_logit")(t)
    return keras.Model(x, logit, name="discriminator")


def _dense_generator(config, info: DataInfo) -> keras.Model:
    h, w, c = info.shape
    z = keras.Input((config.latent_dim,), name="z")
    t = z
    for i, units in enumerate((config.hidden, config.hidden * 2)):
        t = layers.Dense(units, use_bias=False, name=f"g_dense{i}")(t)
        t = layers.BatchNormalization(momentum=0.9, name=f"g_dense{i}_bn")(t)
        t = layers.ReLU()(t)
    t = layers.Dense(h * w * c, activation="tanh", name="g_out")(t)
    image = layers.Reshape((h, w, c), name="image")(t)
    return keras.Model(z, image, name="generator")


def _dense_discriminator(config, info: DataInfo) -> keras.Model:
    dense = discriminator_layers(config)[1]
    x = keras.Input(info.shape, name="image")
    t = layers.Flatten()(x)
    for i, units in enumerate((config.hidden * 2, config.hidden)):
        t = dense(units, name=f"d_dense{i}")(t)
        t = layers.LeakyReLU(0.2)(t)
    logit = dense(1, name="d_logit")(t)
    return keras.Model(x, logit, name="discriminator")

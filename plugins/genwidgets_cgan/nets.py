"""The conditional generator and the projection discriminator (maths only).

Generator: ``[z, one_hot(y)] -> image in [-1, 1]`` (the label joined to z). Discriminator:
``[image, one_hot(y)] -> psi(h) + <embed(y), h>`` with ``h`` the image's features: the
projection discriminator of Miyato and Koyama (2018).
"""

from __future__ import annotations

import keras
from keras import layers

from genwidgets.fast_conv import FastConv2DTranspose
from genwidgets.spec import DataInfo
from genwidgets_gan.nets import discriminator_layers, upsampling_plan


def make_conditional_networks(config, info: DataInfo, k: int):
    """Return ``(generator, discriminator)`` for ``k`` classes."""
    if info.modality != "image" or len(info.shape) != 3:
        raise ValueError(
            f"cgan: expected images of shape (height, width, channels). "
            f"Received: modality={info.modality!r}, shape={info.shape}")
    z = keras.Input((config.latent_dim,), name="z")
    y_g, y_d = keras.Input((k,), name="label"), keras.Input((k,), name="label")
    x = keras.Input(info.shape, name="image")
    t = layers.Concatenate()([z, y_g])
    if config.architecture == "dense":
        image = _dense_body(config, info, t)
        h = _dense_features(config, x)
    else:
        image = _conv_body(config, info, t)
        h = _conv_features(config, info, x)
    generator = keras.Model([z, y_g], image, name="generator")
    width = h.shape[-1]
    dense = discriminator_layers(config)[1]
    embedded = dense(width, use_bias=False, name="d_embed")(y_d)
    logit = layers.Add(name="d_logit")([dense(1, name="d_psi")(h),
                                        layers.Dot(axes=1, name="d_project")([embedded, h])])
    return generator, keras.Model([x, y_d], logit, name="discriminator")


def _conv_body(config, info: DataInfo, t):
    h, w, c = info.shape
    base_h, base_w, steps = upsampling_plan(h, w)
    f = config.filters
    width = f * 2 ** max(steps - 1, 0)
    t = layers.Dense(base_h * base_w * width, use_bias=False, name="g_project")(t)
    t = layers.BatchNormalization(momentum=0.9, name="g_project_bn")(t)
    t = layers.Reshape((base_h, base_w, width))(layers.ReLU()(t))
    for i in range(steps - 1):  # every doubling but the last halves the filters
        width //= 2
        t = FastConv2DTranspose(max(width, f), 4, strides=2, padding="same",
                                use_bias=False, name=f"g_up{i}")(t)
        t = layers.ReLU()(layers.BatchNormalization(momentum=0.9, name=f"g_up{i}_bn")(t))
    if steps:
        t = FastConv2DTranspose(c, 4, strides=2, padding="same", name="g_out")(t)
    else:
        t = layers.Conv2D(c, 3, padding="same", name="g_out")(t)
    return layers.Activation("tanh", name="image")(t)


def _conv_features(config, info: DataInfo, x):
    steps = max(upsampling_plan(*info.shape[:2])[2], 1)
    conv = discriminator_layers(config)[0]
    t = x
    for i in range(steps):
        t = conv(config.filters * 2 ** i, 4, strides=2, padding="same", name=f"d_down{i}")(t)
        t = layers.LeakyReLU(0.2)(t)
    return layers.Flatten()(t)


def _dense_body(config, info: DataInfo, t):
    h, w, c = info.shape
    for i, units in enumerate((config.hidden, config.hidden * 2)):
        t = layers.Dense(units, use_bias=False, name=f"g_dense{i}")(t)
        t = layers.BatchNormalization(momentum=0.9, name=f"g_dense{i}_bn")(t)
        t = layers.ReLU()(t)
    t = layers.Dense(h * w * c, activation="tanh", name="g_out")(t)
    return layers.Reshape((h, w, c), name="image")(t)


def _dense_features(config, x):
    t = layers.Flatten()(x)
    dense = discriminator_layers(config)[1]
    for i, units in enumerate((config.hidden * 2, config.hidden)):
        t = layers.LeakyReLU(0.2)(dense(units, name=f"d_dense{i}")(t))
    return t

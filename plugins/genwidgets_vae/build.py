"""Build the VAE for the data: the image or the text model (both on ``base.VAEBase``).

Its own module so that ``base`` does not import the models made on it.
"""

from __future__ import annotations

import dataclasses

import keras

from genwidgets.spec import DataInfo
from genwidgets_vae.base import VAEBase


def build_vae(config, data_info: DataInfo) -> VAEBase:
    config.validate()
    if data_info.modality == "text":
        from genwidgets_vae.text import TextVAE as cls
    elif data_info.modality == "image":
        from genwidgets_vae.image import ImageVAE as cls
    else:
        raise ValueError(
            f"vae: expected image or text data. Received: modality={data_info.modality!r}"
        )
    model = cls(dataclasses.asdict(config), data_info.to_dict(), name="vae")
    model.compile(optimizer=keras.optimizers.Adam(config.learning_rate))
    return model

"""What the AE offers and its settings (no Keras import here)."""

from __future__ import annotations

import dataclasses
from typing import Literal

from genwidgets import ModelSpec


class AESpec(ModelSpec):
    name = "ae"
    family = "ae"
    modalities = ("image", "text")
    description = (
        "Autoencoder: a convolutional (or dense, for tiny images) encoder and decoder for "
        "images; for text a positional sentence encoder and a decoder that reads only z "
        "(a bidirectional GRU over the positions), with noise on z while training so the "
        "space between sentences decodes too. Samples decode a Gaussian fitted to the "
        "training latents."
    )
    # Text sentences need room: 128 numbers a sentence (a 2-D map is a PCA view of them).
    modality_defaults = {"text": {"latent_dim": 128, "hidden": 192, "embed_dim": 128,
                                  "latent_noise": 0.1}}
    mutable = ("learning_rate",)

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Config:
        latent_dim: int = 2
        # images: "auto" = conv for images of 16 px and more on an accelerator, dense otherwise
        architecture: Literal["auto", "conv", "dense"] = "auto"
        hidden: int = 256  # width of dense layers (images) or GRU units each way (text)
        filters: int = 32  # first conv layer's filters (images, conv)
        embed_dim: int = 32  # text: token embedding and the decoder's width per position
        # standard deviation of the Gaussian noise added to z while training (0 = none)
        latent_noise: float = 0.0
        learning_rate: float = 1e-3
        seed: int = 0

        def validate(self) -> None:
            for name in ("latent_dim", "hidden", "filters", "embed_dim"):
                value = getattr(self, name)
                if value < 1:
                    raise ValueError(f"ae: {name} must be >= 1. Received: {name}={value}")
            if not 0 <= self.latent_noise < float("inf"):
                raise ValueError(
                    f"ae: latent_noise must be >= 0. Received: latent_noise={self.latent_noise}")
            if not self.learning_rate > 0:
                raise ValueError(
                    f"ae: learning_rate must be > 0. Received: learning_rate={self.learning_rate}"
                )

    def build(self, config, data_info):
        from genwidgets_ae.model import build_autoencoder

        return build_autoencoder(config, data_info)

    def custom_objects(self):
        from genwidgets.text_nets import CUSTOM_OBJECTS
        from genwidgets_ae.model import AutoEncoder

        return {"AutoEncoder": AutoEncoder, **CUSTOM_OBJECTS}

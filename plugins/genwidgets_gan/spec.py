"""What the GAN offers and its settings (no Keras import here)."""

from __future__ import annotations

from genwidgets import ModelSpec
from genwidgets_gan.config import GANConfig


class GANSpec(ModelSpec):
    name = "gan"
    family = "gan"
    modalities = ("image",)
    capabilities = frozenset({"decode", "sample"})  # a GAN has no encoder
    description = (
        "DCGAN: a generator (transposed convolutions with batch norm) against a "
        "discriminator (strided convolutions with leaky ReLU), each with its own Adam. "
        "It samples and decodes latent vectors but cannot encode images."
    )
    mutable = ("learning_rate", "d_learning_rate", "g_learning_rate")

    Config = GANConfig  # genwidgets_gan/config.py

    def build(self, config, data_info):
        from genwidgets_gan.model import build_gan

        return build_gan(config, data_info)

    def custom_objects(self):
        from genwidgets import fast_conv
        from genwidgets_gan import spectral
        from genwidgets_gan.model import GAN

        return {"GAN": GAN, **fast_conv.CUSTOM_OBJECTS,
                **spectral.CUSTOM_OBJECTS}

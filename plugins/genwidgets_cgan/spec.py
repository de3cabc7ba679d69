"""What the class-conditional GAN offers and its settings (no Keras import here)."""

from __future__ import annotations

from genwidgets import ModelSpec
from genwidgets_gan.config import GANConfig


class CGANSpec(ModelSpec):
    name = "cgan"
    family = "gan"
    modalities = ("image",)  # conditioned on class labels: labelled images only
    capabilities = frozenset({"decode", "sample", "condition"})  # a GAN has no encoder
    description = (
        "Class-conditional GAN on labelled images: the generator reads z and the label's "
        "one-hot; a projection discriminator (Miyato and Koyama 2018) adds the inner "
        "product of a label embedding with its image features to its logit, so it judges "
        "whether the image is real and of that class. sample(n, labels=...) draws chosen "
        "classes. Needs data with labels."
    )
    mutable = ("learning_rate", "d_learning_rate", "g_learning_rate")

    Config = GANConfig  # the GAN's settings (genwidgets_gan/config.py)

    def build(self, config, data_info):
        from genwidgets_cgan.model import build_cgan

        return build_cgan(config, data_info)

    def custom_objects(self):
        from genwidgets import fast_conv
        from genwidgets_gan import spectral
        from genwidgets_cgan.model import ConditionalGAN

        return {"ConditionalGAN": ConditionalGAN, **fast_conv.CUSTOM_OBJECTS,
                **spectral.CUSTOM_OBJECTS}

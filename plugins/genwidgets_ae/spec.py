"""What the AE offers and its settings (no Keras import here)."""

from __future__ import annotations

from genwidgets import ModelSpec
from genwidgets_ae.config import AEConfig


class AESpec(ModelSpec):
    name = "ae"
    family = "ae"
    modalities = ("image", "text")
    description = (
        "Autoencoder: a convolutional (or dense, for tiny images) encoder and decoder for "
        "images; for text a sentence encoder and a decoder that reads only z (with whole "
        "words, the default of 'sentences': a code per word slot, each decoded to a word "
        "on its own; with pieces or characters: a bidirectional GRU over the positions), "
        "with noise on z while training so the space between sentences decodes too. "
        "Samples decode a Gaussian fitted to the training latents."
    )
    # Text sentences need room: 384 numbers a sentence, 12 word slots of 32 with whole words
    # (genwidgets.word_slots; a 2-D map is a PCA view of them).
    modality_defaults = {"text": {"latent_dim": 384, "hidden": 192, "embed_dim": 128,
                                  "latent_noise": 0.1, "latent_mixup": 1.0}}
    mutable = ("learning_rate",)

    Config = AEConfig  # genwidgets_ae/config.py

    def build(self, config, data_info):
        from genwidgets_ae.model import build_autoencoder

        return build_autoencoder(config, data_info)

    def custom_objects(self):
        from genwidgets import fast_conv
        from genwidgets.text_nets import CUSTOM_OBJECTS
        from genwidgets_ae.model import AutoEncoder

        return {"AutoEncoder": AutoEncoder, **CUSTOM_OBJECTS, **fast_conv.CUSTOM_OBJECTS}

"""What the VAE offers and its settings (no Keras import here)."""

from __future__ import annotations

from genwidgets import ModelSpec
from genwidgets_vae.config import HYPER_SETTINGS, VAEConfig


class VAESpec(ModelSpec):
    name = "vae"
    family = "vae"
    modalities = ("image", "text")
    description = (
        "Variational autoencoder with a Gaussian latent. Images: Bernoulli decoder over "
        "pixels, dense or convolutional networks. Text: a sentence VAE whose decoder reads "
        "only z, so the latent cannot collapse (with whole words, the default of "
        "'sentences': a code per word slot, each decoded to a word on its own; with pieces "
        "or characters: a bidirectional GRU over the positions), a small KL weight reached "
        "by annealing, optional word dropout on the encoder's input (off by default), and "
        "the points between two sentences trained towards both (latent mixup). Samples "
        "decode draws from N(0, I)."
    )
    # Sentences need a wide latent and a light KL weight: tens of nats a sentence.
    modality_defaults = {"text": {"latent_dim": 384, "rnn_units": 192, "embed_dim": 128,
                                  "beta": 0.03, "kl_anneal_steps": 2000,
                                  "word_dropout": 0.0, "free_bits": 0.0, "latent_mixup": 1.0}}
    mutable = ("learning_rate", *HYPER_SETTINGS)

    Config = VAEConfig  # genwidgets_vae/config.py

    def build(self, config, data_info):
        from genwidgets_vae.build import build_vae

        return build_vae(config, data_info)

    def custom_objects(self):
        from genwidgets import fast_conv
        from genwidgets_vae.image import ImageVAE
        from genwidgets.text_nets import CUSTOM_OBJECTS
        from genwidgets_vae.text import TextVAE

        return {"ImageVAE": ImageVAE, "TextVAE": TextVAE, **CUSTOM_OBJECTS,
                **fast_conv.CUSTOM_OBJECTS}

"""What the conditional VAE offers and its settings (no Keras import here)."""

from __future__ import annotations

from genwidgets import ModelSpec
from genwidgets_vae.config import HYPER_SETTINGS, VAEConfig


class CVAESpec(ModelSpec):
    name = "cvae"
    family = "vae"
    modalities = ("image",)  # conditioned on class labels: labelled images only
    capabilities = frozenset({"encode", "decode", "sample", "condition"})
    description = (
        "Conditional VAE (Sohn et al. 2015) on labelled images: the label's one-hot goes to "
        "the encoder and to the decoder, so z keeps the style and the label picks the class: "
        "decode(z, labels=...) draws any class in the same style. Needs data with labels. "
        "The encoder also learns to encode items without their label (the map, "
        "snapshots), without z having to carry the class. Its KL weight (beta) is 3 "
        "by default, so the class stays out of z."
    )
    # A KL weight of 3 from the first step: at 1 (the ELBO), or warmed up from 0, z keeps
    # the class as well and the decoder reads it there, not from the label (MNIST, 60 s on
    # a CPU: 0.35-0.46 of samples of the asked digit at beta 1; 0.96 at 3;
    # benchmarks/quality_conditional_mnist.py).
    modality_defaults = {"image": {"beta": 3.0, "kl_anneal_steps": 0}}
    mutable = ("learning_rate", *HYPER_SETTINGS)

    Config = VAEConfig  # the VAE's settings (genwidgets_vae/config.py); text ones do not apply

    def build(self, config, data_info):
        from genwidgets_cvae.model import build_cvae

        return build_cvae(config, data_info)

    def custom_objects(self):
        from genwidgets import fast_conv
        from genwidgets_cvae.model import ConditionalVAE

        return {"ConditionalVAE": ConditionalVAE, **fast_conv.CUSTOM_OBJECTS}

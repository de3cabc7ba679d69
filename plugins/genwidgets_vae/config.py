"""The VAE's settings: its `Config` dataclass (no Keras import here).

``spec.py`` (what the plugin offers) and the model's modules both import it, so
neither imports the other's module to read the settings.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

IMAGE, TEXT = ("image",), ("text",)  # what a setting applies to (its metadata)
field = dataclasses.field

# Settings a running training may change; all but learning_rate go through
# ``model.set_hyper(name, value)`` into non-trainable variables the compiled step reads.
HYPER_SETTINGS = ("beta", "kl_anneal_steps", "word_dropout", "free_bits")


@dataclasses.dataclass(frozen=True, kw_only=True)
class VAEConfig:
    # Each field's metadata carries its one-line help and the data it applies to
    # (genwidgets.config.field_help / applies; the form shows only what applies).
    latent_dim: int = field(default=16, metadata={
        "help": "Numbers in the latent vector z (2 draws the map without PCA; whole "
                "words: rounded up to a whole number per word slot)."})
    # images: "auto" = conv for images of 16 px and more on an accelerator, dense on CPU
    # (even with fast_conv's transposed convolutions the conv nets took 3.6 s an MNIST
    # epoch there against 0.65 s: benchmarks/conv_vs_dense.py) and for tiny images
    architecture: Literal["auto", "conv", "dense"] = field(default="auto", metadata={
        "help": "Networks for images: auto = conv on an accelerator for 16 px and "
                "more, dense otherwise.", "modalities": IMAGE})
    hidden: int = field(default=512, metadata={  # images: width of the dense layers
        "help": "Width of the dense hidden layers.", "modalities": IMAGE})
    depth: int = field(default=2, metadata={
        "help": "Dense hidden layers in the encoder and in the decoder.",
        "modalities": IMAGE})
    activation: Literal["swish", "relu", "gelu", "elu"] = field(default="swish", metadata={
        "help": "Activation of the hidden layers.", "modalities": IMAGE})
    # images: dropout on the decoder's hidden layers while training (against overfitting)
    dropout: float = field(default=0.15, metadata={
        "help": "Dropout on the decoder's hidden layers while training (0 = none).",
        "modalities": IMAGE})
    filters: int = field(default=32, metadata={
        "help": "Filters of the first conv layer (conv architecture).",
        "modalities": IMAGE})
    rnn_units: int = field(default=256, metadata={
        "help": "GRU units (each direction) of the sentence decoder.", "modalities": TEXT})
    embed_dim: int = field(default=64, metadata={
        "help": "Token embedding and the decoder's width per position.",
        "modalities": TEXT})
    # The KL term's weight is beta * min(1, step / kl_anneal_steps) (0 = no annealing).
    beta: float = field(default=1.0, metadata={
        "help": "Weight of the KL term (1 = the ELBO; smaller keeps more in z)."})
    kl_anneal_steps: int = field(default=2000, metadata={
        "help": "Steps over which the KL weight ramps from 0 to beta (0 = no ramp)."})
    # text: chance that each of the encoder's input tokens is replaced by <unk>
    word_dropout: float = field(default=0.3, metadata={
        "help": "Chance that each input token of the encoder is replaced by <unk>.",
        "modalities": TEXT})
    # text: nats per latent dimension below which the KL is not penalised (0 = off)
    free_bits: float = field(default=0.25, metadata={
        "help": "Nats per latent dimension below which the KL costs nothing (0 = off).",
        "modalities": TEXT})
    latent_mixup: float = field(default=0.0, metadata={"modalities": TEXT})
    learning_rate: float = field(default=1e-3, metadata={
        "help": "Adam's step size; may change while training."})
    seed: int = 0  # help: genwidgets.config.COMMON_HELP

    def validate(self) -> None:
        if not 0 <= self.latent_mixup < float("inf"):
            raise ValueError(f"vae: latent_mixup must be a number >= 0. Received: "
                             f"latent_mixup={self.latent_mixup}")
        for name in ("latent_dim", "hidden", "depth", "filters", "rnn_units", "embed_dim"):
            value = getattr(self, name)
            if value < 1:
                raise ValueError(f"vae: {name} must be >= 1. Received: {name}={value}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"vae: dropout must be in [0, 1). Received: "
                             f"dropout={self.dropout}")
        check_hyper("learning_rate", self.learning_rate)
        for name in HYPER_SETTINGS:
            check_hyper(name, getattr(self, name))


def check_hyper(name: str, value) -> float:
    """Check one mutable setting's value and return it as a float, or raise ValueError."""
    limits = {
        "learning_rate": ("> 0", lambda v: v > 0),
        "beta": (">= 0", lambda v: v >= 0),
        "kl_anneal_steps": (">= 0", lambda v: v >= 0),
        "word_dropout": ("in [0, 1)", lambda v: 0 <= v < 1),
        "free_bits": (">= 0", lambda v: v >= 0),
    }
    if name not in limits:
        raise ValueError(
            f"vae: {name!r} cannot change while training. Expected one of "
            f"{list(limits)}. Received: {name}={value!r}"
        )
    rule, ok = limits[name]
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"vae: {name} must be a number. Received: {name}={value!r}") from None
    if not ok(number):  # NaN fails every rule
        raise ValueError(f"vae: {name} must be {rule}. Received: {name}={value!r}")
    return number

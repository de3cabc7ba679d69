"""The Transformer's settings: its `Config` dataclass (no Keras import here).

``spec.py`` (what the plugin offers) and the model's modules both import it, so
neither imports the other's module to read the settings.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

IMAGE, TEXT = ("image",), ("text",)  # what a setting applies to (its metadata)
field = dataclasses.field
MUTABLE = ("learning_rate", "beta")  # settings a running training may change


@dataclasses.dataclass(frozen=True, kw_only=True)
class TransformerConfig:
    # Each field's metadata carries its one-line help and the data it applies to
    # (genwidgets.config.field_help / applies; the form shows only what applies).
    latent_dim: int = field(default=16, metadata={
        "help": "Numbers in the latent vector z (whole words: rounded up to a whole "
                "number per word slot)."})
    d_model: int = field(default=128, metadata={
        "help": "Width of every Transformer block."})
    num_heads: int = field(default=4, metadata={
        "help": "Attention heads per block (must divide d_model)."})
    ff_mult: int = field(default=4, metadata={  # feed-forward width = ff_mult * d_model
        "help": "Feed-forward width as a multiple of d_model."})
    encoder_layers: int = field(default=2, metadata={
        "help": "Transformer blocks in the encoder."})
    decoder_layers: int = field(default=3, metadata={
        "help": "Transformer blocks in the decoder."})
    dropout: float = field(default=0.0, metadata={
        "help": "Dropout inside the blocks while training (0 = none)."})
    # text: each decoder block mixes a position with this many previous ones before
    # attention (a causal depthwise convolution; 0 = off)
    local_mix: int = field(default=0, metadata={
        "help": "Previous positions each decoder block mixes in before attention "
                "(0 = off).", "modalities": TEXT})
    # text: "causal" reads the tokens before each position (a language model that may
    # ignore z); "parallel" decodes every position from z alone, in one pass
    text_decoder: Literal["causal", "parallel"] = field(default="causal", metadata={
        "help": "causal reads the tokens before each position; parallel decodes "
                "every position from z alone.", "modalities": TEXT})
    patch_size: int = field(default=4, metadata={  # 4 fits 8x8 digits and 28x28 MNIST
        "help": "Side of the square image patches (must divide the image size).",
        "modalities": IMAGE})
    beta: float = field(default=1.0, metadata={  # 1.0 = the ELBO
        "help": "Weight of the KL term (1 = the ELBO; smaller keeps more in z)."})
    kl_warmup_steps: int = field(default=0, metadata={
        "help": "Steps over which the KL weight ramps from 0 to beta (0 = no ramp)."})
    free_bits: float = field(default=0.0, metadata={
        "help": "Nats per latent dimension below which the KL costs nothing (0 = off).",
        "modalities": TEXT})
    token_dropout: float = field(default=0.0, metadata={
        "help": "Share of the decoder's inputs replaced by <unk> while training.",
        "modalities": TEXT})
    optimizer: Literal["adam", "adamw"] = field(default="adam", metadata={
        "help": "The optimizer: Adam, or AdamW (with weight decay)."})
    latent_mixup: float = field(default=0.0, metadata={"modalities": TEXT})
    learning_rate: float = field(default=1e-3, metadata={
        "help": "The optimizer's step size; may change while training."})
    seed: int = 0  # help: genwidgets.config.COMMON_HELP

    def validate(self) -> None:
        if not 0 <= self.latent_mixup < float("inf"):
            raise ValueError(f"transformer: latent_mixup must be a number >= 0. Received: "
                             f"latent_mixup={self.latent_mixup}")
        for name in ("latent_dim", "d_model", "num_heads", "ff_mult", "decoder_layers",
                     "patch_size"):
            value = getattr(self, name)
            if value < 1:
                raise ValueError(
                    f"transformer: {name} must be >= 1. Received: {name}={value}")
        for name in ("encoder_layers", "kl_warmup_steps", "local_mix"):
            value = getattr(self, name)
            if value < 0:
                raise ValueError(
                    f"transformer: {name} must be >= 0. Received: {name}={value}")
        if self.d_model % self.num_heads:
            raise ValueError(
                f"transformer: d_model must be divisible by num_heads. Received: "
                f"d_model={self.d_model}, num_heads={self.num_heads}")
        for name in ("dropout", "token_dropout"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise ValueError(
                    f"transformer: {name} must be in [0, 1). Received: {name}={value}")
        if self.beta < 0 or self.free_bits < 0:
            raise ValueError(
                f"transformer: beta and free_bits must be >= 0. Received: "
                f"beta={self.beta}, free_bits={self.free_bits}")
        if not self.learning_rate > 0:
            raise ValueError(
                f"transformer: learning_rate must be > 0. "
                f"Received: learning_rate={self.learning_rate}")

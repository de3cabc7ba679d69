"""The AE's settings: its `Config` dataclass (no Keras import here).

``spec.py`` (what the plugin offers) and the model's modules both import it, so
neither imports the other's module to read the settings.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

IMAGE, TEXT = ("image",), ("text",)  # what a setting applies to (its metadata)
field = dataclasses.field


@dataclasses.dataclass(frozen=True, kw_only=True)
class AEConfig:
    # Each field's metadata carries its one-line help and the data it applies to
    # (genwidgets.config.field_help / applies; the form shows only what applies).
    latent_dim: int = field(default=2, metadata={
        "help": "Numbers in the latent vector z (2 draws the map without PCA; whole "
                "words: rounded up to a whole number per word slot)."})
    # images: "auto" = conv for images of 16 px and more on an accelerator, dense otherwise
    # (on CPU the conv nets took 2.2 s an MNIST epoch against 0.35 s for the dense ones,
    # fast_conv's transposed convolutions included: benchmarks/conv_vs_dense.py)
    architecture: Literal["auto", "conv", "dense"] = field(default="auto", metadata={
        "help": "Networks for images: auto = conv on an accelerator for 16 px and "
                "more, dense otherwise.", "modalities": IMAGE})
    hidden: int = field(default=256, metadata={  # dense width, or GRU units (text)
        "help": "Width of the dense layers (images) or GRU units each way (text)."})
    filters: int = field(default=32, metadata={  # first conv layer's filters
        "help": "Filters of the first conv layer (conv architecture).",
        "modalities": IMAGE})
    embed_dim: int = field(default=32, metadata={
        "help": "Token embedding and the decoder's width per position.",
        "modalities": TEXT})
    # standard deviation of the Gaussian noise added to z while training (0 = none)
    latent_noise: float = field(default=0.0, metadata={
        "help": "Standard deviation of the noise added to z while training (0 = none)."})
    latent_mixup: float = field(default=0.0, metadata={"modalities": TEXT})
    learning_rate: float = field(default=1e-3, metadata={
        "help": "Adam's step size; may change while training."})
    seed: int = 0  # help: genwidgets.config.COMMON_HELP

    def validate(self) -> None:
        if not 0 <= self.latent_mixup < float("inf"):
            raise ValueError(f"ae: latent_mixup must be a number >= 0. Received: "
                             f"latent_mixup={self.latent_mixup}")
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

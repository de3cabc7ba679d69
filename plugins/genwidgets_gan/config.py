"""The GAN's settings: its `Config` dataclass (no Keras import here).

``spec.py`` (what the plugin offers) and the model's modules both import it, so
neither imports the other's module to read the settings.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

IMAGE, TEXT = ("image",), ("text",)  # what a setting applies to (its metadata)
field = dataclasses.field


@dataclasses.dataclass(frozen=True, kw_only=True)
class GANConfig:
    # Each field's metadata carries its one-line help (genwidgets.config.field_help).
    latent_dim: int = field(default=64, metadata={
        "help": "Numbers in the latent vector z the generator draws images from."})
    # "auto" = conv (a DCGAN) on every device: on CPU it takes 5.1 s an MNIST epoch
    # against 0.67 s for the dense nets (benchmarks/conv_vs_dense.py), but the samples
    # are what a GAN is for; "dense" = multilayer perceptrons for both networks
    architecture: Literal["auto", "conv", "dense"] = field(default="auto", metadata={
        "help": "auto or conv = a DCGAN; dense = multilayer perceptrons for both "
                "networks."})
    filters: int = field(default=32, metadata={  # conv: the first and the last block
        "help": "conv: filters of the discriminator's first and the generator's last "
                "block."})
    hidden: int = field(default=256, metadata={
        "help": "dense: width of the hidden layers."})
    # every layer of the discriminator divided by its largest singular value (spectral.py):
    # after 600 s of MNIST on CPU the judge's mean confidence on samples is 0.852-0.866
    # with it, 0.836-0.848 without (benchmarks/quality_gan_mnist.py). Models saved before
    # the setting existed load without it.
    spectral_norm: bool = field(default=True, metadata={
        "help": "Spectral normalisation of the discriminator's layers: steadier training, "
                "better samples."})
    # Both networks' learning rate. d_learning_rate / g_learning_rate override it for
    # one network; 0 means "same as learning_rate". The same rule holds mid-run:
    # changing learning_rate moves every network that has no rate of its own.
    learning_rate: float = field(default=2e-4, metadata={
        "help": "Adam's step size for both networks (unless one has its own)."})
    d_learning_rate: float = field(default=0.0, metadata={
        "help": "The discriminator's own learning rate; 0 = same as learning_rate."})
    g_learning_rate: float = field(default=0.0, metadata={
        "help": "The generator's own learning rate; 0 = same as learning_rate."})
    beta_1: float = field(default=0.5, metadata={  # Adam's first-moment decay, both
        "help": "Adam's first-moment decay, for both optimizers."})
    # one-sided: the discriminator's target for real images is 1 - this
    label_smoothing: float = field(default=0.0, metadata={
        "help": "One-sided: the discriminator's target for real images is 1 - this."})
    seed: int = 0  # help: genwidgets.config.COMMON_HELP

    def validate(self) -> None:
        for name in ("latent_dim", "filters", "hidden"):
            value = getattr(self, name)
            if value < 1:
                raise ValueError(f"gan: {name} must be >= 1. Received: {name}={value}")
        if not self.learning_rate > 0:
            raise ValueError(
                f"gan: learning_rate must be > 0. Received: learning_rate={self.learning_rate}"
            )
        for name in ("d_learning_rate", "g_learning_rate"):
            value = getattr(self, name)
            if not value >= 0:
                raise ValueError(
                    f"gan: {name} must be >= 0 (0 = same as learning_rate). "
                    f"Received: {name}={value}"
                )
        if not 0.0 <= self.beta_1 < 1.0:
            raise ValueError(f"gan: beta_1 must be in [0, 1). Received: beta_1={self.beta_1}")
        if not 0.0 <= self.label_smoothing < 0.5:
            raise ValueError(
                f"gan: label_smoothing must be in [0, 0.5). "
                f"Received: label_smoothing={self.label_smoothing}"
            )

    @property
    def d_rate(self) -> float:
        """The discriminator's learning rate at build time."""
        return self.d_learning_rate or self.learning_rate

    @property
    def g_rate(self) -> float:
        """The generator's learning rate at build time."""
        return self.g_learning_rate or self.learning_rate

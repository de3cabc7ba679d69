"""What the Transformer plugin offers and its settings (no Keras import here)."""

from __future__ import annotations

import dataclasses
from typing import Literal

from genwidgets import ModelSpec


class TransformerSpec(ModelSpec):
    name = "transformer"
    family = "transformer"
    modalities = ("image", "text")
    description = (
        "Transformer VAE. Text: a bidirectional encoder pooled to a latent z and a causal "
        "character decoder conditioned on z, sampled autoregressively with a temperature. "
        "Images: a patch Transformer encoder and decoder (ViT-style patches)."
    )
    mutable = ("learning_rate", "beta")
    # Sentences: a wide latent read by a decoder that sees only z (text_decoder="parallel"),
    # so paths between sentences move; "causal" is the character language model of before.
    modality_defaults = {"text": {"text_decoder": "parallel", "latent_dim": 128,
                                  "encoder_layers": 0, "decoder_layers": 2, "beta": 0.03,
                                  "kl_warmup_steps": 2000}}

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Config:
        latent_dim: int = 16
        d_model: int = 128  # width of every Transformer block
        num_heads: int = 4
        ff_mult: int = 4  # feed-forward width = ff_mult * d_model
        encoder_layers: int = 2
        decoder_layers: int = 3
        dropout: float = 0.0
        # text: each decoder block mixes a position with this many previous ones before
        # attention (a causal depthwise convolution; 0 = off)
        local_mix: int = 0
        # text: "causal" reads the tokens before each position (a language model that may
        # ignore z); "parallel" decodes every position from z alone, in one pass
        text_decoder: Literal["causal", "parallel"] = "causal"
        patch_size: int = 4  # images: square patches; 4 fits 8x8 digits and 28x28 MNIST
        beta: float = 1.0  # weight of the KL term (1.0 = the ELBO)
        kl_warmup_steps: int = 0  # KL weight ramps from 0 to beta over this many steps
        free_bits: float = 0.0  # text: nats per latent dimension the KL is not pushed below
        token_dropout: float = 0.0  # text: share of decoder inputs replaced by <unk> in training
        optimizer: Literal["adam", "adamw"] = "adam"
        learning_rate: float = 1e-3
        seed: int = 0

        def validate(self) -> None:
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

    def build(self, config, data_info):
        from genwidgets_transformer.model import build_transformer

        return build_transformer(config, data_info)

    def custom_objects(self):
        from genwidgets_transformer import layers, model

        from genwidgets.text_nets import CUSTOM_OBJECTS

        return {
            **CUSTOM_OBJECTS,
            "TransformerVAE": model.TransformerVAE,
            "TextSampler": model.TextSampler,
            "TransformerBlock": layers.TransformerBlock,
            "SelfAttention": layers.SelfAttention,
            "ByteDropout": layers.ByteDropout,
            "CausalLocalMix": layers.CausalLocalMix,
            "PositionEmbedding": layers.PositionEmbedding,
            "Patchify": layers.Patchify,
            "Unpatchify": layers.Unpatchify,
        }

"""What the Transformer plugin offers and its settings (no Keras import here)."""

from __future__ import annotations

from genwidgets import ModelSpec
from genwidgets_transformer.config import MUTABLE, TransformerConfig


class TransformerSpec(ModelSpec):
    name = "transformer"
    family = "transformer"
    modalities = ("image", "text")
    description = (
        "Transformer VAE. Text (text_decoder='parallel', the default): a decoder that "
        "reads only z; with whole words (the default of 'sentences') Transformer blocks "
        "give each word slot its code and each slot decodes to a word on its own; with "
        "pieces or characters, non-causal blocks decode every position at once. "
        "text_decoder='causal': a causal decoder conditioned on z, sampled "
        "autoregressively with a temperature. Images: a patch Transformer encoder and "
        "decoder (ViT-style patches)."
    )
    mutable = MUTABLE
    # Sentences: a wide latent read by a decoder that sees only z (text_decoder="parallel"),
    # so paths between sentences move; "causal" is the character language model of before.
    modality_defaults = {"text": {"text_decoder": "parallel", "latent_dim": 384,
                                  "encoder_layers": 0, "decoder_layers": 2, "beta": 0.03,
                                  "kl_warmup_steps": 2000, "latent_mixup": 1.0}}

    Config = TransformerConfig  # genwidgets_transformer/config.py

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

"""The Transformer plugin: a Transformer VAE for text (causal decoder) and images (patches).

This module holds only the spec; Keras is imported when a model is built.
"""

from genwidgets import hookimpl
from genwidgets_transformer.spec import TransformerSpec


@hookimpl
def register_models():
    return [TransformerSpec]


__all__ = ["TransformerSpec", "register_models"]

"""The conditional VAE plugin: a VAE over images whose encoder and decoder read each
item's label (its one-hot class), so ``decode(z, labels=...)`` draws a chosen class.

This module holds only the spec; Keras is imported when a model is built.
"""

from genwidgets import hookimpl
from genwidgets_cvae.spec import CVAESpec


@hookimpl
def register_models():
    return [CVAESpec]


__all__ = ["CVAESpec", "register_models"]

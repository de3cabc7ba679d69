"""The autoencoder plugin: a deterministic encoder/decoder for images and text.

This module holds only the spec; Keras is imported when a model is built.
"""

from genwidgets import hookimpl
from genwidgets_ae.spec import AESpec


@hookimpl
def register_models():
    return [AESpec]


__all__ = ["AESpec", "register_models"]

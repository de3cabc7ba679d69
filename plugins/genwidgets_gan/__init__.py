"""The GAN plugin: a DCGAN for images (a generator to decode and sample; it cannot encode).

This module holds only the spec; Keras is imported when a model is built.
"""

from genwidgets import hookimpl
from genwidgets_gan.spec import GANSpec


@hookimpl
def register_models():
    return [GANSpec]


__all__ = ["GANSpec", "register_models"]

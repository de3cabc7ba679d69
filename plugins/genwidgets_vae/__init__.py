"""The variational autoencoder plugin: images (Bernoulli decoder) and sentences (Bowman et al.).

This module holds only the spec; Keras is imported when a model is built.
"""

from genwidgets import hookimpl
from genwidgets_vae.spec import VAESpec


@hookimpl
def register_models():
    return [VAESpec]


__all__ = ["VAESpec", "register_models"]

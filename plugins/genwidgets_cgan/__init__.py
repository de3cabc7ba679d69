"""The class-conditional GAN plugin: a generator told which class to draw, against a
projection discriminator (Miyato and Koyama 2018) that judges image and label together.

This module holds only the spec; Keras is imported when a model is built.
"""

from genwidgets import hookimpl
from genwidgets_cgan.spec import CGANSpec


@hookimpl
def register_models():
    return [CGANSpec]


__all__ = ["CGANSpec", "register_models"]

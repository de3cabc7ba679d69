"""The autoencoder plugin (spec only; Keras is imported when a model is built)."""
from genwidgets import hookimpl
from genwidgets_ae.spec import AESpec

@hookimpl
def register_models():
    return [AESpec]

"""Plugins to install in tests: a good one, broken ones, and a registry that finds them."""

from __future__ import annotations

from genwidgets.registry import Registry

BUILTIN_MODELS = {"ae", "vae", "gan", "transformer"}

GOOD = """
import dataclasses
from genwidgets import hookimpl, ModelSpec, DatasetSpec

class ToySpec(ModelSpec):
    name = "{model}"
    family = "toy"
    modalities = ("image",)

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Config:
        width: int = 3

@hookimpl
def register_models():
    return [ToySpec]

@hookimpl
def register_datasets():
    return [DatasetSpec("{model}_data", "image", lambda: None, "toy data")]
"""


BROKEN_MODELS = """
import dataclasses
from genwidgets import hookimpl, ModelSpec


class BrokenBuild(ModelSpec):
    name = "broken_build"
    family = "toy"

    def build(self, config, data_info):
        raise RuntimeError("no weights for you")


class WrongEncode(ModelSpec):
    name = "wrong_encode"
    family = "toy"
    capabilities = frozenset({"encode"})

    def build(self, config, data_info):
        import keras

        class Model(keras.Model):
            def __init__(self):
                super().__init__()
                self.dense = keras.layers.Dense(3)
                self.latent_dim = 2

            def call(self, x):
                return self.dense(keras.ops.reshape(x, (keras.ops.shape(x)[0], -1)))

            def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None,
                             training=True):
                return keras.ops.mean(y_pred ** 2)

            def encode(self, x):
                return self(x)  # 3 numbers an item, though latent_dim is 2

        model = Model()
        model.compile(optimizer="sgd")
        return model


@hookimpl
def register_models():
    return [BrokenBuild, WrongEncode]
"""


def discover(**kwargs) -> Registry:
    return Registry(**{"strict": False, "blocked": set(), **kwargs}).discover()

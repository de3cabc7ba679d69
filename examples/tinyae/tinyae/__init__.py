"""tinyae: a linear autoencoder for genwidgets (it finds the subspace PCA finds)."""
import dataclasses

from genwidgets import ModelSpec, hookimpl


class LinearAESpec(ModelSpec):
    name = "linear_ae"
    family = "ae"
    modalities = ("image",)
    capabilities = frozenset({"encode", "decode"})  # no sampling: the views hide it
    description = "Linear encoder, sigmoid decoder: PCA's subspace, learnt by fit()."

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Config:
        latent_dim: int = 2
        learning_rate: float = 3e-3

    def build(self, config, data_info):
        from tinyae.model import build  # Keras only when a model is built

        return build(config, data_info)

    def custom_objects(self):
        from tinyae.model import LinearAE

        return {"LinearAE": LinearAE}


@hookimpl
def register_models():
    return [LinearAESpec]

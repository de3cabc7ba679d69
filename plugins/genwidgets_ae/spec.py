import dataclasses
from genwidgets import ModelSpec

class AESpec(ModelSpec):
    name = "ae"
    family = "ae"
    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Config:
        latent_dim: int = 2
        learning_rate: float = 1e-3

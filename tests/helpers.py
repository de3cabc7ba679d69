"""What many test modules share: small real data, a wait with a deadline, a model spec
whose loss goes NaN (or raises) on purpose."""

from __future__ import annotations

import dataclasses
import time

from genwidgets import DataInfo, Dataset, ModelSpec


def digits(n: int = 512, labels: bool = False) -> Dataset:
    """The first ``n`` of scikit-learn's 8x8 digits in [0, 1] (with their labels when
    ``labels``)."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = (bunch.images[:n] / 16.0).astype("float32")[..., None]
    if not labels:
        return Dataset(x, DataInfo("digits", "image", (8, 8, 1), len(x)))
    info = DataInfo("digits", "image", (8, 8, 1), len(x),
                    label_names=tuple(str(i) for i in range(10)))
    return Dataset(x, info, y=bunch.target[:n])


def wait_for(predicate, timeout=60.0, what="condition"):
    """Poll ``predicate`` every 20 ms; AssertionError naming ``what`` after ``timeout`` s."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


class ExplodingSpec(ModelSpec):
    """A model whose loss is log(w) while w shrinks: NaN at the fourth step."""

    name = "exploding"
    family = "test"

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Config:
        learning_rate: float = 0.3
        fail: bool = False

    def build(self, config, data_info):
        import keras

        class Exploding(keras.Model):
            def __init__(self):
                super().__init__()
                self.w = self.add_weight((), initializer="ones")
                self.latent_dim = 1

            def call(self, x):
                return x

            def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None,
                             training=True):
                if config.fail:
                    raise RuntimeError("the model raised on purpose")
                return keras.ops.log(self.w) + 0.0 * keras.ops.mean(y_pred)

        model = Exploding()
        model.compile(optimizer=keras.optimizers.SGD(config.learning_rate))
        return model

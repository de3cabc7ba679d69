"""What only the VAE has: the KL weight and its warm-up, mid-run beta, the image networks."""

from __future__ import annotations

import numpy as np
import pytest

import genwidgets  # noqa: F401  (sets the Keras backend first)
from genwidgets.spec import DataInfo
from genwidgets.testing import tiny_dataset
from genwidgets_vae.spec import VAESpec

keras = pytest.importorskip("keras")


def build(modality: str = "image", n: int = 32, **values):
    data = tiny_dataset(modality, n)
    small = dict(latent_dim=2, hidden=16, filters=4, rnn_units=8, embed_dim=4)
    spec = VAESpec()
    return spec.build(spec.config(**{**small, **values}), data.info), data.x


class BatchLogs(keras.callbacks.Callback):
    """Per-batch values of each log (Keras reports running means), and an optional action
    after the first batch, the way a trainer changes settings mid-run."""

    def __init__(self, after_first=None):
        super().__init__()
        self.after_first, self.means = after_first, []

    def on_train_batch_end(self, batch, logs=None):
        self.means.append(dict(logs))
        if batch == 0 and self.after_first:
            self.after_first(self.model)  # self.model syncs the JAX state

    def values(self, name: str) -> np.ndarray:
        means = np.array([m[name] for m in self.means], dtype="float64")
        counts = np.arange(1, len(means) + 1)
        return means * counts - np.concatenate([[0.0], means[:-1] * counts[:-1]])


def test_kl_weight_warms_up_with_the_steps_then_holds_at_beta():
    model, x = build(kl_anneal_steps=4, beta=2.0)
    weights = [float(model.kl_weight(step)) for step in range(6)]
    assert weights == pytest.approx([0.5, 1.0, 1.5, 2.0, 2.0, 2.0])
    model.set_hyper("kl_anneal_steps", 0)  # 0: no warm-up
    assert float(model.kl_weight(0)) == pytest.approx(2.0)


@pytest.mark.parametrize("modality", ["image", "text"])
def test_training_moves_the_kl_warm_up(modality):
    model, x = build(modality, kl_anneal_steps=100)
    assert float(model.kl_weight()) == pytest.approx(0.01)
    logs = model.fit(x, batch_size=8, epochs=1, verbose=0).history
    assert {"loss", "reconstruction", "kl"} <= set(logs)
    assert float(model.kl_step.numpy()) == 4.0
    assert float(model.kl_weight()) == pytest.approx(0.05)
    if modality == "image":  # (one compile of the text step is enough here)
        model.evaluate(x, batch_size=8, verbose=0)  # evaluating does not advance it
        assert float(model.kl_step.numpy()) == 4.0


def test_beta_set_mid_run_reaches_the_compiled_step():
    model, x = build(kl_anneal_steps=0, beta=1.0)
    logs = BatchLogs(after_first=lambda m: m.set_hyper("beta", 0.0))
    model.fit(x, batch_size=8, epochs=1, verbose=0, callbacks=[logs])
    loss, reconstruction, kl = (logs.values(k) for k in ("loss", "reconstruction", "kl"))
    assert loss[0] == pytest.approx(reconstruction[0] + kl[0], rel=1e-4)
    assert kl[1:].min() > 0.0
    # with beta = 0 the loss is the reconstruction alone, from the very next batch
    np.testing.assert_allclose(loss[1:], reconstruction[1:], rtol=1e-4)
    assert model.get_config()["config"]["beta"] == 0.0


def test_mutable_settings_are_checked():
    model, _ = build()
    with pytest.raises(ValueError, match="beta must be >= 0"):
        model.set_hyper("beta", -1)
    with pytest.raises(ValueError, match="cannot change while training"):
        model.set_hyper("latent_dim", 3)
    with pytest.raises(ValueError, match=r"dropout must be in \[0, 1\)"):
        VAESpec().config(dropout=1.0).validate()


def test_auto_architecture_is_dense_on_cpu_and_for_tiny_images():
    model, _ = build(architecture="auto")
    assert model.architecture == "dense"
    model, x = build(architecture="conv")
    assert model.architecture == "conv"
    assert model.decode(np.zeros((3, 2), "float32")).shape == (3, *x.shape[1:])
    odd = DataInfo(name="odd", modality="image", shape=(7, 9, 1), n_items=4)
    with pytest.raises(ValueError, match="divisible by 4.*architecture='dense'"):
        VAESpec().build(VAESpec.Config(architecture="conv"), odd)


def test_dropout_is_in_the_decoder_only_and_off_when_decoding():
    model, x = build(dropout=0.5)
    kinds = {net.name: {type(layer).__name__ for layer in net.layers}
             for net in (model.encoder, model.decoder)}
    assert "Dropout" in kinds["decoder"] and "Dropout" not in kinds["encoder"]
    z = np.random.default_rng(0).standard_normal((5, 2)).astype("float32")
    np.testing.assert_array_equal(model.decode(z), model.decode(z))
    images = model.decode(z)
    assert images.min() >= 0.0 and images.max() <= 1.0

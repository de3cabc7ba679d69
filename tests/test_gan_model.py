"""What only the GAN has: no encoder, two optimizers, rates that change mid-run."""

from __future__ import annotations

import numpy as np
import pytest

import genwidgets  # noqa: F401  (sets the Keras backend first)
from genwidgets.spec import DataInfo
from genwidgets_gan.spec import GANSpec

keras = pytest.importorskip("keras")
from genwidgets_gan.model import GAN  # noqa: E402
from genwidgets_gan.nets import make_networks, upsampling_plan  # noqa: E402
from tests.helpers import digits, edit_saved_config  # noqa: E402


def build(**values) -> GAN:
    info = digits(64).info
    spec = GANSpec()
    return spec.build(spec.config(latent_dim=4, filters=8, **values), info)


def weights(net) -> list[np.ndarray]:
    return [np.array(v.numpy()) for v in net.trainable_variables]


def moved(before, after) -> float:
    return max(float(np.abs(a - b).max()) for a, b in zip(before, after))


def test_upsampling_plan_follows_the_image_shape():
    assert upsampling_plan(28, 28) == (7, 7, 2)
    assert upsampling_plan(8, 8) == (2, 2, 2)
    assert upsampling_plan(32, 32) == (4, 4, 3)
    assert upsampling_plan(7, 9) == (7, 9, 0)
    assert upsampling_plan(12, 20) == (3, 5, 2)


@pytest.mark.parametrize("shape", [(8, 8, 1), (28, 28, 1), (7, 9, 3), (12, 20, 1)])
@pytest.mark.parametrize("architecture", ["conv", "dense"])
def test_generator_makes_images_of_the_data_shape(shape, architecture):
    config = GANSpec.Config(latent_dim=3, filters=4, hidden=8, architecture=architecture)
    info = DataInfo(name="x", modality="image", shape=shape, n_items=1)
    generator, discriminator = make_networks(config, info)
    assert tuple(generator.output_shape) == (None, *shape)
    assert tuple(discriminator.output_shape) == (None, 1)


def test_the_gan_cannot_encode_and_says_so():
    spec = GANSpec()
    assert spec.capabilities == frozenset({"decode", "sample"})
    assert spec.modalities == ("image",)
    assert not hasattr(GAN, "encode")
    text = DataInfo(name="t", modality="text", shape=(12,), n_items=4, vocab=("<pad>", "a"))
    with pytest.raises(ValueError, match="expected images"):
        spec.build(spec.Config(), text)


def test_config_rates_and_their_errors():
    config = GANSpec.Config(learning_rate=1e-3, g_learning_rate=5e-4)
    assert (config.d_rate, config.g_rate) == (1e-3, 5e-4)
    with pytest.raises(ValueError, match="d_learning_rate must be >= 0"):
        GANSpec().config(d_learning_rate=-1)
    model = build(d_learning_rate=3e-4)
    assert float(model.optimizer.d_optimizer.learning_rate.numpy()) == pytest.approx(3e-4)
    assert float(model.optimizer.g_optimizer.learning_rate.numpy()) == pytest.approx(2e-4)
    with pytest.raises(ValueError, match="Received: name='beta'"):
        model.set_hyper("beta", 1.0)


def test_mid_run_rates_follow_the_config_rule():
    model = build(d_learning_rate=3e-4)

    def rates():
        opt = model.optimizer
        return (pytest.approx(float(opt.d_optimizer.learning_rate.numpy())),
                pytest.approx(float(opt.g_optimizer.learning_rate.numpy())))

    model.set_hyper("learning_rate", 1e-3)  # the discriminator keeps its own rate
    assert rates() == (3e-4, 1e-3)
    model.set_hyper("d_learning_rate", 0.0)  # 0: back to learning_rate
    assert rates() == (1e-3, 1e-3)
    model.set_hyper("g_learning_rate", 5e-5)
    assert rates() == (1e-3, 5e-5)
    assert model.get_config()["config"]["g_learning_rate"] == 5e-5
    with pytest.raises(ValueError, match="must be >= 0"):
        model.set_hyper("learning_rate", -1.0)


def test_one_epoch_trains_both_networks_and_logs_both_losses():
    x = digits(64).x
    model = build()
    g0, d0 = weights(model.generator), weights(model.discriminator)
    u0 = [np.array(v.numpy()) for v in model.discriminator.non_trainable_variables]
    seed0 = np.array(model.seed_generator.state.numpy())
    logs = model.fit(x, batch_size=16, epochs=1, verbose=0).history
    assert {"loss", "d_loss", "g_loss"} <= set(logs)
    assert all(np.isfinite(v[-1]) for v in logs.values())
    assert logs["loss"][-1] == pytest.approx(logs["d_loss"][-1] + logs["g_loss"][-1], rel=1e-5)
    assert moved(g0, weights(model.generator)) > 1e-5
    assert moved(d0, weights(model.discriminator)) > 1e-5
    # each step moved the discriminator's spectral estimates (a non-trainable weight)
    u1 = [np.array(v.numpy()) for v in model.discriminator.non_trainable_variables]
    assert len(u1) == 3 and moved(u0, u1) > 1e-6
    assert int(model.optimizer.iterations.numpy()) == 4
    assert int(model.optimizer.d_optimizer.iterations.numpy()) == 4
    assert int(model.optimizer.g_optimizer.iterations.numpy()) == 4
    # z is drawn through the model's seed generator, so its state moved
    assert not np.array_equal(seed0, model.seed_generator.state.numpy())


def test_validation_reports_both_losses_and_updates_nothing():
    x = digits(64).x
    model = build()
    logs = model.fit(x[:32], batch_size=16, epochs=1, verbose=0,
                     validation_data=(x[32:],)).history
    assert {"val_loss", "val_d_loss", "val_g_loss"} <= set(logs)
    g0, d0 = weights(model.generator), weights(model.discriminator)
    scores = model.evaluate(x, batch_size=16, verbose=0, return_dict=True)
    assert np.isfinite(scores["d_loss"]) and np.isfinite(scores["g_loss"])
    assert moved(g0, weights(model.generator)) == 0.0
    assert moved(d0, weights(model.discriminator)) == 0.0


class FreezeAfterFirstBatch(keras.callbacks.Callback):
    """Set a rate mid-epoch, the way a trainer does, and remember the weights then."""

    def __init__(self, name: str):
        super().__init__()
        self.name, self.snapshot = name, None

    def on_train_batch_end(self, batch, logs=None):
        if batch == 0:
            model = self.model  # syncs the JAX state
            model.set_hyper(self.name, 1e-9)
            self.snapshot = (weights(model.generator), weights(model.discriminator))


@pytest.mark.parametrize("name, frozen", [
    ("d_learning_rate", {"d"}), ("g_learning_rate", {"g"}), ("learning_rate", {"d", "g"}),
])
def test_rates_set_mid_epoch_reach_the_compiled_step(name, frozen):
    x = digits(64).x
    model = build()
    callback = FreezeAfterFirstBatch(name)
    model.fit(x, batch_size=16, epochs=1, verbose=0, callbacks=[callback])
    g1, d1 = callback.snapshot
    change = {"g": moved(g1, weights(model.generator)),
              "d": moved(d1, weights(model.discriminator))}
    for net, value in change.items():
        if net in frozen:
            assert value < 1e-6, (net, change)
        else:
            assert value > 1e-5, (net, change)


def test_optimizer_learning_rate_sets_both():
    model = build()
    model.optimizer.learning_rate = 1e-3
    assert float(model.optimizer.d_optimizer.learning_rate.numpy()) == pytest.approx(1e-3)
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(1e-3)


def test_reload_keeps_rates_and_optimizer_state_and_trains_on(tmp_path):
    x = digits(64).x
    model = build()
    model.fit(x, batch_size=16, epochs=1, verbose=0)
    model.set_hyper("g_learning_rate", 5e-4)
    model.save(tmp_path / "gan.keras")
    again = keras.saving.load_model(tmp_path / "gan.keras",
                                    custom_objects=GANSpec().custom_objects(), safe_mode=True)
    assert float(again.optimizer.g_optimizer.learning_rate.numpy()) == pytest.approx(5e-4)
    assert float(again.optimizer.d_optimizer.learning_rate.numpy()) == pytest.approx(2e-4)
    assert int(again.optimizer.g_optimizer.iterations.numpy()) == 4
    assert again.gan_config.g_learning_rate == 5e-4
    z = np.random.default_rng(1).standard_normal((5, 4)).astype("float32")
    np.testing.assert_allclose(again.decode(z), model.decode(z), atol=1e-6)
    # the discriminator's spectral estimates came back too: it judges as it did
    images = x[:8] * 2.0 - 1.0
    np.testing.assert_allclose(again.discriminator(images), model.discriminator(images),
                               atol=1e-6)
    logs = again.fit(x, batch_size=16, epochs=1, verbose=0).history
    assert np.isfinite(logs["d_loss"][-1]) and np.isfinite(logs["g_loss"][-1])


@pytest.mark.parametrize("layer", ["conv", "dense"])
def test_spectral_layers_divide_the_kernel_by_its_largest_singular_value(layer):
    from genwidgets_gan.spectral import SpectralConv2D, SpectralDense

    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).standard_normal((3, 6, 6, 2)).astype("float32")
    if layer == "conv":
        spectral, plain = SpectralConv2D(5, 3, strides=2, padding="same"), keras.layers.Conv2D(
            5, 3, strides=2, padding="same")
    else:
        x = x.reshape(3, -1)
        spectral, plain = SpectralDense(5), keras.layers.Dense(5)
    spectral(x)
    u0 = np.array(spectral.spectral_u.numpy())
    spectral(x)  # not training: the estimate stays where it is
    np.testing.assert_array_equal(spectral.spectral_u.numpy(), u0)
    for _ in range(50):  # each training call is one power iteration
        spectral(x, training=True)
    kernel = np.array(spectral._kernel.numpy())
    sigma = np.linalg.svd(kernel.reshape(-1, 5), compute_uv=False)[0]
    plain(x)
    plain.set_weights([kernel / sigma, np.array(spectral.bias.numpy())])
    np.testing.assert_allclose(spectral(x), plain(x), rtol=1e-4, atol=1e-5)


def test_a_gan_saved_before_spectral_norm_existed_loads_as_it_was(tmp_path):
    import shutil

    from genwidgets_gan.spectral import SpectralConv2D

    model = build(spectral_norm=False)
    assert not any(isinstance(layer, SpectralConv2D) for layer in model.discriminator.layers)
    assert any(isinstance(layer, SpectralConv2D) for layer in build().discriminator.layers)
    model.save(tmp_path / "new.keras")
    # the same file as an older genwidgets wrote it: no spectral_norm in the GAN's config
    shutil.copy(tmp_path / "new.keras", tmp_path / "old.keras")
    edit_saved_config(tmp_path / "old.keras",
                      lambda config: config["config"]["config"].pop("spectral_norm"))
    again = keras.saving.load_model(tmp_path / "old.keras",
                                    custom_objects=GANSpec().custom_objects(), safe_mode=True)
    assert again.gan_config.spectral_norm is False
    images = digits(8).x * 2.0 - 1.0
    np.testing.assert_allclose(again.discriminator(images), model.discriminator(images),
                               atol=1e-6)

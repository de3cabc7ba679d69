"""FastConv2DTranspose is Keras' Conv2DTranspose: same outputs and gradients, saved and
reloaded with its weights."""

from __future__ import annotations

import itertools
import subprocess
import sys

import numpy as np
import pytest

import genwidgets  # noqa: F401  (sets the Keras backend first)
from genwidgets.fast_conv import FastConv2DTranspose, matmul_path

keras = pytest.importorskip("keras")
import jax  # noqa: E402  (after genwidgets chose the backend)

CASES = [  # (strides, kernel_size, padding, output_padding, activation)
    *[(s, k, p, None, "swish") for s, k, p in itertools.product(
        (1, 2, 3), (1, 3, 4), ("same", "valid"))],
    (2, 4, "same", 1, None), (2, 3, "valid", 1, "relu"), (3, 5, "same", 2, "tanh"),
    ((2, 1), (4, 3), "same", None, None), ((1, 3), (2, 5), "valid", None, "gelu"),
]


def twins(strides, kernel_size, padding, output_padding, activation, input_shape):
    """Keras' layer and ours with the same settings and weights."""
    settings = dict(filters=5, kernel_size=kernel_size, strides=strides, padding=padding,
                    output_padding=output_padding, activation=activation)
    ref, fast = keras.layers.Conv2DTranspose(**settings), FastConv2DTranspose(**settings)
    ref.build(input_shape)
    fast.build(input_shape)
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal(w.shape).astype("float32") for w in ref.get_weights()]
    ref.set_weights(weights)
    fast.set_weights(weights)
    return ref, fast


def test_the_matrix_path_is_what_runs_here():
    assert matmul_path() == (jax.default_backend() == "cpu")


@pytest.mark.parametrize("strides, kernel_size, padding, output_padding, activation", CASES)
def test_same_outputs_and_gradients_as_keras(strides, kernel_size, padding, output_padding,
                                             activation):
    x = np.random.default_rng(1).standard_normal((2, 7, 6, 3)).astype("float32")
    ref, fast = twins(strides, kernel_size, padding, output_padding, activation, x.shape)
    expected, got = np.asarray(ref(x)), np.asarray(fast(x))
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    cotangent = np.random.default_rng(2).standard_normal(expected.shape).astype("float32")

    def grads(layer):
        def loss(x, kernel, bias):
            out, _ = layer.stateless_call([kernel, bias], [], x)
            return (out * cotangent).sum()

        return jax.grad(loss, argnums=(0, 1, 2))(x, layer.kernel.value, layer.bias.value)

    for want, have in zip(grads(ref), grads(fast)):
        np.testing.assert_allclose(np.asarray(have), np.asarray(want), rtol=1e-4, atol=1e-4)


def test_dilation_falls_back_to_keras():
    x = np.random.default_rng(1).standard_normal((2, 6, 6, 3)).astype("float32")
    ref = keras.layers.Conv2DTranspose(4, 3, dilation_rate=2)
    fast = FastConv2DTranspose(4, 3, dilation_rate=2)
    ref.build(x.shape)
    fast.build(x.shape)
    fast.set_weights(ref.get_weights())
    np.testing.assert_allclose(np.asarray(fast(x)), np.asarray(ref(x)), rtol=1e-5, atol=1e-5)


RELOAD = """
import sys
import numpy as np
import genwidgets
import keras
import genwidgets.fast_conv  # registers the layer, as the image plugins do
model = keras.saving.load_model(sys.argv[1], safe_mode=True)
x = np.load(sys.argv[2])
layer = model.get_layer("up")
print(type(layer).__name__, float(np.abs(model.predict(x, verbose=0) - np.load(sys.argv[3])).max()))
"""


def test_saved_and_reloaded_with_its_weights_in_a_fresh_process(tmp_path):
    inputs = keras.Input((7, 7, 4))
    t = FastConv2DTranspose(6, 4, strides=2, padding="same", activation="swish",
                            name="up")(inputs)
    model = keras.Model(inputs, FastConv2DTranspose(1, 3, strides=2, padding="same")(t))
    x = np.random.default_rng(0).standard_normal((3, 7, 7, 4)).astype("float32")
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, np.zeros((3, 28, 28, 1), "float32"), epochs=2, verbose=0)  # not the init
    expected = model.predict(x, verbose=0)
    path = tmp_path / "model.keras"
    model.save(path)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", expected)

    reloaded = keras.saving.load_model(path, safe_mode=True)  # in this process
    assert isinstance(reloaded.get_layer("up"), FastConv2DTranspose)
    for have, want in zip(reloaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(have, want)
    np.testing.assert_array_equal(reloaded.predict(x, verbose=0), expected)

    out = subprocess.run([sys.executable, "-c", RELOAD, str(path), str(tmp_path / "x.npy"),
                          str(tmp_path / "y.npy")], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    name, diff = out.stdout.split()[-2:]
    assert name == "FastConv2DTranspose" and float(diff) == 0.0

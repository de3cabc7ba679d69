"""Seconds per training epoch of a convolutional VAE: Keras' convolutions against genwidgets'.

    python benchmarks/conv_speed.py [--repeats 3] [--hidden 512] [--filters 32]

The net is the VAE plugin's convolutional one (two 4x4 stride-2 convolutions of 32 and 64
filters, a dense layer of ``--hidden``, latent 16; back through a dense layer and two 4x4
stride-2 transposed convolutions; swish; Bernoulli logits), trained with Adam on the MNIST
protocol of ../shared/data/README.md (the first 8,000 t10k images, [0, 1], batch 100,
float32). When MNIST is absent, scikit-learn's digits are scaled to 28x28 and repeated to
8,000 images (``data`` says which). Three builds of the same net: ``keras``
(keras.layers.Conv2D / Conv2DTranspose), ``genwidgets`` (Keras' Conv2D with
genwidgets.fast_conv.FastConv2DTranspose, as in the built-in image nets) and, when
PyTorch happens to be importable, the same net in ``torch`` (never a dependency; on the
GPU when JAX runs on one, else on the CPU, said by ``torch_device``); the two
Keras builds start from the same weights. Each first runs one epoch that compiles; then
their epochs alternate ``--repeats`` times, so that all see the same load from the
machine's other users, and each figure is the median.

How fast could any build be? ``step_gflop`` is XLA's count of the floating-point
operations in one training step (loss and gradients, the smaller of the two Keras builds'
counts); ``matmul_gflop_per_s`` the best rate of XLA's matrix product on this device at
the net's largest one (the dense layer's, forward and backward, the best of 30);
``floor_s_per_epoch`` an epoch's steps times the one over the other: every operation of
the net as fast as the fastest, nothing else costing anything. ``speedup_ceiling`` is
keras_s_per_epoch over that floor, the most any rewrite of the layers could give, and
``genwidgets_vs_floor`` (and ``torch_vs_floor``) how far each build is from it.

And what if the convolutions cost nothing? A fourth build, ``free_conv``, swaps each
convolution for a stand-in of the same output shape with no arithmetic (``free_convolutions``):
``free_conv_s_per_epoch`` is the rest of an epoch, which no convolution can shorten, and
``free_conv_speedup`` (keras_s_per_epoch over it) the most any convolution, however fast,
could give this net (Amdahl's bound). ``conv_gflop`` is the convolutions' share of
``step_gflop`` (the difference of XLA's two counts) and ``speedup_bound`` keras_s_per_epoch
over the rest of the epoch plus that arithmetic at ``matmul_gflop_per_s``: the most
convolutions as fast as this device's best matrix product could give.

Prints JSON lines, one per timed epoch, the last the headline: keras_s_per_epoch,
genwidgets_s_per_epoch, speedup (goal >= 3), step_gflop, matmul_gflop_per_s,
floor_s_per_epoch, speedup_ceiling, genwidgets_vs_floor, free_conv_s_per_epoch,
free_conv_speedup, conv_gflop, speedup_bound, torch_s_per_epoch and
ratio_vs_torch (and torch_vs_floor) when torch is there (and torch_device), max_abs_diff
(the two Keras builds' first-batch logits), data, load_avg.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import numpy as np

import genwidgets  # noqa: F401  (sets the Keras backend before keras is imported)

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "mnist"
N_TRAIN, BATCH, LATENT = 8000, 100, 16


def emit(**record) -> None:
    print(json.dumps(record), flush=True)


def load_images() -> tuple[np.ndarray, str]:
    from genwidgets.data.images import load_digits, load_mnist

    if (DATA / "t10k-images-idx3-ubyte.gz").exists():
        x = load_mnist(path=DATA, split="test").x[:N_TRAIN]
        return x.reshape(len(x), 28, 28, 1).astype("float32"), "mnist t10k[:8000]"
    digits = load_digits().x  # 8x8 -> 24x24 -> 28x28, repeated to 8,000 images
    x = np.pad(np.kron(digits, np.ones((3, 3), "float32")), ((0, 0), (2, 2), (2, 2)))
    x = np.resize(x, (N_TRAIN, 28, 28))[..., None]
    return x.astype("float32"), "digits (MNIST absent: sklearn digits scaled to 28x28)"


def keras_vae(conv, conv_t, hidden: int, filters: int):
    """The VAE plugin's conv nets built from the given Conv2D / Conv2DTranspose classes."""
    import keras
    from keras import layers, ops

    f, act = filters, "swish"
    x = keras.Input((28, 28, 1))
    t = conv(f, 4, strides=2, padding="same", activation=act)(x)
    t = conv(2 * f, 4, strides=2, padding="same", activation=act)(t)
    t = layers.Dense(hidden, activation=act)(layers.Flatten()(t))
    encoder = keras.Model(x, [layers.Dense(LATENT)(t), layers.Dense(LATENT)(t)])
    z = keras.Input((LATENT,))
    t = layers.Dense(hidden, activation=act)(z)
    t = layers.Reshape((7, 7, 2 * f))(layers.Dense(7 * 7 * 2 * f, activation=act)(t))
    t = conv_t(f, 4, strides=2, padding="same", activation=act)(t)
    decoder = keras.Model(z, conv_t(1, 4, strides=2, padding="same")(t))

    class VAE(keras.Model):
        def __init__(self):
            super().__init__()
            self.encoder, self.decoder = encoder, decoder
            self.seed = keras.random.SeedGenerator(0)

        def call(self, x, training=False):
            mean, log_var = self.encoder(x)
            eps = keras.random.normal(ops.shape(mean), seed=self.seed)
            return self.decoder(mean + ops.exp(0.5 * log_var) * eps), mean, log_var

        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None,
                         training=True):
            logits, mean, log_var = y_pred
            ce = ops.binary_crossentropy(x, logits, from_logits=True)
            kl = 0.5 * ops.sum(ops.exp(log_var) + ops.square(mean) - 1.0 - log_var, axis=-1)
            return ops.mean(ops.sum(ops.reshape(ce, (-1, 28 * 28)), axis=-1) + kl)

    model = VAE()
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    return model


def free_convolutions():
    """Stand-ins for Conv2D / Conv2DTranspose (4x4, stride 2, "same") with the same output
    shapes, a bias and the activation but no arithmetic in between (a stride-2 slice, a
    nearest-neighbour upsampling; channels tiled or cut): the net built from them is the
    rest of the training step (dense layers, activations, loss, Adam, Keras' loop), which a
    faster convolution cannot shorten."""
    import keras
    from keras import ops

    class FreeConv(keras.layers.Layer):
        up = False

        def __init__(self, filters, kernel_size, strides=1, padding="valid", activation=None,
                     **kwargs):
            super().__init__(**kwargs)
            self.filters, self.activation = filters, keras.activations.get(activation)

        def build(self, input_shape):
            self.bias = self.add_weight(shape=(self.filters,), initializer="zeros")

        def call(self, x):
            x = ops.repeat(ops.repeat(x, 2, axis=1), 2, axis=2) if self.up else x[:, ::2, ::2]
            reps = -(-self.filters // x.shape[-1])
            x = ops.tile(x, (1, 1, 1, reps))[..., :self.filters] if reps > 1 else (
                x[..., :self.filters])
            return self.activation(x + self.bias)

    class FreeConvTranspose(FreeConv):
        up = True

    return FreeConv, FreeConvTranspose


def step_flops(model, x: np.ndarray) -> float:
    """XLA's count of the floating-point operations in one training step of ``model``
    (loss and gradients of a batch, as compiled for this device; the optimizer's few
    element-wise ones left out)."""
    import jax

    batch = x[:BATCH]
    variables = model.trainable_variables
    non_trainable = [v.value for v in model.non_trainable_variables]

    def loss(trainable):
        y_pred, _ = model.stateless_call(trainable, non_trainable, batch, training=True)
        return model.compute_loss(x=batch, y_pred=y_pred)

    compiled = jax.jit(jax.grad(loss)).lower([v.value for v in variables]).compile()
    cost = compiled.cost_analysis()
    cost = cost[0] if isinstance(cost, (list, tuple)) else cost
    return float(cost["flops"])


def matmul_rate(hidden: int, filters: int, repeats: int = 30) -> float:
    """Floating-point operations a second of XLA's matrix product on this device at the
    net's largest one (a batch of flattened 7x7 feature maps times the dense layer's
    kernel), forward and both backward products, as a training step runs it: the best
    rate any layer of the net can hope for."""
    import jax
    import jax.numpy as jnp

    k = 7 * 7 * 2 * filters
    rng = np.random.default_rng(0)
    a = jnp.asarray(rng.standard_normal((BATCH, k), dtype="float32"))
    w = jnp.asarray(rng.standard_normal((k, hidden), dtype="float32"))
    g = jnp.asarray(rng.standard_normal((BATCH, hidden), dtype="float32"))

    @jax.jit
    def products(a, w, g):
        return a @ w, g @ w.T, a.T @ g

    jax.block_until_ready(products(a, w, g))
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(products(a, w, g))
        times.append(time.perf_counter() - t0)
    return 3 * 2 * BATCH * k * hidden / min(times)


def torch_epoch_runner(x: np.ndarray, hidden: int, filters: int, device: str = "cpu"):
    """One epoch of the same net in PyTorch (its own initialisation) on ``device``
    ("cpu" or "cuda"), its version and device; or None without PyTorch."""
    try:
        import torch
        from torch import nn
    except ImportError:
        return None
    if device == "cuda" and not torch.cuda.is_available():
        device = "cpu"
    f = filters
    enc = nn.Sequential(nn.Conv2d(1, f, 4, 2, 1), nn.SiLU(), nn.Conv2d(f, 2 * f, 4, 2, 1),
                        nn.SiLU(), nn.Flatten(), nn.Linear(7 * 7 * 2 * f, hidden), nn.SiLU(),
                        nn.Linear(hidden, 2 * LATENT))
    dec = nn.Sequential(nn.Linear(LATENT, hidden), nn.SiLU(), nn.Linear(hidden, 7 * 7 * 2 * f),
                        nn.SiLU(), nn.Unflatten(1, (2 * f, 7, 7)),
                        nn.ConvTranspose2d(2 * f, f, 4, 2, 1), nn.SiLU(),
                        nn.ConvTranspose2d(f, 1, 4, 2, 1))
    enc, dec = enc.to(device), dec.to(device)
    params = [*enc.parameters(), *dec.parameters()]
    opt = torch.optim.Adam(params, 1e-3)
    data = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2))).to(device)

    def epoch() -> None:
        for i in torch.randperm(len(data), device=device).split(BATCH):
            xb = data[i]
            mean, log_var = enc(xb).chunk(2, dim=1)
            logits = dec(mean + torch.exp(0.5 * log_var) * torch.randn_like(mean))
            ce = nn.functional.binary_cross_entropy_with_logits(logits, xb, reduction="none")
            kl = 0.5 * (log_var.exp() + mean ** 2 - 1.0 - log_var).sum(1)
            loss = (ce.flatten(1).sum(1) + kl).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        if device == "cuda":
            torch.cuda.synchronize()  # the epoch's time includes its queued GPU work

    return epoch, torch.__version__, device


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed epochs of each")
    parser.add_argument("--hidden", type=int, default=512, help="width of the dense layers")
    parser.add_argument("--filters", type=int, default=32, help="first conv layer's filters")
    args = parser.parse_args()
    if args.repeats < 1 or args.hidden < 1 or args.filters < 1:
        parser.error(f"expected --repeats, --hidden and --filters >= 1. Received: "
                     f"{args.repeats}, {args.hidden}, {args.filters}")
    import keras

    from genwidgets.fast_conv import FastConv2DTranspose, matmul_path

    load_start = os.getloadavg()[0]
    x, data_name = load_images()
    keras.utils.set_random_seed(0)
    models = {"keras": keras_vae(keras.layers.Conv2D, keras.layers.Conv2DTranspose,
                                 args.hidden, args.filters),
              "genwidgets": keras_vae(keras.layers.Conv2D, FastConv2DTranspose, args.hidden,
                                      args.filters)}
    models["genwidgets"].set_weights(models["keras"].get_weights())
    models["free_conv"] = keras_vae(*free_convolutions(), args.hidden, args.filters)
    first = x[:BATCH]
    diff = float(np.max(np.abs(
        np.asarray(models["keras"].decoder(models["keras"].encoder(first)[0])) -
        np.asarray(models["genwidgets"].decoder(models["genwidgets"].encoder(first)[0])))))
    runners = {name: (lambda m=m: m.fit(x, batch_size=BATCH, epochs=1, verbose=0,
                                        shuffle=True)) for name, m in models.items()}
    import jax

    # PyTorch on the kind of device JAX uses, so that the ratio compares like with like
    torch_run = torch_epoch_runner(x, args.hidden, args.filters,
                                   "cuda" if jax.default_backend() == "gpu" else "cpu")
    if torch_run is not None:
        runners["torch"] = torch_run[0]
    for name, run in runners.items():  # compiles (and warms up torch)
        t0 = time.perf_counter()
        run()
        emit(variant=name, stage="first epoch (compiles)",
             s=round(time.perf_counter() - t0, 2))
    times = {name: [] for name in runners}
    for repeat in range(args.repeats):
        for name, run in runners.items():
            t0 = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - t0)
            emit(variant=name, repeat=repeat, s_per_epoch=round(times[name][-1], 3))
    median = {name: statistics.median(t) for name, t in times.items()}
    headline = dict(
        keras_s_per_epoch=round(median["keras"], 3),
        genwidgets_s_per_epoch=round(median["genwidgets"], 3),
        speedup=round(median["keras"] / median["genwidgets"], 2),
    )
    # the floor: the net's arithmetic (the smaller of XLA's two counts) at the best rate of
    # the device's matrix product, with nothing else costing anything
    flops = min(step_flops(models[name], x) for name in ("keras", "genwidgets"))
    rate = matmul_rate(args.hidden, args.filters)
    floor = len(range(0, len(x), BATCH)) * flops / rate
    headline.update(step_gflop=round(flops / 1e9, 3), matmul_gflop_per_s=round(rate / 1e9, 1),
                    floor_s_per_epoch=round(floor, 3),
                    speedup_ceiling=round(median["keras"] / floor, 2),
                    genwidgets_vs_floor=round(median["genwidgets"] / floor, 2),
                    free_conv_s_per_epoch=round(median["free_conv"], 3),
                    free_conv_speedup=round(median["keras"] / median["free_conv"], 2))
    # the convolutions' own arithmetic at the matrix product's rate, added to the rest
    conv_flops = flops - step_flops(models["free_conv"], x)
    conv_floor = len(range(0, len(x), BATCH)) * conv_flops / rate
    headline.update(conv_gflop=round(conv_flops / 1e9, 3),
                    speedup_bound=round(median["keras"] / (median["free_conv"] + conv_floor), 2))
    if "torch" in median:
        headline.update(torch_vs_floor=round(median["torch"] / floor, 2))
        headline.update(torch_s_per_epoch=round(median["torch"], 3),
                        ratio_vs_torch=round(median["genwidgets"] / median["torch"], 2),
                        torch_version=torch_run[1], torch_device=torch_run[2])
    emit(**headline, max_abs_diff=diff, matmul_path=matmul_path(),
         device=jax.default_backend(), data=data_name, images=len(x), batch_size=BATCH,
         hidden=args.hidden, filters=args.filters, repeats=args.repeats,
         load_avg=round(max(load_start, os.getloadavg()[0]), 2))


if __name__ == "__main__":
    main()

"""How well the GAN covers MNIST's ten digits after at most ten minutes on this CPU.

    python benchmarks/quality_gan_mnist.py [--quick] [--out artifacts/] [--seconds 600]

Trains the GAN plugin (default config) on the first 8,000 MNIST t10k images for at most
``--seconds`` of wall time (whole epochs; the compile is counted). A small Keras CNN,
trained here on the same 8,000 labelled images and scored on the last 2,000, labels
1,000 samples. Prints JSON lines; the last is the headline with classes_covered (goal 10:
digits that get at least 1% of the samples), max_class_share (goal <= 0.2), train_s, steps,
classifier_accuracy, mean_confidence (the judge's mean top probability on the samples)
beside real_mean_confidence (the same on the 2,000 held-out real digits) and
confidence_gap (real minus samples; goal <= 0.05: samples the judge is as sure of as of
real digits), and load_avg. Writes a 10x10 PNG grid of samples to ``--out``.

The default discriminator is spectrally normalised (``spectral_norm``): three 600-s runs
gave a mean confidence of 0.852, 0.865 and 0.866 (16,864-17,980 steps, the largest class
share 0.126-0.134), where every run without it gave 0.836-0.848 (0.173 in the last). By
eye, about a quarter of a 100-sample grid is still not a digit, with it or without.

Tried on this 2-core CPU and not kept, each one 600-s run (the nets without spectral
normalisation: 17,100-18,800 steps, a gap of 0.13): samples from a moving average of the
generator's weights (decay 0.999, batch norm statistics averaged too) were judged as the
generator's own (mean confidence 0.844 against 0.845); one-sided label smoothing 0.1 with
the discriminator at twice the generator's rate, 0.848; the hinge loss in place of the
cross-entropy (18,848 steps), 0.846; a generator twice as wide (the discriminator as it
is; 8,680 steps), 0.836. Wider nets (``filters`` 48, 64) cut the steps a second from 31
to 14 and 10. With spectral normalisation: the discriminator at twice the generator's
rate, 0.865, and Adam's ``beta_1`` 0 in place of 0.5, 0.867, both about the default's
0.852-0.866; samples from a narrower z (the truncation trick: z times 0.8, 0.7, 0.6, 0.5)
lost confidence at every step down in one run (0.861 to 0.840) and crowded into fewer
classes (the largest share 0.148 to 0.236). Keeping only the samples the trained
discriminator scores most real, from 20,000 draws (rejection sampling; one 16,988-step
run, 0.8525 for all draws): the best 50% 0.871, 30% 0.874, 10% 0.878 with the largest
class share up to 0.212; its score hardly predicts the judge's confidence (correlation
0.12). Augmenting every image the discriminator sees, real and generated, with a random
shift of up to 3 pixels and a 14-pixel cutout (differentiable augmentation, for small
data): 0.839 with spectral normalisation, 0.838 without (16,368 and 16,740 steps). A
latent of 16 numbers in place of 64: 18,352 steps, 0.866 (the largest share 0.116), within
the default's spread, and by eye as many malformed samples.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

import genwidgets  # noqa: F401  (sets the Keras backend before keras is imported)

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "mnist"
IMAGES, LABELS = "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"
N_TRAIN = 8000
COVERED_SHARE = 0.01  # a digit counts as covered with at least 1% of the samples


def emit(**record) -> None:
    print(json.dumps(record), flush=True)


def read_idx(path: Path) -> np.ndarray:
    """An IDX file (gzipped): big-endian header of magic, counts and dims, then uint8."""
    raw = gzip.decompress(path.read_bytes())
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_mnist() -> tuple[np.ndarray, np.ndarray]:
    if not (DATA / IMAGES).exists() or not (DATA / LABELS).exists():
        sys.exit(f"quality_gan_mnist: MNIST not found. Expected {DATA / IMAGES} and "
                 f"{DATA / LABELS} (../shared/data/mnist from the project root).")
    x = read_idx(DATA / IMAGES).astype("float32")[..., None] / 255.0
    return x, read_idx(DATA / LABELS).astype("int32")


def train_gan(x: np.ndarray, seconds: float, batch_size: int, max_epochs: int):
    from genwidgets.spec import DataInfo
    from genwidgets_gan.spec import GANSpec

    spec = GANSpec()
    info = DataInfo(name="mnist", modality="image", shape=x.shape[1:], n_items=len(x))
    config = spec.Config()
    model = spec.build(config, info)
    start, epoch_s, epoch = time.perf_counter(), 0.0, 0
    while epoch < max_epochs:
        elapsed = time.perf_counter() - start
        if elapsed + epoch_s > seconds:
            break
        t0 = time.perf_counter()
        logs = model.fit(x, batch_size=batch_size, epochs=1, verbose=0, shuffle=True).history
        epoch_s, epoch = time.perf_counter() - t0, epoch + 1
        if epoch == 1 or epoch % 10 == 0:
            emit(epoch=epoch, elapsed_s=round(time.perf_counter() - start, 1),
                 d_loss=round(logs["d_loss"][-1], 4), g_loss=round(logs["g_loss"][-1], 4))
    train_s = time.perf_counter() - start
    return model, config, train_s, int(model.optimizer.iterations.numpy()), epoch


def train_classifier(x, y, x_test, y_test, epochs: int):
    import keras
    from keras import layers

    keras.utils.set_random_seed(0)
    net = keras.Sequential([
        keras.Input(x.shape[1:]),
        layers.Conv2D(16, 3, activation="relu"), layers.MaxPooling2D(),
        layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(),
        layers.Flatten(), layers.Dropout(0.3), layers.Dense(64, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ], name="judge")
    net.compile(optimizer=keras.optimizers.Adam(1e-3),
                loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    net.fit(x, y, batch_size=64, epochs=epochs, verbose=0, shuffle=True)
    accuracy = net.evaluate(x_test, y_test, batch_size=500, verbose=0, return_dict=True)
    return net, float(accuracy["accuracy"])


def save_grid(images: np.ndarray, path: Path, rows: int = 10, scale: int = 2) -> None:
    from PIL import Image

    n, h, w, _ = images.shape
    cols = min(rows, n)
    rows = min(rows, (n + cols - 1) // cols)
    grid = np.ones((rows * (h + 2), cols * (w + 2)), dtype="float32")
    for i in range(rows * cols):
        if i >= n:
            break
        r, c = divmod(i, cols)
        grid[r * (h + 2) + 1: r * (h + 2) + 1 + h, c * (w + 2) + 1: c * (w + 2) + 1 + w] = (
            1.0 - images[i, ..., 0])  # dark digits on white
    img = Image.fromarray((grid * 255).round().astype("uint8"), mode="L")
    img.resize((img.width * scale, img.height * scale), Image.NEAREST).save(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tiny smoke run (seconds)")
    parser.add_argument("--out", default="artifacts", help="folder for the PNG grid")
    parser.add_argument("--seconds", type=float, default=600.0, help="GAN training budget")
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    load_start = os.getloadavg()[0]
    x, y = load_mnist()
    x_train, y_train, x_test, y_test = x[:N_TRAIN], y[:N_TRAIN], x[N_TRAIN:], y[N_TRAIN:]
    n_samples, max_epochs, judge_epochs = 1000, 10_000, 6
    if args.quick:
        x_train, y_train, x_test, y_test = x_train[:512], y_train[:512], x_test[:200], y_test[:200]
        n_samples, max_epochs, judge_epochs = 100, 2, 1
    usable = len(x_train) // args.batch_size * args.batch_size  # full batches only
    emit(stage="data", train=len(x_train), test=len(x_test), load_avg=round(load_start, 2))

    model, config, train_s, steps, epochs = train_gan(
        x_train[:usable], args.seconds, args.batch_size, max_epochs)
    emit(stage="gan", train_s=round(train_s, 1), steps=steps, epochs=epochs,
         steps_per_s=round(steps / train_s, 2))

    t0 = time.perf_counter()
    judge, accuracy = train_classifier(x_train, y_train, x_test, y_test, judge_epochs)
    emit(stage="classifier", accuracy=round(accuracy, 4),
         train_s=round(time.perf_counter() - t0, 1))

    samples = model.sample(n_samples, seed=0)
    probs = judge.predict(samples, batch_size=500, verbose=0)
    real_confidence = float(judge.predict(x_test, batch_size=500, verbose=0).max(-1).mean())
    counts = np.bincount(probs.argmax(-1), minlength=10)
    shares = counts / counts.sum()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    png = out / "gan_mnist_samples.png"
    save_grid(samples[:100], png)
    emit(
        classes_covered=int((shares >= COVERED_SHARE).sum()),
        max_class_share=round(float(shares.max()), 4),
        train_s=round(train_s, 1),
        steps=steps,
        classifier_accuracy=round(accuracy, 4),
        class_counts=counts.tolist(),
        mean_confidence=round(float(probs.max(-1).mean()), 4),
        real_mean_confidence=round(real_confidence, 4),
        confidence_gap=round(real_confidence - float(probs.max(-1).mean()), 4),
        samples=n_samples,
        epochs=epochs,
        batch_size=args.batch_size,
        config={k: getattr(config, k) for k in ("architecture", "latent_dim", "filters",
                                                "spectral_norm", "learning_rate", "beta_1",
                                                "label_smoothing")},
        quick=args.quick,
        png=str(png),
        load_avg=round(max(load_start, os.getloadavg()[0]), 2),
    )


if __name__ == "__main__":
    main()

"""Do the conditional models draw the digit they are asked for? MNIST, at most ten minutes each.

    python benchmarks/quality_conditional_mnist.py [--seconds 600] [--models cvae,cgan]
        [--out /tmp/genwidgets-conditional] [--quick]

Protocol (../shared/data/README.md): the first 8,000 MNIST t10k images and their labels
train, the last 2,000 are held out; pixels in [0, 1]. Each model (the ``cvae`` and ``cgan``
plugins through the registry, dense networks: the fast ones on this CPU) trains on
``fit((x, labels))`` for at most ``--seconds`` of wall time (whole epochs, the compile
counted). A small Keras CNN trained here on the same 8,000 labelled images (as in
quality_gan_mnist.py) judges 1,000 samples asked for given labels (100 of each digit).

Prints JSON lines; the last is the headline: cgan_label_accuracy and cvae_label_accuracy
(the share of samples the judge gives the asked label; goal >= 0.9 each) and
cvae_test_neg_elbo_nats (the conditional negative ELBO, -log p(x | y) bounded, in nats per
held-out image: analytic KL plus the Bernoulli cross-entropy averaged over
``--elbo-samples`` draws of z, a fixed NumPy seed; the ELBO itself, though the cvae trains
with a KL weight of 3, which costs nats here and keeps the class out of z). Writes a PNG
of each model's "same z, every label" sheet (a row per digit, a column per z: the style
held, the class changed), drawn through ``genwidgets.latent.every_label`` as the
SampleGrid draws it, to ``--out`` (never into the project). With ``transfer`` (a
default), also attribute_transfer (goal >= 0.6; see :func:`attribute_figures`).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the other benchmarks' parts

import genwidgets  # noqa: E402,F401  (sets the Keras backend before keras is imported)
from quality_gan_mnist import save_grid, train_classifier  # noqa: E402
from quality_vae_mnist import N_TRAIN, emit, load_mnist  # noqa: E402  (the same protocol)

PER_LABEL = 100
# Settings picked for a short budget on a CPU (dense nets; see the module's docstring). The
# cvae's KL weight is its plugin's default for images (3, no warm-up; at 1 z keeps the class
# and the decoder ignores the label: 0.35-0.46 label accuracy at 60 s).
SETTINGS = {
    "cvae": dict(architecture="dense", latent_dim=16, hidden=512, depth=2,
                 activation="swish", dropout=0.1, learning_rate=1e-3, beta=3.0,
                 kl_anneal_steps=0),
    "cgan": dict(architecture="dense", latent_dim=64, hidden=256, learning_rate=2e-4,
                 beta_1=0.5, label_smoothing=0.1),
}
BATCH = {"cvae": 100, "cgan": 64}
FINAL_LR = 1e-4  # the cvae's learning rate at the end of its budget (log-linear decay)
FINAL_BETA = None  # the cvae's KL weight at the end of its budget (None: held)


def train(name: str, x, y, info, seconds: float, max_epochs: int):
    """The plugin ``name`` trained on ``fit((x, y))`` for at most ``seconds`` (whole
    epochs, the compile counted). Returns the model, its config, train_s and epochs."""
    from genwidgets.registry import get_registry

    spec, batch = get_registry().model(name), BATCH[name]
    usable = len(x) // batch * batch  # whole batches: one compile
    x, y = x[:usable], y[:usable]
    config = spec.config(**SETTINGS[name])
    model = spec.build(config, info)
    start, epoch_s, epoch = time.perf_counter(), 0.0, 0
    while epoch < max_epochs:
        elapsed = time.perf_counter() - start
        if epoch and elapsed + epoch_s > seconds:
            break
        if name == "cvae":  # log-linear decay over the budget
            share = min(1.0, elapsed / seconds)
            model.set_hyper("learning_rate",
                            config.learning_rate * (FINAL_LR / config.learning_rate) ** share)
            if FINAL_BETA is not None:
                model.set_hyper("beta", config.beta * (FINAL_BETA / config.beta) ** share)
        t0 = time.perf_counter()
        logs = model.fit((x, y), batch_size=batch, epochs=1, verbose=0, shuffle=True).history
        epoch_s, epoch = time.perf_counter() - t0, epoch + 1
        if epoch in (1, 5) or epoch % 20 == 0:
            emit(model=name, epoch=epoch, elapsed_s=round(time.perf_counter() - start, 1),
                 **{k: round(v[-1], 3) for k, v in logs.items()})
    return model, config, time.perf_counter() - start, epoch


def train_judge(x, y, x_test, y_test, epochs: int):
    """quality_gan_mnist.py's small CNN, trained on the labelled training images."""
    return train_classifier(x, y, x_test, y_test, epochs)


def label_accuracy(model, judge, n_per_label: int, seed: int = 0) -> dict:
    """Samples asked for each label ``n_per_label`` times: the share the judge agrees."""
    asked = np.repeat(np.arange(model.num_classes, dtype="int32"), n_per_label)
    samples = model.sample(len(asked), seed=seed, labels=asked)
    said = judge.predict(samples, batch_size=500, verbose=0).argmax(-1)
    per_label = [float(np.mean(said[asked == k] == k)) for k in range(model.num_classes)]
    return {"accuracy": float(np.mean(said == asked)),
            "per_label": [round(a, 3) for a in per_label]}


def bernoulli_nats(x: np.ndarray, logits: np.ndarray) -> np.ndarray:
    """Summed binary cross-entropy per image, from logits (stable)."""
    x, logits = x.reshape(len(x), -1), logits.reshape(len(x), -1).astype("float64")
    ce = np.maximum(logits, 0) - logits * x + np.log1p(np.exp(-np.abs(logits)))
    return ce.sum(-1)


def cvae_neg_elbo(model, x, y, samples: int, seed: int = 0) -> dict:
    """Per-image negative ELBO of log p(x | y): analytic KL of q(z | x, y) + cross-entropy
    averaged over ``samples`` draws of z."""
    onehot = np.eye(model.num_classes, dtype="float32")[y]
    mean, log_var = (np.asarray(a, "float64") for a in model.posterior(x, labels=y))
    kl = 0.5 * np.sum(np.exp(log_var) + mean ** 2 - 1.0 - log_var, axis=-1)
    rng, reconstruction = np.random.default_rng(seed), np.zeros(len(x))
    for _ in range(samples):
        z = (mean + np.exp(0.5 * log_var) * rng.standard_normal(mean.shape)).astype("float32")
        logits = model.decoder.predict([z, onehot], batch_size=500, verbose=0)
        reconstruction += bernoulli_nats(x, logits) / samples
    return {"neg_elbo": float(np.mean(reconstruction + kl)),
            "reconstruction": float(np.mean(reconstruction)), "kl": float(np.mean(kl))}


def every_label_png(name: str, model, data, path: Path, columns: int = 10) -> None:
    """The "same z, every label" sheet of ``model``, drawn as the SampleGrid draws it."""
    from genwidgets.latent import LatentSource, every_label
    from genwidgets.registry import get_registry

    source = LatentSource(get_registry().model(name), model, data)
    sheet = every_label(source, columns, seed=0)  # (labels, columns, H, W, 1)
    save_grid(sheet.reshape(-1, *sheet.shape[2:]), path, rows=columns)


def attribute_figures(judge, x_train, y_train, x_test, y_test, seconds: float,
                      max_epochs: int) -> dict:
    """``attribute_transfer`` (goal >= 0.6): the unconditional VAE of quality_vae_mnist.py
    (its settings, ``seconds`` of training); for each ordered pair of classes (a, b), the
    held-out items of class a plus the mean latent of b minus that of a (over the training
    items), decoded; the share ``judge`` calls b (benchmarks/attribute_transfer.py)."""
    from attribute_transfer import attribute_transfer
    from quality_vae_mnist import baseline_vae, train_vae

    from genwidgets.spec import DataInfo

    info = DataInfo(name="mnist", modality="image", shape=x_train.shape[1:],
                    n_items=len(x_train))
    baseline = baseline_vae(x_train.shape[1:])  # train_vae would time one beside it
    model, _, train_s, times, _ = train_vae(x_train, info, seconds, max_epochs, baseline,
                                            10 ** 9, "auto")
    found = attribute_transfer(model, judge, x_train, y_train, x_test, y_test)
    pairs = sorted(found["by_pair"].items(), key=lambda kv: kv[1])
    return {"attribute_transfer": round(found["attribute_transfer"], 4),
            "attribute_transfer_min_pair": round(pairs[0][1], 4),
            "attribute_transfer_worst_pairs": {k: round(v, 3) for k, v in pairs[:5]},
            "attribute_vae_epochs": len(times), "attribute_vae_train_s": round(train_s, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600.0,
                        help="training budget of each model (wall time)")
    parser.add_argument("--models", default="cvae,cgan,transfer",
                        help="cvae, cgan and transfer (the unconditional VAE's attribute "
                             "vectors), comma-separated")
    parser.add_argument("--out", default="/tmp/genwidgets-conditional",
                        help="folder for the PNGs (outside the project)")
    parser.add_argument("--elbo-samples", type=int, default=16,
                        help="draws of z per held-out image for the cvae's ELBO")
    parser.add_argument("--quick", action="store_true", help="a tiny smoke run (seconds)")
    args = parser.parse_args()
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    if not models or set(models) - {*SETTINGS, "transfer"}:
        parser.error(f"--models: expected a comma-separated choice of "
                     f"{sorted({*SETTINGS, 'transfer'})}. "
                     f"Received: {args.models!r}")
    load_start = os.getloadavg()[0]
    data = load_mnist()
    x, y = data.x, np.asarray(data.y, "int32")
    x_train, y_train, x_test, y_test = x[:N_TRAIN], y[:N_TRAIN], x[N_TRAIN:], y[N_TRAIN:]
    seconds, max_epochs, judge_epochs, per_label = args.seconds, 100_000, 6, PER_LABEL
    if args.quick:
        x_train, y_train, x_test, y_test = x_train[:1000], y_train[:1000], x_test[:200], \
            y_test[:200]
        seconds, max_epochs, judge_epochs, per_label = min(seconds, 10.0), 2, 1, 10
    info = dataclasses.replace(data.info, n_items=len(x_train))  # with its label names
    emit(stage="data", train=len(x_train), test=len(x_test), labels=list(info.label_names),
         load_avg=round(load_start, 2))

    t0 = time.perf_counter()
    judge, judge_accuracy = train_judge(x_train, y_train, x_test, y_test, judge_epochs)
    emit(stage="classifier", accuracy=round(judge_accuracy, 4),
         train_s=round(time.perf_counter() - t0, 1))

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    headline: dict = {}
    for name in [m for m in models if m in SETTINGS]:
        model, config, train_s, epochs = train(name, x_train, y_train, info, seconds,
                                               max_epochs)
        scored = label_accuracy(model, judge, per_label)
        png = out / f"{name}_every_label.png"
        every_label_png(name, model, data, png)
        record = {f"{name}_label_accuracy": round(scored["accuracy"], 4),
                  f"{name}_per_label_accuracy": scored["per_label"],
                  f"{name}_train_s": round(train_s, 1), f"{name}_epochs": epochs,
                  f"{name}_steps": int(model.optimizer.iterations.numpy()),
                  f"{name}_png": str(png)}
        if name == "cvae":
            elbo = cvae_neg_elbo(model, x_test, y_test, 2 if args.quick else args.elbo_samples)
            record.update(cvae_test_neg_elbo_nats=round(elbo["neg_elbo"], 2),
                          cvae_test_reconstruction_nats=round(elbo["reconstruction"], 2),
                          cvae_test_kl_nats=round(elbo["kl"], 2))
        emit(stage=name, config={k: getattr(config, k) for k in SETTINGS[name]}, **record)
        headline.update(record)
    if "transfer" in models:
        headline.update(attribute_figures(judge, x_train, y_train, x_test, y_test, seconds,
                                          max_epochs))
        emit(stage="transfer", **{k: v for k, v in headline.items() if "attribute" in k})
    emit(**headline, classifier_accuracy=round(judge_accuracy, 4), samples_per_label=per_label,
         seconds=seconds, quick=args.quick,
         load_avg=round(max(load_start, os.getloadavg()[0]), 2))


if __name__ == "__main__":
    main()

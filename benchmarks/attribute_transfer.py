"""Attribute vectors on MNIST: does "a 3, plus the mean 8 minus the mean 3" read as an 8?

    python benchmarks/attribute_transfer.py [--seconds 600] [--quick]

Protocol (../shared/data/README.md): the first 8,000 MNIST t10k images train, the last
2,000 are held out. The unconditional VAE of ``quality_vae_mnist.py`` (its settings, its
budget of ``--seconds``) is trained; each class's mean latent is taken over the training
images' encodings; for each ordered pair of classes (a, b), every held-out image of class a
is moved by the mean of b minus the mean of a (``genwidgets.latent.attributes.direction``,
alpha 1) and decoded, and the small classifier of ``quality_gan_mnist.py`` (trained on the
8,000 labelled training images) judges it. ``attribute_transfer`` is the share it calls b,
over all 90 pairs (goal >= 0.6); ``attribute_transfer_by_pair`` lists the worst pairs.

Prints JSON lines; the last is the headline: attribute_transfer, attribute_transfer_min_pair,
judge_accuracy, vae_epochs, vae_train_s. Writes a PNG of a few transfers (a row per pair:
the items, then the same moved) to ``--out``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import genwidgets  # noqa: E402,F401  (sets the Keras backend before keras is imported)
from quality_gan_mnist import train_classifier  # noqa: E402
from quality_vae_mnist import N_TRAIN, baseline_vae, emit, load_mnist, save_figure, train_vae  # noqa: E402,E501


def attribute_transfer(model, judge, x_train, y_train, x_test, y_test) -> dict:
    """The share of moved held-out items the judge calls the target class, over every
    ordered pair of classes; and per pair."""
    from genwidgets.latent.attributes import direction

    z_train = np.asarray(model.encode(x_train))
    z_test = np.asarray(model.encode(x_test))
    classes = sorted(int(c) for c in np.unique(y_train))
    by_pair, hits, total = {}, 0, 0
    for a in classes:
        items = z_test[y_test == a]
        for b in classes:
            if a == b or not len(items):
                continue
            shift = direction(z_train[y_train == a], z_train[y_train == b]).vector
            called = np.argmax(judge.predict(np.asarray(model.decode(items + shift)),
                                             batch_size=500, verbose=0), -1)
            by_pair[f"{a}->{b}"] = float(np.mean(called == b))
            hits, total = hits + int(np.sum(called == b)), total + len(called)
    return {"attribute_transfer": hits / max(total, 1), "by_pair": by_pair}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600.0, help="VAE training budget")
    parser.add_argument("--quick", action="store_true", help="a tiny smoke run (seconds)")
    parser.add_argument("--out", default="artifacts", help="folder for the PNG")
    parser.add_argument("--judge-epochs", type=int, default=8)
    args = parser.parse_args()
    from genwidgets.spec import DataInfo

    load_start = os.getloadavg()[0]
    data = load_mnist()
    x, y = np.asarray(data.x, "float32"), np.asarray(data.y, "int64")
    x_train, y_train, x_test, y_test = x[:N_TRAIN], y[:N_TRAIN], x[N_TRAIN:], y[N_TRAIN:]
    seconds, judge_epochs = args.seconds, args.judge_epochs
    if args.quick:
        x_train, y_train, x_test, y_test = x_train[:1500], y_train[:1500], x_test[:300], \
            y_test[:300]
        seconds, judge_epochs = min(seconds, 15.0), 2
    judge, accuracy = train_classifier(x_train, y_train, x_test, y_test, judge_epochs)
    emit(stage="judge", accuracy=round(accuracy, 4))
    info = DataInfo(name="mnist", modality="image", shape=x_train.shape[1:],
                    n_items=len(x_train))
    baseline = baseline_vae(x_train.shape[1:])  # train_vae times one beside it now and then
    model, _, train_s, times, _ = train_vae(x_train, info, seconds, 100_000, baseline,
                                            10 ** 9, "auto")
    emit(stage="vae", epochs=len(times), train_s=round(train_s, 1))
    result = attribute_transfer(model, judge, x_train, y_train, x_test, y_test)
    pairs = sorted(result["by_pair"].items(), key=lambda kv: kv[1])

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    png = out / "attribute_transfer_mnist.png"
    from genwidgets.latent.attributes import direction

    z_train, rows = np.asarray(model.encode(x_train)), []
    for a, b in [(3, 8), (1, 7), (4, 9), (0, 6), (7, 1)]:
        shown = x_test[y_test == a][:10]
        shift = direction(z_train[y_train == a], z_train[y_train == b]).vector
        rows += [shown, np.asarray(model.decode(np.asarray(model.encode(shown)) + shift))]
    save_figure(rows, png)
    emit(attribute_transfer=round(result["attribute_transfer"], 4),
         attribute_transfer_min_pair=round(pairs[0][1], 4),
         attribute_transfer_worst_pairs=dict((k, round(v, 3)) for k, v in pairs[:8]),
         judge_accuracy=round(accuracy, 4), vae_epochs=len(times),
         vae_train_s=round(train_s, 1), alpha=1.0, pairs=len(pairs), held_out=len(x_test),
         png=str(png), quick=args.quick,
         load_avg=round(max(load_start, os.getloadavg()[0]), 2))


if __name__ == "__main__":
    main()

"""Seconds per epoch of each built-in image model's conv nets against its dense nets.

    python benchmarks/conv_vs_dense.py [--repeats 2] [--models ae vae gan]

What ``architecture="auto"`` rests on: the AE, the VAE and the GAN, built through the
registry with their default settings and ``architecture="conv"`` or ``"dense"``, each
train one epoch of the MNIST protocol (../shared/data/README.md: the first 8,000 t10k
images, [0, 1]; scikit-learn's digits scaled to 28x28 when it is absent, ``data`` says
which) at batch 100, float32, on this machine's default device. Each build first runs an
epoch that compiles; then the builds of a model alternate ``--repeats`` timed epochs (the
same load from the machine's other users) and each figure is the median.

Prints JSON lines, one per timed epoch, the last the headline: per model
``<model>_conv_s_per_epoch``, ``<model>_dense_s_per_epoch`` and ``<model>_conv_over_dense``
(below 1: the conv nets are faster), device, data, load_avg.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import genwidgets  # noqa: F401  (sets the Keras backend before keras is imported)
from conv_speed import BATCH, emit, load_images

MODELS = ("ae", "vae", "gan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2, help="timed epochs of each")
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error(f"expected --repeats >= 1. Received: {args.repeats}")
    import jax

    from genwidgets.registry import get_registry
    from genwidgets.spec import DataInfo

    load_start = os.getloadavg()[0]
    x, data_name = load_images()
    info = DataInfo(name="mnist", modality="image", shape=x.shape[1:], n_items=len(x))
    headline = {}
    for name in args.models:
        spec = get_registry().model(name)
        models = {arch: spec.build(spec.config(architecture=arch), info)
                  for arch in ("conv", "dense")}
        times = {arch: [] for arch in models}
        for arch, model in models.items():  # compiles
            t0 = time.perf_counter()
            model.fit(x, batch_size=BATCH, epochs=1, verbose=0, shuffle=True)
            emit(model=name, architecture=arch, stage="first epoch (compiles)",
                 s=round(time.perf_counter() - t0, 2))
        for repeat in range(args.repeats):
            for arch, model in models.items():
                t0 = time.perf_counter()
                model.fit(x, batch_size=BATCH, epochs=1, verbose=0, shuffle=True)
                times[arch].append(time.perf_counter() - t0)
                emit(model=name, architecture=arch, repeat=repeat,
                     s_per_epoch=round(times[arch][-1], 3))
        conv, dense = (statistics.median(times[a]) for a in ("conv", "dense"))
        headline.update({f"{name}_conv_s_per_epoch": round(conv, 3),
                         f"{name}_dense_s_per_epoch": round(dense, 3),
                         f"{name}_conv_over_dense": round(conv / dense, 2)})
    emit(**headline, device=jax.default_backend(), data=data_name, images=len(x),
         batch_size=BATCH, repeats=args.repeats,
         load_avg=round(max(load_start, os.getloadavg()[0]), 2))


if __name__ == "__main__":
    main()

"""Data-parallel training against one device: the same losses, and what a step costs.

    python benchmarks/multidevice.py [--devices 2] [--epochs 5] [--repeat 3] [--batch-size 256]

Trains the AE (its default config) on the first 8,000 MNIST t10k images
(../shared/data/mnist) with ``distribution="none"`` and ``"data-parallel"``, from the same
seed, in a fresh Python where the CPU platform is split into ``--devices`` devices
(``XLA_FLAGS=--xla_force_host_platform_device_count``; on a machine with accelerators JAX
uses those instead, and the JSON names them). Each run trains one warm-up epoch (the
compile), then ``--epochs`` timed epochs; runs alternate between the two settings.

Prints JSON lines; the last is the headline with keys devices, platform,
max_abs_loss_diff (per-batch losses, data-parallel vs one device, same seeds),
max_rel_loss_diff, step_ms_one, step_ms_parallel, step_time_ratio (parallel / one) and
note.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "mnist"
N_TRAIN = 8000
NOTE_CPU = (
    "The devices are one CPU split in two by XLA: the same 2 cores, which one device's "
    "step can already use (XLA's CPU thread pool). Splitting the batch adds an all-reduce "
    "of the gradients and a second program per step and no compute, so it cannot be "
    "faster here. Data parallelism pays off with one accelerator per device; no GPU was "
    "available for this figure.")


def emit(**record) -> None:
    print(json.dumps(record), flush=True)


def child(args) -> None:
    import genwidgets  # noqa: F401  (sets the Keras backend before keras is imported)
    import jax
    import keras
    import numpy as np

    from genwidgets.data.images import load_mnist
    from genwidgets.training import Run

    if not DATA.exists():
        sys.exit(f"multidevice: MNIST not found. Expected the t10k IDX files in {DATA} "
                 f"(../shared/data/mnist from the project root).")
    data = load_mnist(path=DATA, split="test", limit=N_TRAIN)
    losses, step_s = {}, {"none": [], "data-parallel": []}
    for repeat in range(args.repeat):
        for distribution in ("none", "data-parallel"):
            keras.utils.set_random_seed(0)  # the same weights and the same batch order
            run = Run("ae", data, epochs=1, batch_size=args.batch_size,
                      distribution=distribution)
            run.start(epochs=1)  # the compile and one epoch
            run.wait()
            start, steps = time.perf_counter(), run.steps
            run.start(epochs=args.epochs)
            run.wait()
            if run.state != "finished":
                sys.exit(f"multidevice: the {distribution} run {run.message}\n{run.traceback}")
            per_step = (time.perf_counter() - start) / (run.steps - steps)
            step_s[distribution].append(per_step)
            losses.setdefault(distribution, [row["loss"] for row in run.history])
            emit(repeat=repeat, distribution=distribution, devices=run.devices,
                 step_ms=round(1000 * per_step, 3), steps=run.steps,
                 final_loss=round(run.history[-1]["loss"], 4))
    one, two = np.array(losses["none"]), np.array(losses["data-parallel"])
    gap = np.abs(one - two)
    emit(child=True, devices=run.devices, platform=jax.devices()[0].platform,
         max_abs_loss_diff=float(gap.max()), max_rel_loss_diff=float((gap / np.abs(one)).max()),
         step_ms_one=1000 * statistics.median(step_s["none"]),
         step_ms_parallel=1000 * statistics.median(step_s["data-parallel"]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--devices", type=int, default=2, help="CPU devices to split into")
    parser.add_argument("--epochs", type=int, default=5, help="timed epochs per run")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)
    flags = f"{os.environ.get('XLA_FLAGS', '')} " \
            f"--xla_force_host_platform_device_count={args.devices}".strip()
    proc = subprocess.run([sys.executable, __file__, "--child", *sys.argv[1:]],
                          env={**os.environ, "XLA_FLAGS": flags}, stdout=subprocess.PIPE,
                          text=True)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        sys.exit(proc.returncode or 1)
    for line in lines[:-1]:
        print(line)
    result = json.loads(lines[-1])
    ratio = result["step_ms_parallel"] / result["step_ms_one"]
    emit(devices=result["devices"], platform=result["platform"],
         max_abs_loss_diff=result["max_abs_loss_diff"],
         max_rel_loss_diff=result["max_rel_loss_diff"],
         step_ms_one=round(result["step_ms_one"], 3),
         step_ms_parallel=round(result["step_ms_parallel"], 3),
         step_time_ratio=round(ratio, 3), batch_size=args.batch_size,
         load_avg=round(os.getloadavg()[0], 2),
         note=NOTE_CPU if result["platform"] == "cpu" else
         f"{len(result['devices'])} {result['platform']} devices")


if __name__ == "__main__":
    main()

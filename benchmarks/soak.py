"""A long run with the panel attached: memory, plot size and message rate stay bounded.

    python benchmarks/soak.py [--steps 20000] [--batch 16]

Trains the AE on the digits for ``--steps`` steps inside a real IPython kernel with a
``TrainPanel`` displayed (its comms open; every message it sends is counted here). The
kernel's resident memory is read after a warm-up epoch and at the end. Prints JSON lines,
the last the headline: rss_growth_mb (goal <= 100), max_points_per_trace (bounded by the
plot's decimation), ui_messages_per_s (goal <= 10), history_rows and steps (equal).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from kernel_session import KernelSession, comm_messages, top_keys

SETUP = """
import gc, json, pathlib, tempfile, time, psutil
import genwidgets
from IPython.display import display
from genwidgets.training import Run
from genwidgets.training.folder import read_jsonl
from genwidgets.widgets import TrainPanel
out = pathlib.Path(tempfile.mkdtemp()) / "soak"
run = Run("ae", "digits", {{"latent_dim": 2, "hidden": 64}}, epochs=1, batch_size={batch},
          out=out)
panel = TrainPanel(run)
display(panel)
run.start(epochs=1); run.wait(); time.sleep(1.5); gc.collect()
me = psutil.Process()
print(json.dumps({{"warm_steps": run.steps, "rss_warm_mb": me.memory_info().rss / 2**20,
                  "steps_per_epoch": run.steps_per_epoch}}))
"""

SOAK = """
t0 = time.perf_counter()
run.start(epochs={epochs}); run.wait()
elapsed = time.perf_counter() - t0
time.sleep(1.5); gc.collect()
print(json.dumps({{"train_s": elapsed, "steps": run.steps, "state": run.state,
                  "rss_end_mb": me.memory_info().rss / 2**20,
                  "max_points_per_trace": max(panel.loss_plot.point_counts.values()),
                  "history_rows": len(read_jsonl(out / "batches.jsonl")),
                  "memory_rows": len(run.history)}}))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=16)
    args = parser.parse_args()
    kernel = KernelSession()
    try:
        warm, _ = kernel.execute(SETUP.format(batch=args.batch))
        warm = warm[-1]
        epochs = -(-args.steps // warm["steps_per_epoch"])
        print(json.dumps(warm), flush=True)
        done, seen = kernel.execute(SOAK.format(epochs=epochs), timeout=3600)
        done = done[-1]
        comm = comm_messages(seen)
        print(json.dumps({"by_state_keys": top_keys(comm)}), flush=True)
        print(json.dumps({
            "rss_growth_mb": round(done["rss_end_mb"] - warm["rss_warm_mb"], 1),
            "max_points_per_trace": done["max_points_per_trace"],
            "ui_messages_per_s": round(len(comm) / done["train_s"], 2),
            "history_rows": done["history_rows"], "steps": done["steps"],
            "soak_steps": done["steps"] - warm["warm_steps"], "train_s": round(done["train_s"], 1),
            "rss_warm_mb": round(warm["rss_warm_mb"], 1), "state": done["state"],
            "load_avg": round(os.getloadavg()[0], 2),
        }))
    finally:
        kernel.close()


if __name__ == "__main__":
    sys.exit(main())

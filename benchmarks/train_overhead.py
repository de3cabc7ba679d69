"""What watching costs: plain ``model.fit`` against a ``Run`` with a ``TrainPanel`` shown.

    python benchmarks/train_overhead.py [--repeats 3] [--epochs 200] [--batch 16]

Both run inside a real IPython kernel (jupyter_client), so the panel's widgets have open
comms and every message they send reaches this process on IOPub, where it is counted.
A/B alternate in one kernel on the same data, batch size and architecture; each side has
its own model, warmed up (compiled) before timing. Prints JSON lines; the last is the
headline: overhead_ratio, ui_messages_per_s, history_rows, steps.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys

from kernel_session import KernelSession, comm_messages, top_keys

SETUP = """
import json, time, tempfile, pathlib
import genwidgets
from IPython.display import display
from genwidgets.registry import load_dataset
from genwidgets.registry import get_registry
from genwidgets.training import Run
from genwidgets.widgets.train_panel import TrainPanel
from genwidgets.training.folder import read_jsonl
spec = get_registry().model("ae")
data = load_dataset("digits")
config = spec.config(latent_dim=2, hidden=64)
BATCH = {batch}
x = data.x[: len(data.x) - len(data.x) % BATCH]
plain = spec.build(config, data.info)
plain.fit(x, batch_size=BATCH, epochs=1, shuffle=True, verbose=0)
out = pathlib.Path(tempfile.mkdtemp()) / "run"
run = Run(spec, data, config, epochs={epochs}, batch_size=BATCH, out=out)
panel = TrainPanel(run)
display(panel)
run.start(epochs=1); run.wait()
print(json.dumps({{"warm": run.steps}}))
"""

PLAIN = """
t0 = time.perf_counter()
plain.fit(x, batch_size=BATCH, epochs={epochs}, shuffle=True, verbose=0)
print(json.dumps({{"plain_s": time.perf_counter() - t0}}))
"""

WATCHED = """
t0 = time.perf_counter()
run.start(); run.wait()
print(json.dumps({"run_s": time.perf_counter() - t0, "steps": run.steps,
                  "state": run.state}))
"""

FINAL = """
time.sleep(1.0)
print(json.dumps({"history_rows": len(read_jsonl(out / "batches.jsonl")), "steps": run.steps,
                  "rate": run.rate()}))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--batch", type=int, default=16, help="small: a high step rate")
    args = parser.parse_args()
    kernel = KernelSession()
    execute = kernel.execute
    try:
        warm, _ = execute(SETUP.format(batch=args.batch, epochs=args.epochs))
        steps_before = warm[-1]["warm"]
        plain_s, run_s, msg_rates = [], [], []
        for i in range(args.repeats):  # A/B alternate: noise hits both alike
            out, _ = execute(PLAIN.format(epochs=args.epochs))
            plain_s.append(out[-1]["plain_s"])
            out, seen = execute(WATCHED)
            steps = out[-1]["steps"] - steps_before
            steps_before = out[-1]["steps"]
            run_s.append(out[-1]["run_s"])
            comm = comm_messages(seen)
            msg_rates.append(len(comm) / out[-1]["run_s"])
            print(json.dumps({"repeat": i, "plain_s": round(plain_s[-1], 3),
                              "run_s": round(run_s[-1], 3),
                              "steps": steps, "steps_per_s": round(steps / run_s[-1], 1),
                              "comm_messages": len(comm),
                              "ui_messages_per_s": round(msg_rates[-1], 2),
                              "by_state_keys": top_keys(comm)}),
                  flush=True)
        final, _ = execute(FINAL)
        final = final[-1]
        print(json.dumps({
            "overhead_ratio": round(statistics.median(run_s) / statistics.median(plain_s), 3),
            "ui_messages_per_s": round(max(msg_rates), 2),
            "history_rows": final["history_rows"], "steps": final["steps"],
            "plain_s": round(statistics.median(plain_s), 3),
            "run_s": round(statistics.median(run_s), 3),
            "batch_size": args.batch, "epochs": args.epochs,
        }))
    finally:
        kernel.close()


if __name__ == "__main__":
    sys.exit(main())

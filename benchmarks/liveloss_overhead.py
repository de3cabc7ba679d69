"""What ``LiveLoss`` costs: a plain Keras ``model.fit`` against the same fit with
``callbacks=[LiveLoss()]`` (and with ``LiveLoss(out=...)``, which also writes a run folder).

    python benchmarks/liveloss_overhead.py [--repeats 5] [--epochs 10] [--batch 32]

A dense classifier on the MNIST test images (../shared/data/mnist: the first 8,000 train,
the last 2,000 validate), as a user would fit it. Everything runs inside one real IPython
kernel (jupyter_client), so LiveLoss's widgets have open comms and every message they send
reaches this process on IOPub, where it is counted. The three fits alternate in the same
kernel on the same data and batch size; each has its own model of the same architecture,
warmed up (compiled) before timing, and one LiveLoss that every repeat goes on with.
Prints JSON lines; the last is the headline: overhead_ratio (LiveLoss / plain, medians),
overhead_ratio_out, ui_messages_per_s (the most in any repeat), steps.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

from kernel_session import KernelSession, comm_messages, top_keys

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "mnist"

SETUP = """
import json, time, tempfile, pathlib
import genwidgets
import keras, numpy as np
from genwidgets.callbacks import LiveLoss
from genwidgets.data.images import load_mnist
data = load_mnist(path={data!r}, split="test")
x = np.asarray(data.x, "float32").reshape(len(data.x), -1)
y = np.asarray(data.y, "int32")
x, y, x_val, y_val = x[:8000], y[:8000], x[8000:], y[8000:]
BATCH = {batch}

def classifier():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(128, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")], name="mnist_mlp")
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model

models = {{"plain": classifier(), "live": classifier(), "live_out": classifier()}}
callbacks = {{"plain": [], "live": [LiveLoss()],
             "live_out": [LiveLoss(out=pathlib.Path(tempfile.mkdtemp()) / "run")]}}
for name, model in models.items():  # compile each (and show each view) before timing
    model.fit(x, y, batch_size=BATCH, epochs=1, validation_data=(x_val, y_val), verbose=0,
              callbacks=callbacks[name])
print(json.dumps({{"warm": True}}))
"""

FIT = """
t0 = time.perf_counter()
models[{name!r}].fit(x, y, batch_size=BATCH, epochs={epochs}, validation_data=(x_val, y_val),
                     verbose=0, callbacks=callbacks[{name!r}])
print(json.dumps({{"seconds": time.perf_counter() - t0}}))
"""

FINAL = """
live = callbacks["live_out"][0]
from genwidgets.training.folder import read_jsonl
print(json.dumps({"steps": callbacks["live"][0].steps, "state": callbacks["live"][0].state,
                  "history_rows": len(read_jsonl(live.folder.path / "batches.jsonl")),
                  "rows": len(live.history)}))
"""


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch", type=int, default=32, help="small: a high step rate")
    args = parser.parse_args()
    if not (DATA / "t10k-images-idx3-ubyte.gz").exists():
        sys.exit(f"liveloss_overhead: MNIST not found. Expected "
                 f"{DATA / 't10k-images-idx3-ubyte.gz'} (../shared/data/mnist from the "
                 f"project root).")
    kernel = KernelSession()
    try:
        kernel.execute(SETUP.format(data=str(DATA.resolve()), batch=args.batch))
        seconds: dict[str, list[float]] = {"plain": [], "live": [], "live_out": []}
        rates: list[float] = []
        for i in range(args.repeats):  # alternate: noise on a shared machine hits all alike
            record = {"repeat": i}
            for name in seconds:
                out, seen = kernel.execute(FIT.format(name=name, epochs=args.epochs))
                seconds[name].append(out[-1]["seconds"])
                comm = comm_messages(seen)
                record[f"{name}_s"] = round(seconds[name][-1], 3)
                if name != "plain":
                    rates.append(len(comm) / seconds[name][-1])
                    record[f"{name}_ui_messages_per_s"] = round(rates[-1], 2)
                    record[f"{name}_by_state_keys"] = top_keys(comm)
                else:
                    record["plain_comm_messages"] = len(comm)
            print(json.dumps(record), flush=True)
        final, _ = kernel.execute(FINAL)
        final = final[-1]
        median = {name: statistics.median(values) for name, values in seconds.items()}
        steps_per_fit = args.epochs * -(-8000 // args.batch)
        print(json.dumps({
            "overhead_ratio": round(median["live"] / median["plain"], 3),
            "overhead_ratio_out": round(median["live_out"] / median["plain"], 3),
            "ui_messages_per_s": round(max(rates), 2),
            "steps": final["steps"], "state": final["state"],
            "history_rows": final["history_rows"], "rows": final["rows"],
            "steps_per_s_plain": round(steps_per_fit / median["plain"], 1),
            **{f"{name}_s": round(value, 3) for name, value in median.items()},
            "batch_size": args.batch, "epochs": args.epochs, "repeats": args.repeats,
        }))
    finally:
        kernel.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

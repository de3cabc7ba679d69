"""How fast `genwidgets plugins --json` answers, and that listing never imports Keras.

    python benchmarks/startup.py [--repeat 5]

Prints JSON lines; the last is the headline with keys plugins_list_s, python_baseline_s,
keras_imported (and their ratio).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

LIST = [sys.executable, "-m", "genwidgets.cli", "plugins", "--json"]
BASELINE = [sys.executable, "-c", "pass"]
PROBE = ("import sys, json; from genwidgets.cli import main; import io, contextlib; "
         "buf = io.StringIO();\nwith contextlib.redirect_stdout(buf): main(['plugins', '--json'])\n"
         "print(json.dumps({'keras': 'keras' in sys.modules, 'jax': 'jax' in sys.modules, "
         "'n': len(json.loads(buf.getvalue()))}))")


def wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    wall(LIST)  # warm the file cache once
    lists, bases = [], []
    for i in range(args.repeat):  # interleaved A/B: noise hits both alike
        lists.append(wall(LIST))
        bases.append(wall(BASELINE))
        print(json.dumps({"repeat": i, "plugins_list_s": round(lists[-1], 4),
                          "python_baseline_s": round(bases[-1], 4)}))
    probe = json.loads(subprocess.run([sys.executable, "-c", PROBE], check=True,
                                      capture_output=True, text=True).stdout)
    p, b = statistics.median(lists), statistics.median(bases)
    print(json.dumps({
        "plugins_list_s": round(p, 4), "python_baseline_s": round(b, 4),
        "ratio": round(p / b, 2), "keras_imported": probe["keras"] or probe["jax"],
        "rows": probe["n"],
    }))


if __name__ == "__main__":
    main()

"""The soak benchmark as a test: 20,000 steps with a TrainPanel shown in a real kernel."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_a_long_run_keeps_memory_plot_and_history_bounded():
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "soak.py")],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    headline = json.loads(done.stdout.strip().splitlines()[-1])
    assert headline["state"] == "finished" and headline["steps"] >= 20_000, headline
    assert headline["history_rows"] == headline["steps"], headline  # one row per step
    assert headline["rss_growth_mb"] <= 100, headline
    assert 0 < headline["max_points_per_trace"] <= 2000, headline  # LossPlot's max_points

"""The command line, run as a user runs it, and the headless trainer behind it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from genwidgets.doctor import known_problems
from tests.helpers import genwidgets


def test_plugins_table_and_json():
    table = genwidgets("plugins")
    assert table.returncode == 0, table.stderr
    header = table.stdout.splitlines()[0].split()
    assert header == ["name", "kind", "family", "modalities", "distribution", "version",
                      "status", "error"]
    assert any(line.split()[:2] == ["ae", "model"] for line in table.stdout.splitlines())
    rows = json.loads(genwidgets("plugins", "--json").stdout)
    for row in rows:
        assert {"name", "family", "modalities", "distribution", "version", "status",
                "error"} <= set(row)
        assert row["status"] in ("ok", "failed", "blocked")
    ae = next(r for r in rows if r["name"] == "ae")
    assert ae["status"] == "ok" and ae["distribution"] == "genwidgets" and ae["error"] is None


def test_train_writes_model_config_and_history(tmp_path):
    out = tmp_path / "run"
    proc = genwidgets("train", "--model", "ae", "--data", "digits", "--epochs", "3",
                      "--out", str(out), "--set", "latent_dim=3", "--data-opt", "limit=512")
    assert proc.returncode == 0, proc.stderr
    assert "epoch 3/3" in proc.stderr and "step/s" in proc.stderr  # the tqdm bar
    assert {p.name for p in out.iterdir()} >= {"model.keras", "config.json", "history.jsonl"}
    config = json.loads((out / "config.json").read_text())
    assert config["model"] == "ae" and config["data"] == "digits"
    assert config["config"]["latent_dim"] == 3
    history = [json.loads(line) for line in (out / "history.jsonl").read_text().splitlines()]
    assert [row["epoch"] for row in history] == [1, 2, 3]
    assert all("loss" in row for row in history)
    assert history[-1]["loss"] < history[0]["loss"]


@pytest.mark.parametrize("args, message", [
    (["--model", "nope"], "Unknown model 'nope'"),
    (["--data", "digitz"], "Did you mean 'digits'"),
    (["--set", "latent_dim=two"], "latent_dim must be an integer"),
    (["--set", "latent_dim"], "Expected key=value"),
    (["--set", "colour=red"], "unknown setting(s) ['colour']"),
    (["--set", "architecture=deep"], "architecture must be one of ['auto', 'conv', 'dense']"),
    (["--epochs", "0"], "Expected epochs >= 1"),
])
def test_train_bad_input_is_a_clear_error(tmp_path, args, message):
    proc = genwidgets("train", "--out", str(tmp_path / "r"), *args)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_ae_loss_falls_on_digits(tmp_path):
    from genwidgets.registry import load_dataset
    from genwidgets.registry import get_registry
    from genwidgets.training import train

    spec = get_registry().model("ae")
    run = train(spec, load_dataset("digits"), spec.config(latent_dim=2), epochs=6,
                batch_size=64)
    losses = [row["loss"] for row in run.epoch_history]
    assert run.state == "finished" and len(losses) == 6
    assert losses[-1] < 0.8 * losses[0], losses
    z = run.model.encode(load_dataset("digits", limit=10).x)
    assert z.shape == (10, 2)


def test_doctor_reports_versions_and_no_problem_here():
    proc = genwidgets("doctor", "--json")
    report = json.loads(proc.stdout)
    assert proc.returncode == 0, report["problems"]
    assert report["versions"]["keras"].startswith("3.")
    assert report["devices"] and report["devices"][0].startswith("cpu")


def test_doctor_knows_bad_combinations():
    good = {"ipywidgets": "8.1.9", "jupyterlab_widgets": "3.0.17", "plotly": "7.1.0",
            "anywidget": "0.11.0", "keras": "3.15.1"}
    assert known_problems(good, environ={}) == []
    mismatch = known_problems({**good, "jupyterlab_widgets": "1.1.0"}, environ={})
    assert any("needs jupyterlab_widgets 3.x" in p for p in mismatch)
    assert any("needs anywidget" in p for p in known_problems({**good, "anywidget": None}, {}))
    assert any("KERAS_BACKEND='torch'" in p
               for p in known_problems(good, environ={"KERAS_BACKEND": "torch"}))


def test_importing_genwidgets_sets_the_jax_backend():
    code = "import genwidgets, keras; print(keras.backend.backend())"
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.stdout.strip() == "jax", out.stderr


def test_keras_already_on_another_backend_is_a_clear_error():
    code = ("import keras\nimport genwidgets\nfrom genwidgets.registry import get_registry\n"
            "from genwidgets.registry import load_dataset\nfrom genwidgets.training import train\n"
            "spec = get_registry().model('ae')\n"
            "train(spec, load_dataset('digits', limit=64), epochs=1)")
    env = {**os.environ, "KERAS_BACKEND": "numpy"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode != 0
    assert "genwidgets needs Keras on the JAX backend, but Keras was already imported" \
        in out.stderr
    assert "BackendError" in out.stderr

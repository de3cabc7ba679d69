"""Validation as a user asks for it: ``Run(..., validation=0.2)`` or ``genwidgets train
--validation 0.2`` holds out a seeded share of the data, every built-in model gives ``val_*``
for each of its loss parts at each epoch end (history.jsonl), a resume keeps the very same
split (another share is refused, the folder left byte-identical), bad shares are refused at
the door (rc 2, one line on the command line), ``RunsTable`` lists and draws the held-out
losses (the loss plot draws them in a real browser: tests/browser/test_lab_train_panel.py)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from genwidgets.cli import main
from genwidgets.training import Run
from genwidgets.training.folder import RunFolderError
from tests.helpers import digits


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def rows(folder: Path, name: str = "history.jsonl") -> list[dict]:
    return [json.loads(line) for line in (folder / name).read_text().splitlines() if line]


def trained(folder: Path, epochs: int = 1, **kwargs) -> Run:
    run = Run("ae", digits(200), {"latent_dim": 2}, epochs=epochs, batch_size=32, seed=5,
              out=folder, validation=0.2, **kwargs)
    run.start()
    assert run.wait(240) and run.state == "finished", run.message
    return run


@pytest.mark.parametrize("model, data", [
    ("ae", "digits"), ("vae", "digits"), ("gan", "digits"), ("transformer", "python_docs")])
def test_each_builtin_model_reports_held_out_losses_for_each_part(model, data, tmp_path):
    run = Run(model, data, epochs=1, batch_size=32, seed=3, validation=0.2,
              data_options={"limit": 200}, out=tmp_path / "run")
    assert run.steps_per_epoch == 5  # 160 of the 200 items train, in batches of 32
    assert len(run.x_val) == 32  # 40 held out: one whole batch (fixed shapes)
    run.start()
    assert run.wait(300) and run.state == "finished", run.message
    parts = {k for k in run.history[-1] if k not in ("step", "epoch", "t")}
    (epoch,) = rows(tmp_path / "run")
    assert {k for k in epoch if k.startswith("val_")} == {f"val_{p}" for p in parts}
    assert all(math.isfinite(epoch[f"val_{p}"]) for p in parts)
    assert not any(k.startswith("val_") for k in rows(tmp_path / "run", "batches.jsonl")[0])
    split = json.loads((tmp_path / "run" / "config.json").read_text())["validation"]
    assert split["share"] == 0.2 and split["seed"] == 3 and split["items"] == 40


def test_the_held_out_items_are_never_trained_on(tmp_path):
    run = Run("ae", digits(200), epochs=1, batch_size=32, seed=5, validation=0.2)
    train = {a.tobytes() for a in run.x}
    assert not any(a.tobytes() in train for a in run.x_val)
    other = Run("ae", digits(200), epochs=1, batch_size=32, seed=6, validation=0.2)
    assert not np.array_equal(other.x_val, run.x_val)  # the seed draws the split


def test_a_resume_keeps_the_split_and_refuses_another(tmp_path):
    folder = tmp_path / "run"
    first = trained(folder)
    split = first.validation
    resumed = Run.from_folder(folder, dataset=digits(200), epochs=2)
    assert resumed.validation == split
    np.testing.assert_array_equal(resumed.x_val, first.x_val)
    np.testing.assert_array_equal(resumed.x, first.x)
    resumed.start()
    assert resumed.wait(240) and resumed.state == "finished", resumed.message
    assert [("val_loss" in r, r["epoch"]) for r in rows(folder)] == [(True, 1), (True, 2)]
    before = snapshot(folder)
    with pytest.raises(RunFolderError, match=r"validation=0\.3 cannot change on a resume: "
                       r"the run holds out 0\.2"):
        Run.from_folder(folder, dataset=digits(200), epochs=3, validation=0.3)
    again = Run.from_folder(folder, dataset=digits(200), epochs=2, validation=0.2)
    assert again.validation == split and again.already_finished
    assert snapshot(folder) == before


def test_a_resume_of_a_run_without_validation_refuses_one(tmp_path):
    folder = tmp_path / "run"
    run = Run("ae", digits(200), epochs=1, batch_size=32, out=folder)
    run.start()
    assert run.wait(240)
    before = snapshot(folder)
    with pytest.raises(RunFolderError, match="has no validation split"):
        Run.from_folder(folder, dataset=digits(200), epochs=2, validation=0.1)
    assert snapshot(folder) == before


@pytest.mark.parametrize("value", [0, 1, -0.1, 1.5, float("nan"), float("inf"), True, "0.1"])
def test_a_bad_share_is_refused_naming_it(value):
    with pytest.raises(ValueError, match=r"Expected validation to be a share of the data "
                       r"between 0 and 1, exclusive \(say 0\.1\)\. Received: validation="):
        Run("ae", digits(200), epochs=1, batch_size=32, validation=value)


@pytest.mark.parametrize("share, side", [(0.05, "10 held out"), (0.9, "20 left to train on")])
def test_a_share_leaving_less_than_a_batch_is_refused(share, side):
    with pytest.raises(ValueError, match=f"at least one batch .32 items.*{side}"):
        Run("ae", digits(200), epochs=1, batch_size=32, validation=share)


@pytest.mark.parametrize("text", ["0", "1", "-0.2", "nan", "abc", "0.01"])
def test_the_cli_refuses_a_bad_share_in_one_line(text, tmp_path, capsys):
    folder = tmp_path / "run"
    rc = main(["train", "--model", "ae", "--data", "digits", "--data-opt", "limit=200",
               "--batch-size", "32", "--out", str(folder), "--validation", text])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1 and "validation" in err, err
    assert "Traceback" not in err
    assert not (folder / "config.json").exists()


def test_the_cli_flag_trains_resumes_and_runs_table_lists_it(tmp_path, capsys):
    from genwidgets.widgets import RunsTable

    folder = tmp_path / "runs" / "held"
    train = ["train", "--model", "ae", "--data", "digits", "--data-opt", "limit=200",
             "--batch-size", "32", "--quiet"]
    assert main([*train, "--epochs", "1", "--out", str(folder), "--validation", "0.2"]) == 0
    assert "val_loss=" in capsys.readouterr().out
    assert main(["train", "--resume", str(folder), "--epochs", "2", "--quiet"]) == 0
    assert main(["train", "--resume", str(folder), "--epochs", "3", "--validation", "0.2",
                 "--quiet"]) == 0
    before = snapshot(folder)
    assert main(["train", "--resume", str(folder), "--epochs", "4", "--validation",
                 "0.25"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "cannot change on a resume" in err[-1] and snapshot(folder) == before
    history = rows(folder)
    assert [r["epoch"] for r in history if "val_loss" in r] == [1, 2, 3]

    table = RunsTable(tmp_path / "runs")
    cells = [c.value for c in table.table.children if isinstance(c.value, str)]
    assert "<b>validation</b>" in cells
    assert f"val_loss {history[-1]['val_loss']:.3g}" in cells
    assert not any("val_loss" in c for c in cells if c.startswith("loss "))
    table.select("held")
    assert "val_loss" in table.metric.options
    table.metric.value = "val_loss"
    (trace,) = table.figure.data
    assert list(trace.x) == [r["step"] for r in history]
    assert list(trace.y) == [r["val_loss"] for r in history]

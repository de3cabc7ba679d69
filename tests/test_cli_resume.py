"""Resuming from the command line as a user does it: ``--epochs`` counts in all, a
finished run says so, settings given with ``--resume`` are applied when a resume may change
them and refused otherwise (the folder left byte-identical), bad values and options are one
line and rc 2, ``--debug`` shows the traceback, SIGTERM checkpoints like Ctrl-C, and
``Run.set`` refuses a value the model would reject before it reaches the worker."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from genwidgets.cli import main

TRAIN = ["train", "--model", "ae", "--data", "digits", "--data-opt", "limit=256",
         "--batch-size", "64"]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def epochs_of(folder: Path) -> list[int]:
    lines = (folder / "history.jsonl").read_text().splitlines()
    return [json.loads(line)["epoch"] for line in lines if line.strip()]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli") / "run"
    assert main([*TRAIN, "--epochs", "2", "--out", str(folder)]) == 0
    return folder


def copy_of(trained: Path, tmp_path: Path) -> Path:
    import shutil

    return Path(shutil.copytree(trained, tmp_path / "run"))


def test_a_finished_run_resumed_says_so_and_changes_nothing(trained, tmp_path, capsys):
    folder = copy_of(trained, tmp_path)
    before = snapshot(folder)
    assert main(["train", "--resume", str(folder), "--epochs", "2"]) == 0
    out = capsys.readouterr()
    assert "already finished" in out.out + out.err
    assert snapshot(folder) == before


def test_epochs_count_in_all_on_a_resume(trained, tmp_path):
    folder = copy_of(trained, tmp_path)
    assert main(["train", "--resume", str(folder), "--epochs", "3"]) == 0
    assert epochs_of(folder) == [1, 2, 3]  # one more, not three more


def test_a_fixed_setting_with_resume_is_refused_and_the_folder_is_untouched(
        trained, tmp_path, capsys):
    folder = copy_of(trained, tmp_path)
    before = snapshot(folder)
    assert main(["train", "--resume", str(folder), "--epochs", "3",
                 "--set", "latent_dim=4"]) == 2
    err = capsys.readouterr().err
    assert "latent_dim=4" in err and "cannot change on a resume" in err
    assert "Traceback" not in err
    assert snapshot(folder) == before


def test_an_edited_config_json_is_refused_and_the_folder_is_untouched(
        trained, tmp_path, capsys):
    folder = copy_of(trained, tmp_path)
    path = folder / "config.json"
    config = json.loads(path.read_text())
    config["config"]["hidden"] = 128  # the checkpoint's model has 256
    path.write_text(json.dumps(config))
    before = snapshot(folder)
    assert main(["train", "--resume", str(folder), "--epochs", "3"]) == 2
    err = capsys.readouterr().err
    assert "hidden=128 (its checkpoint's model has 256)" in err and "edited" in err
    assert "Traceback" not in err
    assert snapshot(folder) == before


def test_a_mutable_setting_with_resume_is_applied(trained, tmp_path):
    folder = copy_of(trained, tmp_path)
    assert main(["train", "--resume", str(folder), "--epochs", "3",
                 "--set", "learning_rate=0.0001"]) == 0
    config = json.loads((folder / "config.json").read_text())
    assert config["config"]["learning_rate"] == pytest.approx(1e-4)
    assert main(["train", "--resume", str(folder), "--epochs", "4"]) == 0  # and again
    assert epochs_of(folder) == [1, 2, 3, 4]


@pytest.mark.parametrize("extra, says", [
    (["--set", "latent_dim=true"], "latent_dim must be an integer"),
    (["--data-opt", "nope=1"], "unknown option(s) ['nope']"),
    (["--batch-size", "0"], "batch"),
])
def test_a_bad_value_is_one_line_and_rc_2(extra, says, tmp_path, capsys):
    assert main([*TRAIN, "--epochs", "1", "--out", str(tmp_path / "r"), *extra]) == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err
    assert not (tmp_path / "r").exists()


def test_debug_shows_the_traceback_of_an_error(tmp_path):
    args = [sys.executable, "-m", "genwidgets.cli", "train", "--model", "ae", "--data",
            "images", "--data-opt", f"path={tmp_path / 'missing.zip'}", "--out",
            str(tmp_path / "r")]
    plain = subprocess.run(args, capture_output=True, text=True, timeout=300)
    debug = subprocess.run([*args, "--debug"], capture_output=True, text=True, timeout=300)
    assert plain.returncode == 2 and "Traceback" not in plain.stderr
    assert "does not exist" in plain.stderr
    assert "Traceback" in debug.stderr


def test_sigterm_checkpoints_and_the_run_resumes(tmp_path):
    folder = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-m", "genwidgets.cli", "train", "--model", "ae", "--data",
         "digits", "--epochs", "1000", "--batch-size", "16", "--out", str(folder)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        deadline = time.time() + 240
        while time.time() < deadline and not (
                (folder / "history.jsonl").exists()
                and len(epochs_of(folder)) >= 2):
            time.sleep(0.5)
        assert len(epochs_of(folder)) >= 2, "the run did not record two epochs in time"
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode in (0, 130, 143), proc.stdout.read()
    done = epochs_of(folder)
    assert list(folder.glob("checkpoints/step-*")), "SIGTERM left no checkpoint"
    assert main(["train", "--resume", str(folder), "--epochs", str(done[-1] + 1)]) == 0
    after = epochs_of(folder)
    assert after == list(range(1, done[-1] + 2))  # no gap, no duplicate


def test_run_set_refuses_a_value_the_model_would_reject(trained):
    from genwidgets.training import Run

    run = Run("vae", "digits", epochs=1, batch_size=64)
    for bad in ({"word_dropout": 1.5}, {"kl_anneal_steps": -5},
                {"learning_rate": float("inf")}, {"latent_dim": 4}):
        with pytest.raises(ValueError):
            run.set(**bad)
    run.set(learning_rate=1e-4)
    assert run.config.learning_rate == pytest.approx(1e-4)


def test_a_utf16_text_file_is_told_to_convert_from_utf16(tmp_path, capsys):
    path = tmp_path / "notes.txt"
    path.write_bytes("the cat sat on the mat\nhow are you today\n".encode("utf-16"))
    assert main(["train", "--model", "ae", "--data", "text", "--data-opt", f"path={path}",
                 "--epochs", "1", "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "UTF-16" in err and "iconv -f UTF-16 -t utf-8" in err and "latin1" not in err
    assert "Traceback" not in err and not (tmp_path / "run").exists()

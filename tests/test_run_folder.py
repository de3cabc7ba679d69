"""Run folders never lose work: a new run refuses a folder that holds anything (unless told to
overwrite, and then it removes only genwidgets' own files), a refused resume leaves the
folder byte-identical, a resume checks the rows and the data first, one writer at a time
holds the folder's lock, and every number is checked at the door. Driven as a user drives
them: ``Run(...)``, ``Run.from_folder(...)`` and ``genwidgets train`` (in this process
through ``genwidgets.cli.main``, and as a command where a second process matters)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import genwidgets  # noqa: F401  (sets the Keras backend before keras is imported)
from genwidgets.atomic import write_text
from genwidgets.cli import main
from genwidgets.training import Run
from genwidgets.training.checkpoint import checkpoint_dirs, write_checkpoint
from genwidgets.training.folder import (DamagedFileError, FolderInUseError, FolderLockedError,
                                        RunFolderError, read_jsonl)
from tests.helpers import digits, wait_for

CONFIG = {"latent_dim": 2}
OPTIONS = {"limit": 64}  # the registry's digits, so that Run.from_folder loads them again
# digits(64) in batches of 16: 4 steps an epoch; 2 epochs, a checkpoint at each epoch's end
SMALL = dict(epochs=2, batch_size=16, seed=1, checkpoint_every_s=0)
CLI_DATA = ["--model", "ae", "--data", "digits", "--data-opt", "limit=64", "--batch-size",
            "16", "--set", "latent_dim=2", "--quiet"]


def tree(path: Path) -> dict[str, bytes | None]:
    """Every file (with its bytes) and folder under ``path``: to see that nothing changed."""
    return {str(p.relative_to(path)): (p.read_bytes() if p.is_file() else None)
            for p in sorted(Path(path).rglob("*"))}


def genwidgets_cmd(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "genwidgets.cli", *args], capture_output=True,
                          text=True, timeout=300)


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """A finished run: 2 epochs, 8 steps, checkpoints at steps 4 and 8."""
    out = tmp_path_factory.mktemp("base") / "run"
    run = Run("ae", "digits", CONFIG, out=out, data_options=OPTIONS, **SMALL)
    run.start()
    assert run.wait(120) and run.state == "finished", run.message
    assert [p.name for p in checkpoint_dirs(out)] == ["step-000000008", "step-000000004"]
    return out


@pytest.fixture
def folder(finished, tmp_path) -> Path:
    """A copy of the finished run, to damage."""
    return Path(shutil.copytree(finished, tmp_path / "run"))


# -- 1. a new run never takes a folder that holds something --------------------------------
def test_a_new_run_refuses_a_folder_holding_a_run_and_leaves_it_as_it_was(folder):
    before = tree(folder)
    with pytest.raises(FolderInUseError) as caught:
        Run("vae", digits(64), {"latent_dim": 2}, epochs=1, batch_size=16, out=folder)
    message = str(caught.value)
    assert f"{folder} already holds a genwidgets run (model 'ae' on 'digits', 2 epochs, " \
           f"8 steps recorded, a model.keras, 2 checkpoints)" in message
    assert "Expected an empty or new folder" in message
    assert f"Run.from_folder('{folder}')" in message and "overwrite=True" in message
    assert tree(folder) == before


def test_a_new_run_refuses_a_folder_holding_other_files_and_overwrite_keeps_them(tmp_path):
    out = tmp_path / "project"
    (out / "checkpoints").mkdir(parents=True)
    (out / "checkpoints" / "model.pt").write_bytes(b"torch weights")
    (out / "notes.txt").write_text("my notes")
    before = tree(out)
    with pytest.raises(FolderInUseError, match=r"already holds 2 other files \(checkpoints/"
                                               r"model\.pt, notes\.txt\) that genwidgets did "
                                               r"not write"):
        Run("ae", digits(64), CONFIG, out=out, **SMALL)
    assert tree(out) == before
    run = Run("ae", digits(64), CONFIG, out=out, overwrite=True, **SMALL)
    run.start()
    assert run.wait(120) and run.state == "finished", run.message
    assert (out / "checkpoints" / "model.pt").read_bytes() == b"torch weights"
    assert (out / "notes.txt").read_text() == "my notes"
    assert len(checkpoint_dirs(out)) == 2


def test_an_empty_or_new_folder_is_fine(tmp_path):
    (tmp_path / "empty").mkdir()
    for out in (tmp_path / "empty", tmp_path / "new" / "deeper"):
        run = Run("ae", digits(64), CONFIG, out=out, **SMALL)
        assert run.message == "ready" and (out / "config.json").is_file()


def test_overwrite_removes_only_genwidgets_own_files(folder):
    (folder / "latents").mkdir()
    np.savez(folder / "latents" / "epoch_0002.npz", z=np.zeros(3))  # genwidgets'
    (folder / "latents" / "my_plot.png").write_bytes(b"png")  # not genwidgets'
    odd = folder / "checkpoints" / "step-000000099"  # a checkpoint's name, not its layout
    odd.mkdir()
    (odd / "weights.pt").write_bytes(b"not ours")
    (folder / "README").write_text("about this project")
    Run("ae", digits(64), CONFIG, out=folder, overwrite=True, **SMALL)
    left = {k for k in tree(folder) if not k.startswith(".genwidgets.lock")}
    assert left == {"README", "config.json", "latents", "latents/my_plot.png", "checkpoints",
                    "checkpoints/step-000000099", "checkpoints/step-000000099/weights.pt"}
    assert (odd / "weights.pt").read_bytes() == b"not ours"


def test_cli_out_on_a_run_is_refused_in_one_message_and_overwrite_replaces_it(folder, capsys):
    before = tree(folder)
    assert main(["train", *CLI_DATA, "--epochs", "1", "--out", str(folder)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err
    assert err.startswith(f"genwidgets train: error: --out {folder}: {folder} already holds a "
                          f"genwidgets run (model 'ae' on 'digits'")
    assert f"genwidgets train --resume {folder}" in err and "--overwrite" in err
    assert tree(folder) == before
    (folder / "notes.txt").write_text("mine")
    assert main(["train", *CLI_DATA, "--epochs", "1", "--out", str(folder), "--overwrite"]) == 0
    assert [r["epoch"] for r in read_jsonl(folder / "history.jsonl")] == [1]
    assert (folder / "notes.txt").read_text() == "mine"


def test_cli_refusal_is_exit_2_without_a_traceback_as_a_command(folder):
    before = tree(folder)
    proc = genwidgets_cmd("train", *CLI_DATA, "--epochs", "1", "--out", str(folder))
    assert proc.returncode == 2, proc.stderr
    assert "already holds a genwidgets run" in proc.stderr and "Traceback" not in proc.stderr
    assert tree(folder) == before


# -- 2. and 3. a resume reads and checks everything, then writes ------------------------------
def _flip_in_row(path: Path, row: int) -> None:
    lines = path.read_bytes().split(b"\n")
    lines[row - 1] = lines[row - 1].replace(b'"step"', b'"st\xffp', 1)
    path.write_bytes(b"\n".join(lines))


def _drop_row(path: Path, row: int) -> None:
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:row - 1] + lines[row:]))


def _repeat_row(path: Path, row: int) -> None:
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:row] + [lines[row - 1]] + lines[row:]))


DAMAGE = {
    "a bad byte in batch row 3": (lambda f: _flip_in_row(f / "batches.jsonl", 3),
                                  r"batches\.jsonl: row 3 is damaged"),
    "batch row 5 missing": (lambda f: _drop_row(f / "batches.jsonl", 5),
                            r"batches\.jsonl does not continue .* row 5 is step 6"),
    "batch row 2 twice": (lambda f: _repeat_row(f / "batches.jsonl", 2),
                          r"batches\.jsonl does not continue .* row 3 is step 2 of epoch 1, "
                          r"expected step 3"),
    "a bad byte in epoch row 1": (lambda f: _flip_in_row(f / "history.jsonl", 1),
                                  r"history\.jsonl: row 1 is damaged"),
    "epoch 1 missing": (lambda f: _drop_row(f / "history.jsonl", 1),
                        r"history\.jsonl does not continue .* row 1 is epoch 2 at step 8, "
                        r"expected epoch 1 at step 4"),
    "the last epoch row cut": (lambda f: _drop_row(f / "history.jsonl", 2),
                               r"history\.jsonl does not continue .* it holds 1 epoch rows, "
                               r"the checkpoint records 2"),
    "epoch 1 twice": (lambda f: _repeat_row(f / "history.jsonl", 1),
                      r"history\.jsonl does not continue .* row 2 is epoch 1 at step 4, "
                      r"expected epoch 2 at step 8"),
    "no checkpoint": (lambda f: shutil.rmtree(f / "checkpoints"),
                      r"has no checkpoint to resume from \(it holds a genwidgets run: model "
                      r"'ae' on 'digits', 2 epochs, 8 steps recorded, a model.keras"),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_refused_resume_leaves_the_folder_byte_identical(folder, damage):
    make, message = DAMAGE[damage]
    make(folder)
    before = tree(folder)
    with pytest.raises(RunFolderError, match=message) as caught:
        Run.from_folder(folder, epochs=3)
    assert "Nothing was changed" in str(caught.value)
    assert tree(folder) == before


def test_a_resume_refused_after_skipping_a_damaged_checkpoint_does_not_set_it_aside(folder):
    latest = checkpoint_dirs(folder)[0]  # damaged: a resume that passes sets it aside
    (latest / "model.keras").write_bytes(b"PK\x03\x04 not a zip any more")
    before = tree(folder)
    with pytest.raises(ValueError, match="trained with batch_size=16"):
        Run.from_folder(folder, batch_size=8)
    assert tree(folder) == before
    with pytest.warns(RuntimeWarning, match="step-000000008 cannot be loaded"):
        run = Run.from_folder(folder)
    assert run.steps == 4 and (folder / "checkpoints" / "damaged-step-000000008").is_dir()


def test_cli_resume_refusals_are_exit_2_and_change_nothing(folder, capsys):
    for damage in ("batch row 5 missing", "no checkpoint"):
        DAMAGE[damage][0](folder)
        before = tree(folder)
        assert main(["train", "--resume", str(folder), "--quiet"]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("genwidgets train: error: ") and err.count("\n") == 0, err
        assert "Nothing was changed" in err and "Traceback" not in err
        assert tree(folder) == before
    assert f"--out {folder} --overwrite" in err  # what to do with a folder of no checkpoint
    empty = folder.parent / "empty"
    empty.mkdir()
    assert main(["train", "--resume", str(empty), "--quiet"]) == 2
    assert "has no checkpoint to resume from (it is empty)" in capsys.readouterr().err
    assert tree(empty) == {}


def test_only_a_torn_last_line_is_dropped(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text('{"step": 1}\n{"step": 2}\n{"step": 3, "lo')
    assert read_jsonl(path) == [{"step": 1}, {"step": 2}]
    path.write_text('{"step": 1}\n{"step": 2}\n{"step": 3}')  # whole, only its newline lost
    assert read_jsonl(path) == [{"step": 1}, {"step": 2}, {"step": 3}]
    path.write_text('{"step": 1}\n{"st\n{"step": 3}\n')
    with pytest.raises(DamagedFileError, match=r"rows\.jsonl: row 2 is damaged"):
        read_jsonl(path)
    assert read_jsonl(path, strict=False) == [{"step": 1}, {"step": 3}]  # for views
    path.write_text('{"step": 1}\n[2]\n')
    with pytest.raises(DamagedFileError, match="row 2 is damaged"):
        read_jsonl(path)


def test_a_resume_past_a_torn_last_row_goes_on_and_drops_it(folder):
    with open(folder / "batches.jsonl", "a") as f:
        f.write('{"step": 9, "epoch": 3, "t": 1.0, "lo')  # a crash mid-write
    run = Run.from_folder(folder, epochs=3)
    assert run.steps == 8
    run.start()
    assert run.wait(120) and run.state == "finished", run.message
    assert [r["step"] for r in read_jsonl(folder / "batches.jsonl")] == list(range(1, 13))
    assert [r["epoch"] for r in read_jsonl(folder / "history.jsonl")] == [1, 2, 3]


# -- 5. one writer at a time ------------------------------------------------------------------
def test_a_second_writer_is_refused_naming_the_holder(folder):
    first = Run.from_folder(folder, epochs=4)
    first.step(2)  # trains two steps, then waits paused: its worker holds the lock
    try:
        wait_for(lambda: first.state == "paused", what="the first run to pause")
        holder = f"process {os.getpid()} on host {socket.gethostname()}"
        before = {k: v for k, v in tree(folder).items() if k != "batches.jsonl"}
        proc = genwidgets_cmd("train", "--resume", str(folder), "--quiet")
        assert proc.returncode == 2, proc.stderr
        assert f"{folder} is in use: {holder}" in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr
        with pytest.raises(FolderLockedError, match=f"is in use: {holder} \\(this process\\)"):
            Run.from_folder(folder)
        with pytest.raises(FolderLockedError):
            Run("ae", digits(64), CONFIG, out=folder, overwrite=True, **SMALL)
        assert {k: v for k, v in tree(folder).items() if k != "batches.jsonl"} == before
    finally:
        first.stop()
        first.wait(60)
    steps = [r["step"] for r in read_jsonl(folder / "batches.jsonl")]
    assert steps == list(range(1, 11))  # one writer: no interleaved rows


def test_a_run_whose_folder_another_run_wrote_since_is_refused(folder):
    stale = Run.from_folder(folder, epochs=3)  # idle: holds no lock
    other = Run.from_folder(folder, epochs=3)
    other.start()
    assert other.wait(120) and other.state == "finished", other.message
    with pytest.raises(RunFolderError, match="changed since this run last wrote it"):
        stale.start()
    assert not stale.alive
    assert [r["step"] for r in read_jsonl(folder / "batches.jsonl")] == list(range(1, 13))


def test_temporary_files_are_per_process(tmp_path, monkeypatch):
    seen = []
    real = os.replace
    monkeypatch.setattr(os, "replace", lambda a, b: (seen.append(Path(a).name), real(a, b)))
    write_text(tmp_path / "config.json", "{}")
    assert seen == [f".config.json.{os.getpid()}.tmp"]
    monkeypatch.undo()
    # a checkpoint writer leaves a live process's temporary folder alone
    import keras

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live = tmp_path / "checkpoints" / f".tmp-{other.pid}-1"
        dead = tmp_path / "checkpoints" / ".tmp-999999999-1"
        for d in (live, dead):
            d.mkdir(parents=True)
        write_checkpoint(tmp_path, model, {"step": 1})
        assert live.is_dir() and not dead.exists()
    finally:
        other.kill()
        other.wait()


# -- 6. a resume on other data is refused -----------------------------------------------------
def test_a_resume_on_other_data_is_refused_saying_what_changed(folder):
    before = tree(folder)
    from genwidgets.registry import load_dataset

    changed = load_dataset("digits", **OPTIONS)
    changed.x[0, 0, 0, 0] += 0.5
    with pytest.raises(RunFolderError, match=r"the data differ from those the run was trained "
                                             r"on \('digits' .*\): the items differ"):
        Run.from_folder(folder, dataset=changed)
    assert tree(folder) == before
    doc = json.loads((folder / "config.json").read_text())
    assert doc["data_fingerprint"]["items"] == 64 and len(doc["data_fingerprint"]["sha256"]) == 64


# -- the numbers at the door ------------------------------------------------------------------
@pytest.mark.parametrize("name, value", [
    ("batch_size", 0), ("batch_size", -5), ("batch_size", True), ("batch_size", 2.5),
    ("epochs", 0), ("epochs", -1), ("epochs", True), ("epochs", "3"),
    ("seed", -1), ("seed", 2**32), ("seed", True), ("seed", 1.5),
    ("checkpoint_every_s", -1), ("checkpoint_every_s", float("nan")),
    ("checkpoint_every_s", True), ("checkpoint_mid_epoch_s", "600"),
])
def test_run_checks_every_number_at_the_door(tmp_path, name, value):
    kwargs = {**SMALL, name: value}
    with pytest.raises(ValueError, match=f"Expected {name}.*Received: {name}="):
        Run("ae", digits(64), CONFIG, out=tmp_path / "r", **kwargs)
    assert not (tmp_path / "r").exists()


def test_start_and_step_check_their_numbers():
    run = Run("ae", digits(64), CONFIG, **SMALL)
    for call in (lambda: run.start(epochs=0), lambda: run.start(epochs=True),
                 lambda: run.step(True), lambda: run.step(0)):
        with pytest.raises(ValueError, match="Expected"):
            call()
    assert not run.alive


@pytest.mark.parametrize("args, message", [
    (["--batch-size", "-5"], "Expected batch_size >= 1, an integer. Received: batch_size=-5"),
    (["--batch-size", "0"], "Expected batch_size >= 1, an integer. Received: batch_size=0"),
])
def test_cli_checks_the_batch_size_at_the_door(tmp_path, args, message):
    proc = subprocess.run(
        [sys.executable, "-m", "genwidgets.cli", "train", *CLI_DATA[:6], "--quiet", "--out",
         str(tmp_path / "r"), *args],
        capture_output=True, text=True, timeout=120)  # a spin is a failure, not a hang
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("args, message", [
    (["--epochs", "-1"], "Expected epochs >= 1, an integer. Received: epochs=-1"),
    (["--set", "latent_dim=true"], "latent_dim must be an integer"),
    (["--set", "learning_rate=false"], "learning_rate must be a number"),
])
def test_cli_checks_numbers_at_the_door(tmp_path, capsys, args, message):
    assert main(["train", *CLI_DATA[:6], "--quiet", "--out", str(tmp_path / "r"), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "r").exists()


# -- 7. latent snapshots of a resumed run keep the earlier ones -------------------------------
def test_a_resumed_run_keeps_its_latent_snapshots_and_labels_its_epochs(tmp_path):
    from genwidgets.latent import LatentSnapshots, SnapshotStore

    out = tmp_path / "run"
    run = Run("ae", "digits", CONFIG, out=out, data_options=OPTIONS, **SMALL)
    LatentSnapshots.attach(run, max_points=32)
    run.start()
    assert run.wait(120) and run.state == "finished", run.message
    store = SnapshotStore(out / "latents")
    assert store.epochs() == [0, 1, 2]
    earlier = {e: (out / "latents" / f"epoch_{e:04d}.npz").read_bytes() for e in (0, 1, 2)}
    resumed = Run.from_folder(out, epochs=3)
    LatentSnapshots.attach(resumed, max_points=32)
    assert store.epochs() == [0, 1, 2]  # attaching deletes nothing
    resumed.start()
    assert resumed.wait(120) and resumed.state == "finished", resumed.message
    assert store.epochs() == [0, 1, 2, 3]
    for e, data in earlier.items():  # and the resumed state is not saved as epoch 0
        assert (out / "latents" / f"epoch_{e:04d}.npz").read_bytes() == data
    # a run resumed with no snapshot so far labels its first map with its epoch, not 0
    shutil.rmtree(out / "latents")
    again = Run.from_folder(out, epochs=4)
    LatentSnapshots.attach(again, max_points=32)
    again.start()
    assert again.wait(120) and again.state == "finished", again.message
    assert store.epochs() == [3, 4]

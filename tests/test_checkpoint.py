"""Checkpoints: written whole or not at all, the previous one kept, a damaged latest skipped
with a message, ``safe_mode`` loading, NaN keeping the last good one, and a writer killed
with SIGKILL at random moments, many times, always leaving one that loads."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import genwidgets  # noqa: F401  (sets the Keras backend before keras is imported)
from genwidgets.training import Run
from genwidgets.training.checkpoint import (CheckpointError, checkpoint_dirs, load_latest,
                                            write_checkpoint)
from tests.helpers import ExplodingSpec, digits, edit_checkpoint_models


class PlainSpec:
    """What loading needs of a spec: its custom objects (a Sequential needs none)."""

    name = "plain"

    def custom_objects(self):
        return {}


def small_model(width=16):
    import keras

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(width),
                              keras.layers.Dense(4)])
    model.compile(optimizer="adam", loss="mse")
    return model


def trained(model, steps):
    x = np.random.default_rng(0).random((8 * steps, 4)).astype("float32")
    model.fit(x, x, batch_size=8, epochs=1, verbose=0)
    return model


def test_round_trip_keeps_weights_and_optimizer_and_the_newest_two(tmp_path):
    model = trained(small_model(), 3)
    for step in (1, 2, 3):
        write_checkpoint(tmp_path, model, {"step": step, "seed": 5})
    assert [p.name for p in checkpoint_dirs(tmp_path)] == ["step-000000003", "step-000000002"]
    ckpt = load_latest(tmp_path, PlainSpec())
    assert ckpt.step == 3 and ckpt.state["seed"] == 5 and not ckpt.notes
    assert int(ckpt.model.optimizer.iterations) == 3
    for a, b in zip(model.get_weights(), ckpt.model.get_weights()):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(model.optimizer.variables, ckpt.model.optimizer.variables):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert not list((tmp_path / "checkpoints").glob(".tmp-*"))


@pytest.mark.parametrize("damage", ["truncate model", "flip a byte", "bad json", "no state"])
def test_a_damaged_latest_falls_back_to_the_previous_and_says_so(tmp_path, damage):
    model = trained(small_model(), 2)
    write_checkpoint(tmp_path, model, {"step": 10})
    latest = write_checkpoint(tmp_path, model, {"step": 20})
    keras_file, state = latest / "model.keras", latest / "state.json"
    if damage == "truncate model":
        keras_file.write_bytes(keras_file.read_bytes()[:100])
    elif damage == "flip a byte":
        data = bytearray(keras_file.read_bytes())
        data[len(data) // 2] ^= 0xFF
        keras_file.write_bytes(bytes(data))
    elif damage == "bad json":
        state.write_text('{"format": 1, "step": ')
    else:
        state.unlink()
    ckpt = load_latest(tmp_path, PlainSpec())
    assert ckpt.step == 10
    (note,) = ckpt.notes
    assert note.startswith("checkpoint step-000000020 cannot be loaded (")
    assert note.endswith("resumed from step-000000010 instead")
    assert (tmp_path / "checkpoints" / "damaged-step-000000020").is_dir()  # kept aside
    assert [p.name for p in checkpoint_dirs(tmp_path)] == ["step-000000010"]


def test_a_run_resuming_past_a_damaged_checkpoint_shows_it(tmp_path):
    run = Run("ae", digits(64), {"latent_dim": 2}, epochs=3, batch_size=16, seed=1,
              out=tmp_path / "run", checkpoint_every_s=0)
    run.start()
    assert run.wait(120) and run.state == "finished"
    latest = checkpoint_dirs(tmp_path / "run")[0]
    (latest / "model.keras").write_bytes(b"PK\x03\x04 not a zip any more")
    with pytest.warns(RuntimeWarning, match="step-000000012 cannot be loaded"):
        again = Run.from_folder(tmp_path / "run", dataset=digits(64))
    assert again.steps == 8  # the epoch-2 checkpoint
    assert again.message.startswith("resumed at step 8 (checkpoint step-000000012 cannot be "
                                    "loaded (CheckpointError:")


def test_when_no_checkpoint_loads_the_error_lists_each(tmp_path):
    model = trained(small_model(), 1)
    for step in (1, 2):
        path = write_checkpoint(tmp_path, model, {"step": step})
        (path / "state.json").write_text("[]")
    with pytest.raises(CheckpointError, match=r"Expected a checkpoint in .* that loads\. "
                                              r"Received: 2 damaged: step-000000002: .*"
                                              r"step-000000001: "):
        load_latest(tmp_path, PlainSpec())


def test_checkpoints_load_in_safe_mode_so_a_lambda_is_refused(tmp_path):
    import keras

    model = keras.Sequential([keras.Input((2,)), keras.layers.Lambda(lambda t: t * 2)])
    write_checkpoint(tmp_path, model, {"step": 1})
    with pytest.raises(CheckpointError, match="safe_mode"):
        load_latest(tmp_path, PlainSpec())


def test_nan_keeps_the_last_good_checkpoint(tmp_path):
    run = Run(ExplodingSpec(), digits(16), epochs=50, batch_size=8, out=tmp_path / "nan",
              checkpoint_every_s=0)  # two steps an epoch: NaN comes at step 4, epoch 2
    run.start()
    assert run.wait(60) and run.message == "stopped: nan in loss at step 4"
    ckpt = load_latest(tmp_path / "nan", ExplodingSpec(), load=False)
    assert ckpt.step == 2  # epoch 1's; none was written at or after the NaN
    assert not (tmp_path / "nan" / "model.keras").exists()


def test_config_json_records_seed_distribution_and_precision(tmp_path):
    Run("ae", digits(64), epochs=1, batch_size=16, seed=3, out=tmp_path / "r",
        distribution="none", precision="float32")
    doc = json.loads((tmp_path / "r" / "config.json").read_text())
    assert (doc["seed"], doc["distribution"], doc["precision"]) == (3, "none", "float32")


def test_a_fresh_run_with_overwrite_drops_the_old_checkpoints(tmp_path):
    run = Run("ae", digits(64), epochs=1, batch_size=16, out=tmp_path / "r")
    run.start()
    assert run.wait(60) and checkpoint_dirs(tmp_path / "r")
    Run("ae", digits(64), epochs=1, batch_size=16, out=tmp_path / "r", overwrite=True)
    assert not checkpoint_dirs(tmp_path / "r")


# A process that imports Keras once and forks a checkpoint writer on each request, so that
# 30 writers cost one import. Each writer resumes from the newest checkpoint that loads,
# then writes one checkpoint a step, the step also stored in a weight, until it is killed.
ZYGOTE = textwrap.dedent('''
    import os, signal, sys
    import genwidgets, keras  # no JAX backend yet: each child makes its own
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped as they die
    for line in sys.stdin:
        folder = line.strip()
        pid = os.fork()
        if pid:
            print(pid, flush=True)
            continue
        import numpy as np
        from genwidgets.training.checkpoint import load_latest, write_checkpoint

        class Plain:
            def custom_objects(self):
                return {}

        latest = load_latest(folder, Plain())
        step = latest.step if latest else 0
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(256),
                                  keras.layers.Dense(4)])
        model.compile(optimizer="adam", loss="mse")
        log = open(os.path.join(folder, "written.log"), "a")
        log.write(f"start {step}\\n"); log.flush()
        while True:
            step += 1
            w = model.layers[1].get_weights()
            w[1][:] = step
            model.layers[1].set_weights(w)
            write_checkpoint(folder, model, {"step": step})
            log.write(f"{step}\\n"); log.flush()
''')


@pytest.mark.slow
def test_writer_killed_at_random_moments_always_leaves_one_that_loads(tmp_path):
    zygote = subprocess.Popen([sys.executable, "-c", ZYGOTE], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    rng = random.Random(1234)
    log = tmp_path / "written.log"
    kills, mid_write = 30, 0
    try:
        for _ in range(kills):
            zygote.stdin.write(f"{tmp_path}\n")
            zygote.stdin.flush()
            pid = int(zygote.stdout.readline())
            end = time.monotonic() + 60
            start_lines = log.read_text().count("start") + 1 if log.exists() else 1
            while not log.exists() or log.read_text().count("start") < start_lines:
                assert time.monotonic() < end, "the writer did not start"
                time.sleep(0.01)
            time.sleep(rng.uniform(0.0, 0.4))
            os.kill(pid, signal.SIGKILL)
            while os.path.exists(f"/proc/{pid}") and "zombie" not in _status(pid):
                time.sleep(0.01)
            written = [int(s) for s in log.read_text().split() if s.isdigit()]
            mid_write += bool(list((tmp_path / "checkpoints").glob(".tmp-*")))
            ckpt = load_latest(tmp_path, PlainSpec())
            if not written:
                continue
            assert ckpt is not None and not ckpt.notes, ckpt and ckpt.notes
            assert ckpt.step >= written[-1]  # nothing reported written is lost
            marker = ckpt.model.layers[1].get_weights()[1]
            assert np.all(marker == ckpt.step)  # the weights are that step's
    finally:
        zygote.stdin.close()
        zygote.wait(30)
    assert written[-1] > kills  # the writers got on between kills
    assert mid_write >= kills // 3, mid_write  # most kills hit a checkpoint being written


def _status(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/status") as f:
            return f.read().lower()
    except OSError:
        return "zombie"


def test_resuming_with_another_model_or_batch_size_says_what_differs(tmp_path):
    run = Run("ae", digits(64), {"latent_dim": 2}, epochs=1, batch_size=16, out=tmp_path / "r")
    run.start()
    assert run.wait(60) and run.state == "finished"
    with pytest.raises(ValueError, match=r"step-000000004 is of model 'ae'\. Received: model "
                                         r"'vae'\. Resume with the same model\."):
        Run("vae", digits(64), out=tmp_path / "r", batch_size=16, resume=True)
    with pytest.raises(ValueError, match=r"trained with batch_size=16 and 4 steps an epoch\. "
                                         r"Received: batch_size=8, 8 steps an epoch"):
        Run("ae", digits(64), {"latent_dim": 2}, out=tmp_path / "r", batch_size=8,
            resume=True)
    assert checkpoint_dirs(tmp_path / "r")  # a refused resume leaves the folder as it was


def test_a_checkpoint_records_the_plugin_and_its_version(tmp_path):
    from importlib.metadata import version

    run = Run("ae", digits(32), {"latent_dim": 2}, epochs=1, batch_size=16,
              out=tmp_path / "r")
    run.start()
    assert run.wait(60) and run.state == "finished", run.error
    state = load_latest(tmp_path / "r", run.spec, load=False).state
    assert (state["model"], state["plugin"], state["distribution"]) == ("ae", "ae", "genwidgets")
    assert state["version"] == version("genwidgets") and state["epoch"] == 1


def test_whole_checkpoints_of_another_build_are_not_called_damaged(tmp_path):
    """Checkpoints whose files check but whose model no longer loads (a plugin whose layers
    changed, here a model.keras whose recorded width differs from its weights): the error
    says they are whole and written by another model, not "damaged", and sets nothing aside."""
    run = Run("ae", digits(64), {"latent_dim": 2}, epochs=2, batch_size=16, out=tmp_path / "r")
    run.start()
    assert run.wait(60) and run.state == "finished", run.error

    def narrower(config):
        config["config"]["config"]["hidden"] = 64  # the weights were made with 256

    edit_checkpoint_models(tmp_path / "r", narrower)
    from genwidgets.training.checkpoint import CheckpointError

    before = sorted(p.name for p in checkpoint_dirs(tmp_path / "r"))
    with pytest.raises(CheckpointError) as refused:
        Run("ae", digits(64), {"latent_dim": 2}, out=tmp_path / "r", batch_size=16,
            resume=True)
    message = str(refused.value)
    assert "are whole (their files check) but were written by another model" in message
    assert "They are not damaged" in message and "2 damaged" not in message
    assert sorted(p.name for p in checkpoint_dirs(tmp_path / "r")) == before


def test_a_gan_run_from_before_spectral_norm_resumes_as_it_was_built(tmp_path):
    """A run folder written before the GAN had ``spectral_norm``: neither its config.json
    nor its checkpoints' models name it. The resume goes on with the nets it was built
    with, not the new default, and does not call config.json edited."""
    import json

    from genwidgets_gan.spectral import SpectralConv2D

    settings = {"latent_dim": 4, "filters": 8, "spectral_norm": False}
    run = Run("gan", digits(64), settings, epochs=1, batch_size=16, out=tmp_path / "r")
    run.start()
    assert run.wait(120) and run.state == "finished", run.error
    config_json = tmp_path / "r" / "config.json"
    recorded = json.loads(config_json.read_text())
    del recorded["config"]["spectral_norm"]
    config_json.write_text(json.dumps(recorded))
    edit_checkpoint_models(tmp_path / "r",
                           lambda config: config["config"]["config"].pop("spectral_norm"))
    again = Run("gan", digits(64), out=tmp_path / "r", epochs=2, batch_size=16, resume=True)
    assert again.config.spectral_norm is False
    assert not any(isinstance(layer, SpectralConv2D)
                   for layer in again.model.discriminator.layers)
    again.start()
    assert again.wait(120) and again.state == "finished", again.error
    assert json.loads(config_json.read_text())["config"]["spectral_norm"] is False

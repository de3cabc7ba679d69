"""Resume after Stop, after an exception, after Ctrl-C and in a new process (a kernel
restart): training goes on at the right step with its optimizer, and the history has no gap
and no duplicate. A counting layer (a non-trainable counter the train step increments, as in
Keras' own BackupAndRestore tests) must equal the step count, and the final weights must
equal those of the same run trained without interruption.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import genwidgets  # noqa: F401  (sets the Keras backend before keras is imported)
from tests.helpers import digits
from genwidgets.training import Run
from genwidgets.training.checkpoint import checkpoint_dirs, load_latest
from genwidgets.training.folder import read_jsonl

COUNTING_PLUGIN = '''
import dataclasses
from genwidgets import hookimpl, ModelSpec

_CLASSES = {}


def classes():
    """Keras classes, made on first use (listing plugins must not import Keras)."""
    if not _CLASSES:
        import keras

        class Counter(keras.layers.Layer):
            def build(self, shape):
                self.count = self.add_weight(shape=(), initializer="zeros", dtype="int32",
                                             trainable=False, name="count")

            def call(self, x, training=False):
                if training:
                    self.count.assign(self.count + 1)
                return x

        class CountingAE(keras.Model):
            def __init__(self, shape, **kwargs):
                super().__init__(**kwargs)
                self.item_shape = tuple(shape)
                size = 1
                for d in self.item_shape:
                    size *= d
                self.counter = Counter()
                self.flat = keras.layers.Flatten()
                self.hidden = keras.layers.Dense(8, activation="tanh")
                self.out = keras.layers.Dense(size)
                self.unflat = keras.layers.Reshape(self.item_shape)

            def call(self, x, training=False):
                h = self.hidden(self.flat(self.counter(x, training=training)))
                return self.unflat(self.out(h))

            def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None,
                             training=True):
                return keras.ops.mean((y_pred - x) ** 2)

            def get_config(self):
                return {**super().get_config(), "shape": list(self.item_shape)}

        _CLASSES.update(Counter=Counter, CountingAE=CountingAE)
    return _CLASSES


class CountingSpec(ModelSpec):
    name = "counting"
    family = "test"
    modalities = ("image",)
    capabilities = frozenset()

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Config:
        learning_rate: float = 0.01

    def build(self, config, data_info):
        import keras

        model = classes()["CountingAE"](data_info.shape)
        model.compile(optimizer=keras.optimizers.Adam(config.learning_rate))
        return model

    def custom_objects(self):
        return dict(classes())


@hookimpl
def register_models():
    return [CountingSpec]
'''


@pytest.fixture(scope="module")
def plugin_dir(tmp_path_factory):
    """The counting plugin as an installed distribution (for the CLI) and a module."""
    root = tmp_path_factory.mktemp("counting_plugin")
    (root / "gw_counting.py").write_text(COUNTING_PLUGIN)
    info = root / "gw_counting-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: gw-counting\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[genwidgets]\ncounting = gw_counting\n")
    return root


@pytest.fixture(scope="module")
def spec(plugin_dir):
    sys.path.insert(0, str(plugin_dir))
    try:
        yield importlib.import_module("gw_counting").CountingSpec()
    finally:
        sys.path.remove(str(plugin_dir))


DATA = digits(256)  # 256 items, batches of 16: 16 steps an epoch


def counted(model) -> int:
    return int(np.asarray(model.counter.count))


def make_run(spec, **kwargs) -> Run:
    import keras

    keras.utils.set_random_seed(0)  # the same initial weights every time
    return Run(spec, DATA, epochs=3, batch_size=16, seed=7, **kwargs)


def wait_paused(run, timeout=60):
    end = time.monotonic() + timeout
    while run.state != "paused" or run.alive is False:
        assert time.monotonic() < end, f"not paused: {run.state} {run.message}"
        time.sleep(0.02)


def assert_whole_history(run, steps: int, epochs: int):
    assert run.steps == steps and counted(run.model) == steps
    assert [r["step"] for r in run.history] == list(range(1, steps + 1))  # no gap, no twice
    assert [r["epoch"] for r in run.epoch_history] == list(range(1, epochs + 1))
    for e in range(1, epochs + 1):
        assert sum(r["epoch"] == e for r in run.history) == run.steps_per_epoch
    if run.folder is not None:
        rows = read_jsonl(run.folder.path / "batches.jsonl")
        assert [r["step"] for r in rows] == list(range(1, steps + 1))
        epochs_on_disk = read_jsonl(run.folder.path / "history.jsonl")
        assert [r["epoch"] for r in epochs_on_disk] == list(range(1, epochs + 1))


@pytest.fixture(scope="module")
def uninterrupted(spec):
    run = make_run(spec)
    run.start()
    assert run.wait(120) and run.state == "finished", run.message
    assert_whole_history(run, 48, 3)
    return [np.asarray(w) for w in run.model.get_weights()], run.epoch_history


def same_weights(run, reference):
    weights = [np.asarray(w) for w in run.model.get_weights()]
    assert len(weights) == len(reference[0])
    for a, b in zip(weights, reference[0]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_stop_mid_epoch_then_start_goes_on_with_that_epoch(spec, uninterrupted):
    run = make_run(spec)
    run.step(21)  # 5 batches into the second epoch
    wait_paused(run)
    run.stop()
    assert run.wait(30) and run.steps == 21 and counted(run.model) == 21
    run.start(epochs=2)  # the partial epoch is one of the two
    assert run.wait(120) and run.state == "finished", run.message
    assert_whole_history(run, 48, 3)
    same_weights(run, uninterrupted)  # same batches in the same order, optimizer kept
    for got, want in zip(run.epoch_history, uninterrupted[1]):  # the resumed epoch's mean too
        assert got["loss"] == pytest.approx(want["loss"], rel=1e-4)


def test_new_run_resumes_a_folder_as_after_a_kernel_restart(spec, uninterrupted, tmp_path):
    first = make_run(spec, out=tmp_path / "run")
    first.step(21)
    wait_paused(first)
    first.stop()
    assert first.wait(30) and first.state == "stopped"
    del first  # nothing of it stays in memory for the new run
    run = Run.from_folder(tmp_path / "run", spec=spec, dataset=DATA)
    assert run.message == "resumed at step 21" and run.steps == 21
    assert counted(run.model) == 21
    assert int(run.model.optimizer.iterations) == 21  # the optimizer state came back
    run.start()  # up to the goal the first run had: 3 epochs
    assert run.wait(120) and run.state == "finished", run.message
    assert_whole_history(run, 48, 3)
    same_weights(run, uninterrupted)
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["seed"] == 7 and config["precision"] == "float32"
    assert config["distribution"] == "auto"


class RaiseOnce:
    """A Keras callback raising at one step, once."""

    def __new__(cls, at):
        import keras

        class _Raise(keras.callbacks.Callback):
            fired = False

            def on_train_batch_end(self, batch, logs=None):
                if not self.fired and self.model.optimizer.iterations == at:
                    self.fired = True
                    raise RuntimeError(f"a callback raised at step {at}")

        return _Raise()


def test_start_after_an_exception_goes_on_at_the_failed_step(spec, uninterrupted):
    run = make_run(spec, callbacks=[RaiseOnce(20)])
    run.start()
    assert run.wait(60) and run.state == "failed"
    assert "a callback raised at step 20" in run.message
    assert run.steps == 20 and counted(run.model) == 20
    run.start(epochs=2)
    assert run.wait(120) and run.state == "finished", run.message
    assert_whole_history(run, 48, 3)
    same_weights(run, uninterrupted)


def test_resume_after_an_exception_goes_back_to_the_last_checkpoint(spec, uninterrupted,
                                                                     tmp_path):
    run = make_run(spec, out=tmp_path / "run", callbacks=[RaiseOnce(20)],
                   checkpoint_every_s=0)
    run.start()
    assert run.wait(60) and run.state == "failed"
    assert len(read_jsonl(tmp_path / "run" / "batches.jsonl")) == 20
    run = Run.from_folder(tmp_path / "run", spec=spec, dataset=DATA)
    assert run.steps == 16  # the checkpoint at the end of epoch 1; rows 17-20 are dropped
    run.start()
    assert run.wait(120) and run.state == "finished", run.message
    assert_whole_history(run, 48, 3)
    same_weights(run, uninterrupted)


def test_mid_epoch_checkpoints_on_long_epochs_and_resume_there(spec, uninterrupted, tmp_path):
    run = make_run(spec, out=tmp_path / "run", checkpoint_every_s=3600,
                   checkpoint_mid_epoch_s=0.0)  # a checkpoint before every batch
    run.step(27)
    wait_paused(run)
    time.sleep(0.2)
    batches = [json.loads((p / "state.json").read_text())["batch"]
               for p in checkpoint_dirs(tmp_path / "run")]
    assert batches == [11, 10]  # mid-epoch: the newest two, of steps 27 and 26, are kept
    run.stop()
    run.wait(30)
    # throw away what the stop wrote, as if the process died before it
    latest = checkpoint_dirs(tmp_path / "run")[0]
    assert json.loads((latest / "state.json").read_text())["reason"] == "stopped"
    import shutil

    shutil.rmtree(latest)
    resumed = Run.from_folder(tmp_path / "run", spec=spec, dataset=DATA)
    assert resumed.steps == 26 and counted(resumed.model) == 26
    resumed.start()
    assert resumed.wait(120) and resumed.state == "finished"
    assert_whole_history(resumed, 48, 3)
    same_weights(resumed, uninterrupted)


def test_ctrl_c_then_resume_from_the_command_line(plugin_dir, tmp_path):
    """`genwidgets train` interrupted by SIGINT keeps a checkpoint; `--resume` finishes."""
    env = {**os.environ, "PYTHONPATH": f"{plugin_dir}{os.pathsep}"
           f"{os.environ.get('PYTHONPATH', '')}"}
    out = tmp_path / "run"
    # far more epochs than it can reach: the SIGINT always finds it training
    # as `python -m genwidgets.cli`, with every thread's stack dumped on SIGUSR1 (a hang)
    wrap = ("import faulthandler, runpy, signal; faulthandler.register(signal.SIGUSR1, "
            "all_threads=True); runpy.run_module('genwidgets.cli', run_name='__main__')")
    cmd = [sys.executable, "-c", wrap, "train", "--model", "counting", "--data",
           "digits", "--data-opt", "limit=512", "--batch-size", "8", "--epochs", "100000",
           "--quiet", "--out", str(out)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    end = time.monotonic() + 120
    while len(read_jsonl(out / "batches.jsonl")) < 100:
        assert proc.poll() is None and time.monotonic() < end, proc.communicate()
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGUSR1)
        time.sleep(2)
        proc.kill()
        pytest.fail(f"no exit 60 s after SIGINT; its threads:\n{proc.communicate()[1]}")
    assert proc.returncode == 130, err
    stopped = load_latest(out, load=False)
    assert stopped.state["reason"] == "stopped"
    steps = stopped.step
    assert len(read_jsonl(out / "batches.jsonl")) == steps
    again = subprocess.run([sys.executable, "-m", "genwidgets.cli", "train", "--resume",
                            str(out), "--epochs", str(steps // 64 + 1), "--quiet"], env=env,
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert f"resumed at step {steps}" in again.stderr
    rows = read_jsonl(out / "batches.jsonl")
    total = (steps // 64 + 1) * 64  # to the end of the interrupted epoch, plus none
    assert [r["step"] for r in rows] == list(range(1, total + 1))
    code = ("import sys, genwidgets, keras, numpy as np; import gw_counting as g; "
            "m = keras.saving.load_model(sys.argv[1], custom_objects=g.classes(), "
            "safe_mode=True); print(int(np.asarray(m.counter.count)))")
    count = subprocess.run([sys.executable, "-c", code, str(out / "model.keras")], env=env,
                           capture_output=True, text=True, timeout=120, check=True)
    assert int(count.stdout) == total

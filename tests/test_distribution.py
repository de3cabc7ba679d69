"""Training beyond one device: data-parallel on two CPU devices, two processes, bfloat16.

JAX fixes its device count when it starts, so every check that needs two devices runs
in a fresh Python (this file run as a script) with
``XLA_FLAGS=--xla_force_host_platform_device_count=2``.

Why the tolerance: on one device and on two, each step computes the same sums over the
same batch, only split in two halves that are added at the end, so float32 rounds in a
different order (a few ulps, ~1e-7 relative, per reduction). The losses a run records are
recovered from Keras' running means (``k * mean_k - (k - 1) * mean_(k-1)``), which
scales that rounding by up to ~2k at batch k, and Adam carries it into the next steps.
Measured over 8 steps: at most 8e-7 relative on images and 1.8e-6 on text (0 on some
steps). ``RTOL = 2e-5`` (about 170 float32 ulps) is 10x the largest, while a step that
saw other items (a device training on its half alone, a batch split or ordered wrongly, a
random draw that depends on the split) moves its loss like the step from one batch of 16
to the next here: 2e-4 to 2e-2 relative, typically 5e-3.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

import genwidgets  # noqa: F401  (Keras on JAX before anything imports Keras)

RTOL = 2e-5
ATOL = 1e-6  # for loss parts near zero (a KL at the start)
TWO_DEVICES = {"XLA_FLAGS": "--xla_force_host_platform_device_count=2", "JAX_PLATFORMS": "cpu"}
CONFIGS = {
    "ae": {"latent_dim": 2, "hidden": 32, "architecture": "dense", "embed_dim": 8},
    "vae": {"latent_dim": 2, "hidden": 32, "depth": 1, "architecture": "dense",
            "rnn_units": 16, "embed_dim": 8},
    "gan": {"latent_dim": 8, "filters": 8},  # a DCGAN: batch norm sees the global batch
    "transformer": {"latent_dim": 4, "d_model": 16, "num_heads": 2, "encoder_layers": 1,
                    "decoder_layers": 1},
}


def digits(n=128):  # not tests.helpers': this file also runs alone, as a script
    from sklearn.datasets import load_digits

    from genwidgets import DataInfo, Dataset

    x = (load_digits().images[:n] / 16.0).astype("float32")[..., None]
    return Dataset(x, DataInfo("digits", "image", (8, 8, 1), len(x)))


def sentences(n=128):
    from genwidgets.data.text import load_text

    words = ["red", "blue", "cat", "dog", "sat", "ran", "on", "the", "mat", "hill"]
    texts = [" ".join(words[(i * k) % len(words)] for k in (1, 3, 7)) for i in range(n)]
    return load_text(texts=texts, seq_len=16)


def data(modality):
    return digits() if modality == "image" else sentences()


def script(*args: str, env: dict | None = None, timeout: float = 300) -> dict:
    """Run this file as a script in a fresh Python; return the JSON it prints last."""
    proc = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **TWO_DEVICES, **(env or {})})
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


# -- what the fresh Pythons do -------------------------------------------------------
def trained(name, modality, distribution, precision="float32", model=None, seed=0):
    """A Run trained for one epoch (8 steps of 16) from ``seed``."""
    import keras

    from genwidgets.training import Run

    if seed is not None:
        keras.utils.set_random_seed(seed)  # the same weights and the same shuffled order
    run = Run(name, data(modality), CONFIGS[name], epochs=1, batch_size=16,
              distribution=distribution, precision=precision, model=model)
    run.start()
    run.wait()
    assert run.state == "finished", run.traceback
    return run


def weights(model):
    return [np.asarray(v.value, dtype="float32") for v in model.trainable_variables]


def compare(name, modality):
    one, two = trained(name, modality, "none"), trained(name, modality, "data-parallel")
    sharding = two.model.trainable_variables[0].value.sharding
    return {
        "devices": [one.devices, two.devices],
        "replicated_on": len(sharding.device_set),
        "keys": sorted(one.history[0]),
        "one": [[row[k] for k in sorted(row) if k not in ("t", "step", "epoch")]
                for row in one.history],
        "two": [[row[k] for k in sorted(row) if k not in ("t", "step", "epoch")]
                for row in two.history],
        "weight_gap": max(float(np.abs(a - b).max()) for a, b in
                          zip(weights(one.model), weights(two.model))),
    }


def extras():
    """Two devices: an odd batch, a model built outside the run, bfloat16, a change mid-run."""
    import keras

    from genwidgets.training import Run

    out = {}
    try:
        Run("ae", digits(), CONFIGS["ae"], batch_size=15, distribution="data-parallel")
    except ValueError as exc:
        out["odd_batch"] = str(exc)
    out["auto"] = Run("ae", digits(), CONFIGS["ae"], batch_size=16).devices
    keras.utils.set_random_seed(0)
    from genwidgets.registry import get_registry

    spec = get_registry().model("ae")
    outside = spec.build(spec.config(**CONFIGS["ae"]), digits().info)  # on one device
    adopted = trained("ae", "image", "data-parallel", model=outside)
    built = trained("ae", "image", "data-parallel")
    out["adopted_gap"] = max(float(np.abs(a - b).max()) for a, b in
                             zip(weights(adopted.model), weights(built.model)))
    mixed = trained("vae", "image", "data-parallel", precision="mixed_bfloat16")
    out["mixed"] = {"policy": mixed.model.dtype_policy.name,
                    "variables": mixed.model.trainable_variables[0].dtype,
                    "losses": [row["loss"] for row in mixed.history],
                    "policy_after": keras.config.dtype_policy().name}
    run = Run("vae", digits(), CONFIGS["vae"], epochs=2, batch_size=16,
              distribution="data-parallel")
    run.step(3)  # three steps, a pause, two changes, then to the end
    while run.state != "paused":
        time.sleep(0.02)
    run.set(learning_rate=0.01, beta=0.5)
    run.resume()
    run.wait()
    out["changed"] = {"state": run.state, "steps": run.steps,
                      "learning_rate": float(run.model.optimizer.learning_rate.numpy()),
                      "beta": float(run.model.hyper["beta"].numpy())}
    return out


def host(index, port):
    """One of two processes that joined with jax.distributed.initialize, as a user would."""
    import jax

    jax.distributed.initialize(coordinator_address=f"127.0.0.1:{port}", num_processes=2,
                               process_id=int(index))
    run = trained("ae", "image", "auto", seed=None)  # the run agrees on a seed itself
    return {"process": jax.process_index(), "devices": run.devices,
            "losses": [row["loss"] for row in run.history],
            "weights": [w.tolist() for w in weights(run.model)]}


# -- the tests -----------------------------------------------------------------------
@pytest.mark.parametrize("name,modality", [
    ("ae", "image"), ("vae", "image"), ("gan", "image"),
    pytest.param("transformer", "image", marks=pytest.mark.slow),
    pytest.param("vae", "text", marks=pytest.mark.slow),
    pytest.param("transformer", "text", marks=pytest.mark.slow),
])
def test_two_devices_follow_one_device(name, modality):
    result = script("compare", name, modality)
    assert result["devices"] == [["cpu:0"], ["cpu:0", "cpu:1"]]
    assert result["replicated_on"] == 2  # the weights live on both devices
    one, two = np.array(result["one"]), np.array(result["two"])
    assert one.shape == two.shape and len(one) == 8
    np.testing.assert_allclose(two, one, rtol=RTOL, atol=ATOL)
    assert result["weight_gap"] < 1e-4  # after 8 Adam steps of at most lr = 1e-3 each
    assert np.isfinite(one).all() and not np.array_equal(one[0], one[-1])  # it trained


@pytest.fixture(scope="module")
def two_device_extras():
    return script("extras")


def test_a_batch_that_does_not_split_evenly_is_refused(two_device_extras):
    message = two_device_extras["odd_batch"]
    assert "Expected a batch size divisible by the 2 devices" in message
    assert "batch_size=15" in message and "Use 14 or 16" in message
    assert two_device_extras["auto"] == ["cpu:0", "cpu:1"]  # auto = data-parallel on 2


def test_a_model_built_outside_the_run_is_replicated(two_device_extras):
    assert two_device_extras["adopted_gap"] < 1e-4  # trains like one built inside


def test_mixed_bfloat16_trains_data_parallel(two_device_extras):
    mixed = two_device_extras["mixed"]
    assert mixed["policy"] == "mixed_bfloat16" and mixed["variables"] == "float32"
    assert mixed["policy_after"] == "float32"  # the policy does not leak out of the run
    assert np.isfinite(mixed["losses"]).all() and mixed["losses"][-1] < mixed["losses"][0]


def test_settings_change_mid_run_on_two_devices(two_device_extras):
    changed = two_device_extras["changed"]
    assert (changed["state"], changed["steps"]) == ("finished", 16)
    assert changed["learning_rate"] == pytest.approx(0.01) and changed["beta"] == 0.5


def test_one_device_and_bad_choices():
    from genwidgets.training.distribution import Placement

    assert Placement().devices == ["cpu:0"] and Placement().mode == "none"
    both = Placement("data-parallel")  # allowed on one device: a mesh of one
    assert both.mode == "data-parallel" and both.devices == ["cpu:0"]
    with pytest.raises(ValueError, match="Expected distribution to be one of"):
        Placement("pmap")
    with pytest.raises(ValueError, match="Expected precision to be one of"):
        Placement(precision="float16")


def test_cli_choices_match_the_module():
    from genwidgets import cli
    from genwidgets.training import distribution

    assert cli.DISTRIBUTIONS == distribution.DISTRIBUTIONS
    assert cli.PRECISIONS == distribution.PRECISIONS


def test_cli_refuses_an_unknown_distribution_or_precision():
    for flag, value in (("--distribution", "pmap"), ("--precision", "float16")):
        proc = subprocess.run([sys.executable, "-m", "genwidgets.cli", "train", "--out", "x",
                               flag, value], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 2 and f"invalid choice: '{value}'" in proc.stderr


def test_importing_genwidgets_turns_off_preallocation():
    env = {k: v for k, v in os.environ.items() if k != "XLA_PYTHON_CLIENT_PREALLOCATE"}
    code = "import os, genwidgets; print(os.environ['XLA_PYTHON_CLIENT_PREALLOCATE'])"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=60)
    assert proc.stdout.strip() == "false", proc.stderr


def together(commands, folder, timeout=300) -> list[str]:
    """Run commands side by side (they wait for each other); return their stdouts.

    Output goes to files, not pipes: a process blocked on a full pipe would hold up the
    others at JAX's shutdown barrier.
    """
    procs = []
    for i, (cmd, env) in enumerate(commands):
        with open(folder / f"p{i}.out", "w") as out, open(folder / f"p{i}.err", "w") as err:
            procs.append(subprocess.Popen(cmd, env=env, stdout=out, stderr=err, text=True))
    try:
        for p in procs:
            p.wait(timeout)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    for i, p in enumerate(procs):
        assert p.returncode == 0, (folder / f"p{i}.err").read_text()[-4000:]
    return [(folder / f"p{i}.out").read_text() for i in range(len(procs))]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_processes_train_one_model(tmp_path):
    """Two processes on loopback, one CPU device each, `genwidgets train` in both."""
    import keras

    port = _free_port()
    commands = []
    for i in range(2):
        env = {**os.environ, "JAX_PLATFORMS": "cpu",
               "KERAS_DISTRIBUTION_JOB_ADDRESSES": f"127.0.0.1:{port}",
               "KERAS_DISTRIBUTION_NUM_PROCESSES": "2", "KERAS_DISTRIBUTION_PROCESS_ID": str(i)}
        env.pop("XLA_FLAGS", None)
        cmd = [sys.executable, "-m", "genwidgets.cli", "train", "--model", "ae", "--data",
               "digits", "--data-opt", "limit=128", "--epochs", "2", "--batch-size", "16",
               "--distribution", "data-parallel", "--quiet", "--out", str(tmp_path / f"h{i}")]
        cmd += [f"--set={k}={v}" for k, v in CONFIGS["ae"].items()]
        commands.append((cmd, env))
    together(commands, tmp_path)
    history = [(tmp_path / f"h{i}" / "batches.jsonl").read_text().splitlines() for i in (0, 1)]
    losses = [[json.loads(line)["loss"] for line in h] for h in history]
    assert len(losses[0]) == 16 and losses[0] == losses[1]  # one global batch per step
    # Each process fed a different half of every batch, and yet the weights agree: the
    # gradients were averaged across the processes.
    from genwidgets.registry import get_registry

    spec = get_registry().model("ae")
    models = [keras.saving.load_model(tmp_path / f"h{i}" / "model.keras",
                                      custom_objects=spec.custom_objects(), safe_mode=True)
              for i in (0, 1)]
    for a, b in zip(models[0].weights, models[1].weights):
        np.testing.assert_array_equal(np.asarray(a.value), np.asarray(b.value))
    assert losses[0][-1] < losses[0][0]


@pytest.mark.slow
def test_two_processes_joined_by_jax_distributed_initialize(tmp_path):
    port, env = _free_port(), {**os.environ, "XLA_FLAGS": "", "JAX_PLATFORMS": "cpu"}
    outputs = together([([sys.executable, __file__, "host", str(i), str(port)], env)
                        for i in range(2)], tmp_path)
    a, b = (json.loads(out.strip().splitlines()[-1]) for out in outputs)
    assert (a["process"], b["process"]) == (0, 1)
    assert a["devices"] == b["devices"] and len(a["devices"]) == 2  # one CPU each, global
    assert a["losses"] == b["losses"] and len(a["losses"]) == 8
    for wa, wb in zip(a["weights"], b["weights"]):
        np.testing.assert_array_equal(wa, wb)


if __name__ == "__main__":
    command, *rest = sys.argv[1:]
    result = {"compare": compare, "host": host, "extras": extras}[command](*rest)
    print(json.dumps(result))

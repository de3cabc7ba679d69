"""The Run, driven as the buttons drive it, with a real Keras fit on a worker thread."""

from __future__ import annotations

import json
import threading
import time

import numpy as np
import pytest

from genwidgets.training import Run, RunError
from genwidgets.training.folder import read_jsonl
from tests.helpers import ExplodingSpec, digits, wait_for


@pytest.fixture
def run(tmp_path):
    r = Run("ae", digits(), {"latent_dim": 2}, epochs=10_000, batch_size=16,
            out=tmp_path / "run")
    yield r
    r.stop()
    r.wait(30)


def test_pause_stops_the_count_and_resume_continues(run):
    run.start()
    wait_for(lambda: run.steps >= 20, what="20 steps")
    run.pause()
    wait_for(lambda: run.state == "paused", what="paused")
    paused_at = run.steps
    assert run.message == f"paused at step {paused_at}"
    time.sleep(0.5)
    assert run.steps == paused_at  # really paused
    run.resume()
    wait_for(lambda: run.steps >= paused_at + 10 and run._epochs_done >= 2, what="resumed")
    assert [r["step"] for r in run.history] == list(range(1, run.steps + 1))  # no gap
    snap = run.snapshot()  # the goal stays the run's, however many epochs are done
    assert (snap["epochs"], snap["total_steps"]) == (10_000, 10_000 * run.steps_per_epoch)
    assert snap["eta_s"] is not None


def test_step_trains_exactly_n_batches(run):
    run.step(5)
    wait_for(lambda: run.state == "paused", what="pause after 5 steps")
    time.sleep(0.3)
    assert run.steps == 5
    run.step(7)
    wait_for(lambda: run.steps == 12 and run.state == "paused", what="12 steps")
    time.sleep(0.3)
    assert run.steps == 12


def test_set_learning_rate_reaches_the_optimizer(run):
    run.step(3)
    wait_for(lambda: run.state == "paused")
    run.set(learning_rate=0.0123)
    lr = run.call(lambda model: float(model.optimizer.learning_rate))
    assert lr == pytest.approx(0.0123)
    with pytest.raises(ValueError, match="'latent_dim' cannot change while training"):
        run.set(latent_dim=3)


def test_zero_learning_rate_freezes_weights_mid_run(run):
    """The new value reaches the compiled step: with lr 0 the weights stop moving."""
    run.step(3)
    wait_for(lambda: run.state == "paused")
    run.set(learning_rate=0.0)
    before = run.call(lambda m: [np.array(v) for v in m.trainable_variables])
    run.step(5)
    wait_for(lambda: run.steps == 8 and run.state == "paused")
    after = run.call(lambda m: [np.array(v) for v in m.trainable_variables])
    assert all(np.array_equal(a, b) for a, b in zip(before, after))


def test_second_start_says_why(run):
    run.start()
    with pytest.raises(RunError, match="already training"):
        run.start()


def test_stop_mid_epoch_saves_model_and_full_history(run, tmp_path):
    run.start()
    wait_for(lambda: run.steps >= 10)
    run.stop()
    assert run.wait(30)
    assert run.state == "stopped" and run.message == f"stopped at step {run.steps}"
    rows = read_jsonl(tmp_path / "run" / "batches.jsonl")
    assert len(rows) == run.steps and rows[-1]["step"] == run.steps
    assert (tmp_path / "run" / "model.keras").exists()
    assert json.loads((tmp_path / "run" / "config.json").read_text())["model"] == "ae"


def test_events_reach_a_subscriber_at_most_ten_a_second(tmp_path):
    r = Run("ae", digits(256), {"latent_dim": 2}, epochs=3, batch_size=8)
    events = r.subscribe()
    start = time.monotonic()
    r.start()
    r.wait(120)
    elapsed = time.monotonic() - start
    got = []
    while not events.empty():
        got.append(events.get())
    progress = [e for e in got if e["type"] == "progress"]
    assert progress[-1]["state"] == "finished" and progress[-1]["step"] == 3 * 32
    assert len([e for e in got if e["type"] == "epoch"]) == 3
    assert len(progress) <= 10 * elapsed + 10  # flushes at most ~10/s plus state changes


def test_nan_stops_visibly_naming_the_part_and_step(tmp_path):
    r = Run(ExplodingSpec(), digits(64), epochs=50, batch_size=8, out=tmp_path / "nan")
    r.start()
    assert r.wait(60)
    assert r.state == "stopped"
    assert r.message == "stopped: nan in loss at step 4"
    assert not (tmp_path / "nan" / "model.keras").exists()  # no NaN model written


def test_a_raising_model_shows_its_error():
    r = Run(ExplodingSpec(), digits(64), {"fail": True}, epochs=1, batch_size=8)
    events = r.subscribe()
    r.start()
    assert r.wait(60)
    assert r.state == "failed"
    assert "RuntimeError: the model raised on purpose" in r.message
    assert "Traceback" in r.traceback and isinstance(r.error, RuntimeError)
    final = None
    while not events.empty():
        final = events.get()
    assert final["state"] == "failed" and "on purpose" in final["error"]


def test_start_after_stop_continues_the_step_count(run):
    run.start()
    wait_for(lambda: run.steps >= 8)
    run.stop()
    run.wait(30)
    first = run.steps
    run.start()
    wait_for(lambda: run.steps >= first + 8, what="steps after restart")
    run.stop()
    run.wait(30)
    assert [r["step"] for r in run.history] == list(range(1, run.steps + 1))


def test_batch_rows_hold_each_batch_and_average_to_the_epoch(tmp_path):
    r = Run("vae", digits(256), {"latent_dim": 2}, epochs=2, batch_size=32, out=tmp_path / "v")
    r.start()
    assert r.wait(120) and r.state == "finished"
    for epoch_row in r.epoch_history:
        rows = [row for row in r.history if row["epoch"] == epoch_row["epoch"]]
        assert len(rows) == 8
        for key in ("loss", "kl", "reconstruction"):  # Keras' epoch mean of the batch values
            mean = sum(row[key] for row in rows) / len(rows)
            assert mean == pytest.approx(epoch_row[key], rel=1e-4)
    first = [row["loss"] for row in r.history if row["epoch"] == 1]
    assert first[-1] < first[0] - 1.0  # a batch value, not a running mean dragged by batch 1


def test_a_finished_run_fits_the_prior_that_samples_are_drawn_from():
    run = Run("ae", digits(256), {"latent_dim": 2}, epochs=2, batch_size=32)
    model = run.model
    assert np.allclose(np.asarray(model.prior_mean), 0.0)  # before: a standard normal
    run.start()
    run.wait(120)
    assert run.state == "finished", run.error
    z = model.encode(run.dataset.x)
    assert np.allclose(np.asarray(model.prior_mean), z.mean(0), atol=1e-4)
    scale = np.asarray(model.prior_scale)
    assert np.allclose(scale @ scale.T, np.cov(z, rowvar=False) + 1e-4 * np.eye(2), atol=1e-3)
    model.fit_prior(run.dataset.x[:64])  # a plugin may be asked again, on other data
    assert np.allclose(np.asarray(model.prior_mean), z[:64].mean(0), atol=1e-4)


def test_a_request_made_as_the_run_ends_is_answered():
    """A preview asked for just after the worker's last batch (the panel's pump does this
    when Stop lands between two previews) is answered, not left to time out."""
    run = Run("ae", digits(256), {"latent_dim": 2}, epochs=10_000, batch_size=32)
    fit_prior, ending, go_on = run.model.fit_prior, threading.Event(), threading.Event()

    def held_fit_prior(x):  # the worker's last work after its fit: hold it there
        ending.set()
        go_on.wait(30)
        fit_prior(x)

    run.model.fit_prior = held_fit_prior
    run.start()
    wait_for(lambda: run.steps >= 3, what="3 steps")
    run.stop()
    assert ending.wait(60)
    answers: list = []
    def request(model):  # answered by the worker at its end; it may change a setting too
        run.set(learning_rate=2e-4)
        return model.latent_dim

    asker = threading.Thread(target=lambda: answers.append(run.call(request, timeout=10)))
    asker.start()
    time.sleep(0.3)  # the request waits while the worker finishes
    go_on.set()
    asker.join(15)
    assert answers == [2]
    assert float(run.model.optimizer.learning_rate) == pytest.approx(2e-4)
    assert run.wait(30) and run.state == "stopped"
    run.set(learning_rate=1e-4)  # after the end: applied at once
    assert float(run.model.optimizer.learning_rate) == pytest.approx(1e-4)

"""The one follower of a run's events: batches to its handler, ends with its owner."""

from __future__ import annotations

import gc
import threading

from genwidgets.training import Run
from genwidgets.training.follower import EventFollower
from genwidgets.widgets.samples import RunFollower
from genwidgets.widgets.train_panel import TrainPanel
from tests.helpers import digits, wait_for


class Owner:
    """A view's stand-in: it keeps what it was handed."""

    def __init__(self, run):
        self.seen: list = []
        self.follower = EventFollower(run, self.on_events, tick_s=0.05).start()

    def on_events(self, batch):
        self.seen.extend(batch)


def _follow_threads():
    return [t for t in threading.enumerate() if t.name.startswith("genwidgets-")]


def test_a_dropped_owner_ends_its_thread_and_its_subscription():
    run = Run("ae", digits(64), {"latent_dim": 2}, epochs=1, batch_size=16)
    owner = Owner(run)
    thread, seen = owner.follower.thread, owner.seen
    wait_for(lambda: seen, what="the first snapshot")
    assert seen[0]["type"] == "progress"  # the snapshot a subscriber gets first
    assert len(run._bus.subscribers) == 1
    del owner  # a re-run cell drops its view: nothing else holds it
    gc.collect()
    thread.join(2)
    assert not thread.is_alive()
    assert run._bus.subscribers == []


def test_following_on_the_calling_thread_hands_on_every_event_until_the_run_ends():
    run = Run("ae", digits(64), {"latent_dim": 2}, epochs=2, batch_size=16)
    seen: list = []
    follower = EventFollower(run, seen.extend, tick_s=0.05)
    run.start()
    follower.follow(until_done=True)
    assert not run.alive and run.state == "finished"
    assert [e["epoch"] for e in seen if e["type"] == "epoch"] == [1, 2]
    assert [e for e in seen if e["type"] == "progress"][-1]["state"] == "finished"
    assert run._bus.subscribers == []


def test_a_failing_handler_on_a_thread_keeps_following(caplog):
    run = Run("ae", digits(64), {"latent_dim": 2}, epochs=1, batch_size=16)
    calls = []

    def handler(batch):
        calls.append(batch)
        if len(calls) == 1:
            raise RuntimeError("a view's bug")

    follower = EventFollower(run, handler, tick_s=0.05, name="genwidgets-test").start()
    wait_for(lambda: len(calls) >= 3, what="calls after the failure")
    follower.stop()
    follower.thread.join(2)
    assert not follower.alive
    assert "a view's bug" in caplog.text


def test_closing_the_views_that_follow_a_run_ends_their_threads():
    run = Run("ae", digits(64), {"latent_dim": 2}, epochs=1, batch_size=16)
    before = set(_follow_threads())
    panel = TrainPanel(run)
    grid_like = panel.preview  # any widget stands for a view a RunFollower draws into
    follower = RunFollower(run, grid_like, lambda: None)
    started = set(_follow_threads()) - before
    assert {t.name for t in started} == {"genwidgets-pump", "genwidgets-follow"}
    panel.close()
    follower.stop()
    for thread in started:
        thread.join(2)
        assert not thread.is_alive()
    assert run._bus.subscribers == []

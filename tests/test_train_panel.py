"""The TrainPanel and LossPlot headless: buttons clicked, state read through get_state()."""

from __future__ import annotations

import time

import pytest

from genwidgets.training import Run
from genwidgets.widgets.loss_plot import LossPlot
from genwidgets.widgets.train_panel import TrainPanel
from tests.helpers import ExplodingSpec, digits, wait_for


@pytest.fixture
def panel():
    run = Run("ae", digits(), {"latent_dim": 2}, epochs=10_000, batch_size=16)
    p = TrainPanel(run, preview_every_s=0.5)
    yield p
    run.stop()
    run.wait(30)
    p.close()


def state_of(p) -> str:
    html = p.status.get_state()["value"]
    return html.split('data-state="')[1].split('"')[0]


def test_buttons_drive_the_run_and_the_plot_grows(panel):
    assert state_of(panel) == "idle"
    assert panel.buttons["pause"].get_state()["disabled"]
    panel.buttons["train"].click()
    wait_for(lambda: sum(panel.loss_plot.point_counts.values()) > 20, what="plot points")
    wait_for(lambda: state_of(panel) == "running", what="running status")
    assert panel.buttons["train"].get_state()["disabled"]
    panel.buttons["pause"].click()
    wait_for(lambda: state_of(panel) == "paused", what="paused status")
    time.sleep(0.8)  # the pump has applied everything by now
    count = panel.loss_plot.point_counts["loss"]
    assert ">paused</b><span class=\"gw-train-detail\"> at step" in panel.status.value
    time.sleep(0.8)
    assert panel.loss_plot.point_counts["loss"] == count  # paused: no new points
    panel.buttons["resume"].click()
    wait_for(lambda: panel.loss_plot.point_counts["loss"] > count, what="points after resume")
    panel.buttons["stop"].click()
    wait_for(lambda: state_of(panel) == "stopped", what="stopped status")
    assert panel.buttons["train"].get_state()["disabled"] is False


def test_step_button_and_preview(panel):
    panel.step_count.value = 5
    panel.buttons["step"].click()
    wait_for(lambda: state_of(panel) == "paused", what="paused after steps")
    assert 'data-step="5"' in panel.status.value
    wait_for(lambda: len(panel.preview.value) > 100, what="a sample grid")
    assert bytes(panel.preview.value[:8]) == b"\x89PNG\r\n\x1a\n"


def test_learning_rate_slider_reaches_the_optimizer(panel):
    panel.buttons["step"].click()
    wait_for(lambda: state_of(panel) == "paused")
    panel.setting_widgets["learning_rate"].value = 1e-4
    assert panel.run.call(lambda m: float(m.optimizer.learning_rate)) == pytest.approx(1e-4)


def test_a_failing_model_shows_its_traceback_in_the_panel():
    run = Run(ExplodingSpec(), digits(64), {"fail": True}, epochs=1, batch_size=8)
    p = TrainPanel(run)
    p.buttons["train"].click()
    wait_for(lambda: "the model raised on purpose" in p.error.value, what="error shown")
    assert "Traceback" in p.error.value
    assert state_of(p) == "failed"
    p.close()


def test_loss_plot_decimates_and_smooths():
    plot = LossPlot(max_points=100)
    plot.add_rows([{"step": i, "epoch": 1, "t": 0.0, "loss": float(i % 7)} for i in
                   range(1, 1001)])
    assert 50 <= plot.point_counts["loss"] <= 100
    assert plot.figure.data[0].x[0] == 1
    plot.smoothing.value = 0.0
    raw = plot.figure.data[0].y
    plot.smoothing.value = 0.9
    assert max(plot.figure.data[0].y) < max(raw)  # smoothed
    plot.log_scale.value = True
    assert plot.figure.layout.yaxis.type == "log"
    plot.add_rows([], [{"epoch": 1, "step": 1000, "loss": 1.0, "val_loss": 2.0}])
    assert [t.name for t in plot.figure.data] == ["loss", "val_loss"]
    assert len(plot.figure.layout.shapes) == 1  # the epoch boundary
    plot.add_rows([], [{"epoch": e, "step": 1000 * e} for e in range(2, 101)])
    assert 20 <= len(plot.figure.layout.shapes) <= 40  # a long run draws every k-th one

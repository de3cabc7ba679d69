"""JupyterLab: ``LiveLoss`` under a plain Keras ``model.fit``: the status and the plot move
while the cell runs, then read finished with every metric, the validation markers and
the epoch lines; the log-scale toggle works; a reload shows the same plot."""

from __future__ import annotations

import pytest

from genwidgets.widgets.loss_plot import LossPlot

from .harness import open_notebook, wait_for

pytestmark = pytest.mark.browser

EPOCHS = 15  # long enough (about 15 s here) to catch it running
CELLS = [
    "import genwidgets, keras, numpy as np\n"
    "from genwidgets.callbacks import LiveLoss\n"
    "rng = np.random.default_rng(0)\n"
    "x = rng.normal(size=(5000, 20)).astype('float32')\n"
    "y = (x[:, 0] + x[:, 1] * x[:, 2] > 0).astype('int32')\n"
    "model = keras.Sequential([keras.Input((20,)), keras.layers.Dense(64, activation='relu'),\n"
    "                          keras.layers.Dense(2, activation='softmax')], name='classifier')\n"
    "model.compile('adam', 'sparse_categorical_crossentropy', metrics=['accuracy'])",
    f"model.fit(x, y, batch_size=4, epochs={EPOCHS}, validation_split=0.2, verbose=0,\n"
    "          callbacks=[LiveLoss(out='runs/classifier')]);",
]
STEPS = EPOCHS * 1000  # 4000 training items in batches of 4

STATUS = """(want) => {
  const status = document.querySelector('.gw-liveloss .gw-train-status');
  return status && status.dataset.state === want ? status.innerText : false;
}"""

RUNNING_PLOT = """() => {
  const status = document.querySelector('.gw-liveloss .gw-train-status');
  const graph = document.querySelector('.gw-liveloss .js-plotly-plot');
  if (!status || status.dataset.state !== 'running' || !graph || !graph.data) return false;
  const loss = graph.data.find((t) => t.name === 'loss');
  return loss && loss.x.length > 20
    ? {step: Number(status.dataset.step), points: loss.x.length, text: status.innerText}
    : false;
}"""

FINISHED_PLOT = """(want) => {
  const graph = document.querySelector('.gw-liveloss .js-plotly-plot');
  if (!graph || !graph.data) return false;
  const traces = Object.fromEntries(graph.data.map((t) => [t.name, t.x.length]));
  if (traces.val_loss !== want) return false;
  return {traces, lines: graph.querySelectorAll('.scatterlayer .trace path.js-line').length,
          markers: graph.querySelectorAll('.scatterlayer .trace .points path').length,
          epochLines: graph.querySelectorAll('.shapelayer path').length,
          yaxis: graph.layout.yaxis.type || 'linear'};
}"""

LOG_AXIS = """() => {
  const graph = document.querySelector('.gw-liveloss .js-plotly-plot');
  return graph && graph.layout.yaxis.type === 'log';
}"""


def test_liveloss_under_a_plain_fit_in_lab(lab, lab_page, artifacts):
    name = "liveloss.ipynb"
    lab.write_notebook(name, CELLS)
    open_notebook(lab_page, lab, name)
    lab_page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
    running = wait_for(lab_page, RUNNING_PLOT, timeout=180)
    lab_page.screenshot(path=artifacts / "lab-liveloss-running.png")
    assert 0 < running["step"] < STEPS and "steps/s" in running["text"]
    assert "ETA" in running["text"] and f"/{EPOCHS} · step " in running["text"]

    text = wait_for(lab_page, STATUS, arg="finished", timeout=300)
    assert f"epoch {EPOCHS}/{EPOCHS} · step {STEPS}/{STEPS}" in text
    assert f"finished: {EPOCHS} epochs, {STEPS} steps" in text.replace("\n", " ")
    plot = wait_for(lab_page, FINISHED_PLOT, arg=EPOCHS)
    # decimated to at most 2000 points a curve, as a LossPlot fed every step keeps them
    kept = LossPlot([{"step": s, "loss": 0.0} for s in range(1, STEPS + 1)]).point_counts
    assert plot["traces"] == {"accuracy": kept["loss"], "loss": kept["loss"],
                              "val_accuracy": EPOCHS, "val_loss": EPOCHS}
    assert plot["lines"] == 2 and plot["markers"] == 2 * EPOCHS
    assert plot["epochLines"] == EPOCHS and plot["yaxis"] == "linear"
    lab_page.locator(".gw-liveloss").scroll_into_view_if_needed()
    lab_page.wait_for_timeout(300)
    lab_page.screenshot(path=artifacts / "lab-liveloss-finished.png")

    lab_page.locator(".gw-liveloss button", has_text="log scale").click()
    wait_for(lab_page, LOG_AXIS)
    # a late viewer (a reload, the same kernel) builds the plot from the state sent now
    lab_page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    wait_for(lab_page, "() => !window.jupyterapp.shell.currentWidget.context.model.dirty")
    open_notebook(lab_page, lab, name)
    again = wait_for(lab_page, FINISHED_PLOT, arg=EPOCHS, timeout=60)
    assert again["traces"] == plot["traces"] and again["yaxis"] == "log"
    assert (lab.root / "runs" / "classifier" / "model.keras").is_file()

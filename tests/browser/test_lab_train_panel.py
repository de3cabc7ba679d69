"""JupyterLab: the TrainPanel's buttons steer a live run and the loss trace follows in the DOM.

Train -> the loss trace's point count grows; Pause -> the status says paused and the
count stays put; Resume -> it grows again; Stop -> the status says stopped, and the held-out share's ``val_loss`` is drawn at
each epoch's end. Points are
counted on the Plotly graph div inside ``.gw-loss-plot`` (what the browser draws), and
every button is a real click.
"""

from __future__ import annotations

import pytest

from .harness import open_notebook, run_all_cells, wait_for
from .lab_snippets import BUTTON_READY, LOSS_TRACE

pytestmark = pytest.mark.browser

CELLS = [
    "import genwidgets\n"
    "from genwidgets.training import Run\n"
    "from genwidgets.widgets import TrainPanel\n"
    'run = Run("ae", "digits", {"latent_dim": 2}, epochs=10_000, batch_size=32,\n'
    '          validation=0.1)\n'
    "TrainPanel(run)",
]
STABLE_MS = 1500  # how long a paused plot must keep its point count


STATUS = """() => {
  const el = document.querySelector('.gw-train-status');
  return el ? { state: el.dataset.state, step: Number(el.dataset.step) } : null;
}"""


def _fn(body: str) -> str:
    """A predicate over the loss trace and the status (``t`` and ``s``; either may be null)."""
    return f"""(arg) => {{
      const t = ({LOSS_TRACE})();
      const s = ({STATUS})();
      const ok = (() => {{ {body} }})();
      return ok ? {{ trace: t, status: s }} : false;
    }}"""


GROWS = _fn("return t && s && s.state === 'running' && t.n > arg;")
IN_STATE = _fn("return s && s.state === arg;")
# Paused: the plot has caught up with the status line (its last point is the status's
# step, give or take the decimation stride).
SETTLED = _fn("return t && s && s.state === arg && t.last > s.step - t.stride;")
# Resumed: the trace reaches past the paused step (its point count may drop when it
# thins out at max_points, so the last step is compared, not the count).
RESUMED = _fn("return t && s && s.state === 'running' && t.last > arg.last && s.step > arg.step;")


def click(page, name: str) -> None:
    wait_for(page, BUTTON_READY, arg=name)
    page.click(f".gw-train-panel button.gw-{name}")


def test_train_pause_resume_stop_in_lab(lab, lab_page, artifacts):
    name = "train_panel.ipynb"
    lab.write_notebook(name, CELLS)
    open_notebook(lab_page, lab, name)
    run_all_cells(lab_page, timeout=120)
    assert wait_for(lab_page, IN_STATE, arg="idle")["trace"] is None  # nothing drawn yet

    click(lab_page, "train")
    first = wait_for(lab_page, GROWS, arg=20, timeout=90)["trace"]
    later = wait_for(lab_page, GROWS, arg=first["n"])["trace"]
    assert later["n"] > first["n"] and later["paths"] >= 1
    lab_page.locator(".gw-train-panel").scroll_into_view_if_needed()
    lab_page.screenshot(path=artifacts / "lab-train-panel-running.png")

    click(lab_page, "pause")
    paused = wait_for(lab_page, SETTLED, arg="paused")
    lab_page.wait_for_timeout(STABLE_MS)  # the assertion: nothing arrives while paused
    still = wait_for(lab_page, IN_STATE, arg="paused")
    assert still["trace"]["n"] == paused["trace"]["n"], (paused, still)
    assert still["status"]["step"] == paused["status"]["step"], (paused, still)

    click(lab_page, "resume")
    resumed = wait_for(lab_page, RESUMED, arg={"last": paused["trace"]["last"],
                                               "step": paused["status"]["step"]})

    click(lab_page, "stop")
    stopped = wait_for(lab_page, SETTLED, arg="stopped")  # the plot catches up too
    assert stopped["status"]["step"] >= resumed["status"]["step"]
    assert "stopped at step" in lab_page.inner_text(".gw-train-status")
    assert wait_for(lab_page, BUTTON_READY, arg="train")  # Train again is offered
    lab_page.wait_for_timeout(500)  # let Plotly finish drawing before the picture
    assert stopped["trace"]["xmax"] >= stopped["trace"]["last"]  # the axis shows the end
    # validation=0.1: the held-out loss is drawn too, a point at each epoch's end
    val = lab_page.evaluate("""() => {
      const graph = document.querySelector('.gw-loss-plot .js-plotly-plot');
      const trace = graph.data.find((t) => t.name === 'val_loss');
      return trace ? Array.from(trace.x) : null;
    }""")
    assert val and len(val) >= 2 and val == sorted(val), val
    lab_page.screenshot(path=artifacts / "lab-train-panel-stopped.png")

"""JupyterLab: RunsTable lists two saved runs; ticking their boxes overlays both curves."""

from __future__ import annotations

import pytest

from .harness import open_notebook, run_all_cells, wait_for

pytestmark = pytest.mark.browser

CELLS = [
    "import genwidgets\n"
    "from genwidgets.training import train\n"
    "from genwidgets.widgets import RunsTable\n"
    'train("ae", "digits", {"latent_dim": 2}, epochs=3, batch_size=64, out="runs/ae-2d")\n'
    'train("vae", "digits", {"latent_dim": 2, "beta": 0.5}, epochs=3, batch_size=64,\n'
    '      out="runs/vae-beta")\n'
    'RunsTable("runs")',
]

TRACES = """(want) => {
  const graph = document.querySelector('.gw-runs-table .js-plotly-plot');
  if (!graph || !graph.data) return false;
  const names = graph.data.filter((t) => t.x && t.x.length > 10).map((t) => t.name).sort();
  const drawn = graph.querySelectorAll('.scatterlayer .trace path.js-line').length;
  return names.length === want && drawn === want ? names : false;
}"""

ROWS = """() => {
  const grid = document.querySelector('.gw-runs-grid');
  return grid && grid.innerText.includes('beta=0.5') ? grid.innerText : false;
}"""


def test_runs_table_overlays_ticked_runs_in_lab(lab, lab_page, artifacts):
    name = "runs_table.ipynb"
    lab.write_notebook(name, CELLS)
    open_notebook(lab_page, lab, name)
    run_all_cells(lab_page, timeout=180)
    text = wait_for(lab_page, ROWS, timeout=60)
    assert "ae-2d" in text and "vae-beta" in text and "latent_dim=2" in text
    for i in (0, 1):
        lab_page.click(f".gw-run-{i} input[type=checkbox]")
    names = wait_for(lab_page, TRACES, arg=2)
    assert names == ["ae-2d (ae)", "vae-beta (vae)"]
    lab_page.locator(".gw-runs-table").scroll_into_view_if_needed()
    lab_page.wait_for_timeout(300)
    lab_page.screenshot(path=artifacts / "lab-runs-table.png")

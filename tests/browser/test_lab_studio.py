"""JupyterLab: the Studio end to end with clicks: create a run, train it, explore it."""

from __future__ import annotations

import pytest

from .harness import open_notebook, run_all_cells, wait_for

pytestmark = pytest.mark.browser

CELLS = ["import genwidgets\n"
         "from genwidgets.widgets import Studio\n"
         "Studio(epochs=3, batch_size=32)"]

FINISHED = """() => {
  const el = document.querySelector('.gw-studio .gw-train-status');
  return el && el.dataset.state === 'finished' ? Number(el.dataset.step) : false;
}"""

MAP_POINTS = """() => {
  const graph = document.querySelector('.gw-studio .gw-latent-map .js-plotly-plot');
  if (!graph || !graph.data) return false;
  const n = graph.data.filter((t) => t.type !== 'heatmap')
                      .reduce((sum, t) => sum + (t.x ? t.x.length : 0), 0);
  return n > 1000 ? n : false;
}"""


def tab(page, title: str) -> None:
    page.click(f".gw-studio .lm-TabBar-tab:has-text('{title}')")


def test_studio_create_train_explore_in_lab(lab, lab_page, artifacts):
    lab.write_notebook("studio.ipynb", CELLS)
    open_notebook(lab_page, lab, "studio.ipynb")
    run_all_cells(lab_page, timeout=120)
    lab_page.wait_for_selector(".gw-studio .gw-field-latent_dim input")
    lab_page.fill(".gw-studio .gw-field-latent_dim input", "2")
    lab_page.press(".gw-studio .gw-field-latent_dim input", "Enter")
    lab_page.screenshot(path=artifacts / "studio-data-model.png")
    lab_page.click(".gw-studio button.gw-create-run")
    lab_page.wait_for_selector(".gw-studio .gw-train-panel button.gw-train:not([disabled])")
    lab_page.click(".gw-studio .gw-train-panel button.gw-train")
    assert wait_for(lab_page, FINISHED, timeout=120) == 3 * (1797 // 32)
    tab(lab_page, "Explore")
    assert wait_for(lab_page, MAP_POINTS, timeout=90) == 1797
    lab_page.wait_for_timeout(500)
    lab_page.screenshot(path=artifacts / "studio-explore.png", full_page=True)

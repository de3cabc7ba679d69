"""JupyterLab shows the PluginBrowser and a Plotly FigureWidget from a real kernel."""

from __future__ import annotations

import pytest

from .harness import open_notebook, run_all_cells, wait_for

pytestmark = pytest.mark.browser

N_POINTS = 25
CELLS = [
    "import genwidgets\n"
    "from genwidgets.widgets import PluginBrowser\n"
    "PluginBrowser()",
    "import plotly.graph_objects as go\n"
    f"xs = list(range({N_POINTS}))\n"
    "ys = [(7 * x) % 11 for x in xs]\n"
    "fig = go.FigureWidget(go.Scatter(x=xs, y=ys, mode='markers'))\n"
    "fig.update_layout(height=320, margin=dict(l=40, r=20, t=40, b=40),\n"
    f"                  title='{N_POINTS} known points')\n"
    "fig",
    "from genwidgets.registry import Registry\n"
    "\n"
    "def load_missing():\n"
    "    import genwidgets_torch_models  # not installed: the plugin fails on import\n"
    "\n"
    "registry = Registry(strict=False).discover()\n"
    "registry.add_plugin('torch_models', load_missing, 'genwidgets-torch-models', '0.3.1')\n"
    "PluginBrowser(registry)",
]

PLUGIN_NAMES = """() => {
  const root = document.querySelector('.gw-plugin-browser');
  if (!root) return false;
  const names = [...root.querySelectorAll('.gw-plugin-name')].map((e) => e.textContent.trim());
  return names.includes('ae') && names.includes('digits') ? names : false;
}"""

SCATTER_POINTS = """(n) => {
  const points = document.querySelectorAll('.scatterlayer .trace .points path');
  return points.length === n ? points.length : false;
}"""

FAILURE = """() => {
  const block = document.querySelector('.gw-plugin-failed');
  if (!block) return false;
  return {
    text: block.innerText,
    color: getComputedStyle(block.querySelector('.gw-plugin-error')).color,
    open: block.querySelector('details').open,
  };
}"""


def test_plugin_browser_and_figure_render_in_lab(lab, lab_page, artifacts):
    name = "plugin_browser.ipynb"
    lab.write_notebook(name, CELLS)
    open_notebook(lab_page, lab, name)
    run_all_cells(lab_page)

    names = wait_for(lab_page, PLUGIN_NAMES)
    assert {"ae", "digits"} <= set(names)
    assert wait_for(lab_page, SCATTER_POINTS, arg=N_POINTS) == N_POINTS

    failure = wait_for(lab_page, FAILURE)
    assert "torch_models" in failure["text"]
    assert "ModuleNotFoundError: No module named 'genwidgets_torch_models'" in failure["text"]
    assert failure["color"] == "rgb(176, 0, 32)"  # drawn in red
    assert failure["open"] is False  # traceback collapsed until asked for
    trace = lab_page.locator(".gw-plugin-failed details pre")
    assert not trace.is_visible()
    lab_page.locator(".gw-plugin-failed summary").click()
    assert "Traceback (most recent call last)" in trace.inner_text()
    lab_page.screenshot(path=artifacts / "lab-plugin-browser.png")

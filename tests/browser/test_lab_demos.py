"""JupyterLab: each demo notebook opens, runs with the small flag without an error output,
and its widgets render (one Lab session, the four demos in turn).

The copy put in Lab's root starts with ``%env GENWIDGETS_DEMO_SMALL=1`` (the server is
shared with the other browser tests, so the flag cannot come from its environment);
the rest of each notebook is the committed one.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from .harness import open_notebook, run_all_cells, wait_for
from .lab_snippets import DEMOS, IMAGE_SHOWN, PLOT_POINTS, STATE, TEXT_OF

pytestmark = [pytest.mark.browser, pytest.mark.slow]


LINES = """() => {
  const lists = Array.from(document.querySelectorAll('.gw-text-path-list'));
  const counts = lists.map((ol) => ol.querySelectorAll('li').length);
  return counts.length === 2 && counts.every((n) => n > 0) ? counts : false;
}"""


def copy_with_small_flag(lab, name: str) -> None:
    notebook = nbformat.read(DEMOS / name, as_version=4)
    notebook.cells.insert(0, nbformat.v4.new_code_cell("%env GENWIDGETS_DEMO_SMALL=1"))
    nbformat.write(notebook, lab.root / name)


def check_quickstart(page) -> None:
    assert wait_for(page, STATE, arg="finished") == 1
    assert wait_for(page, PLOT_POINTS, arg=".gw-latent-map", timeout=60) == 1797
    assert wait_for(page, IMAGE_SHOWN, arg="img.gw-interp-images")
    assert wait_for(page, IMAGE_SHOWN, arg=".gw-sample-grid img.gw-sample-images")
    caption = wait_for(page, TEXT_OF, arg=".gw-interp-where")
    assert "of 8" in caption


def check_text(page) -> None:
    assert wait_for(page, STATE, arg="finished") == 2
    assert wait_for(page, LINES) == [6, 6]
    samples = "() => document.querySelectorAll('.gw-sample-list ol.gw-sample-text li').length"
    assert wait_for(page, samples) == 5


def check_gan(page) -> None:
    assert wait_for(page, STATE, arg="finished") == 1
    assert wait_for(page, IMAGE_SHOWN, arg=".gw-sample-grid img.gw-sample-images")
    # the loss plot has both players' curves
    names = wait_for(page, """() => {
      const g = document.querySelector('.gw-loss-plot .js-plotly-plot');
      return g && g.data && g.data.map((t) => t.name).join(' ');
    }""")
    assert "d_loss" in names and "g_loss" in names


def check_plugin(page) -> None:
    assert "tinyae" in wait_for(page, TEXT_OF, arg=".gw-plugin-browser")
    page.click(".gw-studio .lm-TabBar-tab:has-text('Explore')")
    assert wait_for(page, PLOT_POINTS, arg=".gw-studio .gw-latent-map", timeout=60) == 1797
    assert page.locator(".gw-studio .gw-sample-grid").count() == 0


CHECKS = {
    "01_quickstart.ipynb": check_quickstart,
    "02_text.ipynb": check_text,
    "03_gan.ipynb": check_gan,
    "04_write_a_plugin.ipynb": check_plugin,
}


def test_every_demo_runs_in_lab_with_the_small_flag(lab, lab_page, artifacts):
    assert sorted(p.name for p in DEMOS.glob("*.ipynb")) == sorted(CHECKS)
    page = lab_page
    for name, check in CHECKS.items():
        copy_with_small_flag(lab, name)
        open_notebook(page, lab, name)
        run_all_cells(page, timeout=240)
        check(page)
        page.screenshot(path=artifacts / f"demo-{Path(name).stem}.png", full_page=True)
        lab.delete_sessions()

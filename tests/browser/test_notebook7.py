"""Jupyter Notebook 7 (the ``notebook`` package): the quickstart demo opens, its TrainPanel
trains when its Train button is clicked, and the latent map and strip render.

Notebook 7 is a JupyterLab-based app of its own (one document a page, its own URL
``/notebooks/NAME``), so it gets its own server here, not the suite's JupyterLab.
"""

from __future__ import annotations

import nbformat
import pytest

from .harness import _CELLS_DONE as CELLS_DONE
from .harness import NotebookServer, open_notebook, run_all_cells, wait_for
from .lab_snippets import BUTTON_READY, DEMOS, IMAGE_SHOWN, LOSS_TRACE, PLOT_POINTS, STATE, TEXT_OF

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# The loss trace once its last point has reached a step (the plot's updates are throttled
# and may arrive after the status line says finished).
PLOTTED_TO = f"""(step) => {{
  const t = ({LOSS_TRACE})();
  return t && t.last >= step ? t : false;
}}"""


@pytest.fixture(scope="module")
def notebook7(chromium, tmp_path_factory):
    pytest.importorskip("notebook", reason="Notebook 7 tests need the notebook package")
    server = NotebookServer(tmp_path_factory.mktemp("notebook7")).start()
    yield server
    server.stop()


def quickstart_waiting_for_train(server) -> str:
    """The quickstart demo with the small flag, its `run.start()` cell replaced by a wait
    for the run the person starts with the panel's Train button."""
    notebook = nbformat.read(DEMOS / "01_quickstart.ipynb", as_version=4)
    notebook.cells.insert(0, nbformat.v4.new_code_cell("%env GENWIDGETS_DEMO_SMALL=1"))
    code = [c for c in notebook.cells if c.cell_type == "code"]
    start = next(c for c in code if "run.start()" in c.source)
    start.source = start.source.replace("run.start()\n", "")
    first_run = code.index(start)
    name = "quickstart.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=code[:first_run],
                                            metadata=notebook.metadata), server.root / name)
    nbformat.write(nbformat.v4.new_notebook(cells=code[first_run:],
                                            metadata=notebook.metadata),
                   server.root / "after.ipynb")
    return name


def test_the_quickstart_trains_from_its_panel_in_notebook7(notebook7, browser_context,
                                                           artifacts):
    name = quickstart_waiting_for_train(notebook7)
    page = browser_context.new_page()
    try:
        open_notebook(page, notebook7, name)
        assert page.evaluate("() => window.jupyterapp.name") == "Jupyter Notebook"
        run_all_cells(page, timeout=120)  # the run and its TrainPanel, idle
        wait_for(page, BUTTON_READY, arg="train", timeout=60)
        page.click(".gw-train-panel button.gw-train")  # a person's click
        assert wait_for(page, STATE, arg="finished", timeout=120) == 1
        assert "168 steps" in wait_for(page, TEXT_OF, arg=".gw-train-status")
        # the plot catches up with the status line: its last point is near step 168
        assert wait_for(page, PLOTTED_TO, arg=160, timeout=60)["last"] >= 160
        page.screenshot(path=artifacts / "notebook7-quickstart-trained.png", full_page=True)

        # the rest of the demo (map, strip, sample grid) in the same kernel: appended cells
        rest = nbformat.read(notebook7.root / "after.ipynb", as_version=4)
        page.evaluate("""(sources) => {
          const app = window.jupyterapp;
          const notebook = app.shell.currentWidget.content;
          const first = notebook.model.cells.length;
          sources.forEach((source, i) => notebook.model.sharedModel.insertCell(
            first + i, { cell_type: 'code', source }));
          notebook.activeCellIndex = first;
          app.commands.execute('notebook:run-all-below');
        }""", [c.source for c in rest.cells])
        errors = wait_for(page, CELLS_DONE, timeout=180)["errors"]
        assert not errors, errors
        assert "finished" in wait_for(page, TEXT_OF, arg=".gw-train-status")
        assert wait_for(page, PLOT_POINTS, arg=".gw-latent-map", timeout=60) == 1797
        assert wait_for(page, IMAGE_SHOWN, arg="img.gw-interp-images")
        assert wait_for(page, IMAGE_SHOWN, arg=".gw-sample-grid img.gw-sample-images")
        page.screenshot(path=artifacts / "notebook7-quickstart-explore.png", full_page=True)
    except Exception:
        page.screenshot(path=artifacts / "notebook7-failure.png", full_page=True)
        raise
    finally:
        page.close()
        notebook7.delete_sessions()

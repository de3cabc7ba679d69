"""The app as a user meets it: `genwidgets studio` (Voila) in headless Chromium.

The real command serves the Studio (its runs folder does not exist yet); the page shows
the four tabs with the VAE on the digits ready to train; Train trains (the loss trace
grows), Stop stops; on the Explore tab a click on the map decodes the point. Closing the
tab shuts its kernel down. A reload mid-run is checked in JupyterLab, where the kernel
outlives the page (in the app a reload is a new kernel and a new Studio, by design): the
loss plot must show the points drawn before the reload, not its empty creation state.
"""

from __future__ import annotations

import re
import shutil

import pytest

from .harness import open_notebook, run_all_cells, wait_for
from .voila import StudioServer
from .studio_page import DECODED, MAP_POINTS, READY, click, when

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def studio_app(chromium, tmp_path_factory):
    base = tmp_path_factory.mktemp("studio-app")
    server = StudioServer(base, runs=base / "runs-not-made-yet").start()
    try:
        server.wait_quiet()  # the pre-heated kernel shows the Studio
        yield server
    finally:
        server.stop()


# Labels and buttons whose text does not fit (cut to "kl_anneal_s..." / "Crea...").
CLIPPED = """() => Array.from(document.querySelectorAll(
    '.gw-studio label, .gw-studio .widget-label, .gw-studio .gw-field-label,'
    + ' .gw-studio .gw-setting-label, .gw-studio button'))
  .filter((e) => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1)
  .map((e) => `${e.innerText}: ${e.scrollWidth} > ${e.clientWidth}`)"""


def screenshot(page, artifacts, name: str) -> None:
    page.screenshot(path=artifacts / name)


def test_the_app_trains_stops_and_decodes_a_click(studio_app, app_page, artifacts,
                                                 blocked_requests):
    page = app_page
    console: list[str] = []
    page.on("console", lambda msg: console.append(f"{msg.type}: {msg.text}"))
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(studio_app.url)
    wait_for(page, READY, timeout=60)
    assert not [u for u in blocked_requests if "fontawesome" in u]  # no CDN: all local
    log = studio_app.log()
    for noise in ("DeprecationWarning", "is not trusted", "running over TCP"):
        assert noise not in log, noise
    tabs = page.locator(".gw-studio .lm-TabBar-tab").all_inner_texts()
    assert [t.strip() for t in tabs] == ["Data & Model", "Train", "Explore", "Plugins"]
    assert "vae on digits" in page.inner_text(".gw-train-devices")
    assert studio_app.runs.is_dir()  # the command made the runs folder

    click(page, "train")
    when(page, "t.state === 'running' && t.n >= 20", timeout=90)  # the loss trace grows
    click(page, "stop")
    stopped = when(page, "t.state === 'stopped' && t.last > t.step - t.stride")
    assert 20 <= stopped["step"] < 250 * 28 and stopped["n"] >= 20  # 250 epochs by default
    page.wait_for_timeout(1500)
    assert when(page, "true")["step"] == stopped["step"]  # Stop stopped
    screenshot(page, artifacts, "voila-studio-train.png")
    assert page.evaluate(CLIPPED) == []  # the settings' names are not cut
    page.click(".gw-studio .lm-TabBar-tab:has-text('Data & Model')")
    assert page.evaluate(CLIPPED) == []
    fields = page.evaluate("() => Array.from(document.querySelectorAll("
                           "'.gw-studio .gw-config-grid .gw-field-label')).map(e => e.innerText)")
    assert "kl_anneal_steps" in fields and "word_dropout" not in fields  # images only
    assert page.locator(".gw-studio .gw-field-help").first.inner_text()  # help shown
    page.click(".gw-studio .lm-TabBar-tab:has-text('Train')")

    page.click(".gw-studio .lm-TabBar-tab:has-text('Explore')")
    assert wait_for(page, MAP_POINTS, timeout=90) == 1797
    point = page.locator(".gw-studio .gw-latent-map .scatterlayer .trace path.point").nth(100)
    box = point.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    assert re.fullmatch(r"\d+", wait_for(page, DECODED, timeout=30))
    page.wait_for_timeout(300)
    screenshot(page, artifacts, "voila-studio-explore.png")
    assert page.evaluate(CLIPPED) == []
    assert not [m for m in console if "Error setting state" in m]
    if shutil.os.environ.get("GENWIDGETS_DOC_IMAGES"):  # refresh the README's pictures
        for name in ("voila-studio-train.png", "voila-studio-explore.png"):
            shutil.copy(artifacts / name, shutil.os.environ["GENWIDGETS_DOC_IMAGES"])


def test_closing_the_tab_shuts_its_kernel_down(studio_app, browser_context):
    page = browser_context.new_page()
    kernel_ids: list[str] = []
    page.on("websocket", lambda ws: kernel_ids.extend(
        re.findall(r"/api/kernels/([0-9a-f-]+)/channels", ws.url)))
    page.goto(studio_app.url)
    wait_for(page, READY, timeout=60)
    kernel = studio_app.kernel(kernel_ids[0])
    assert kernel is not None and kernel.is_running()
    page.close(run_before_unload=True)
    kernel.wait(timeout=30)  # raises if the kernel outlives its page


LAB_CELLS = ["import genwidgets\n"
             "from genwidgets.training import Run\n"
             "from genwidgets.widgets import TrainPanel\n"
             'run = Run("ae", "digits", {"latent_dim": 2}, epochs=1_000, batch_size=32)\n'
             "TrainPanel(run)"]


def test_a_reload_mid_run_shows_the_points_drawn_so_far(lab, lab_page):
    page = lab_page
    lab.write_notebook("reload.ipynb", LAB_CELLS)
    open_notebook(page, lab, "reload.ipynb")
    run_all_cells(page, timeout=120)
    click(page, "train")
    when(page, "t.state === 'running' && t.n >= 30", timeout=90)
    click(page, "pause")  # the plot catches up and stays: no redraw can hide a stale view
    before = when(page, "t.state === 'paused' && t.last > t.step - t.stride")
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    wait_for(page, "() => !window.jupyterapp.shell.currentWidget.context.model.dirty")
    open_notebook(page, lab, "reload.ipynb")  # a fresh page on the same kernel
    after = when(page, "t.state === 'paused' && t.n > 0", timeout=60)
    assert (after["n"], after["last"], after["step"]) == (
        before["n"], before["last"], before["step"])
    click(page, "resume")  # and it is live again
    when(page, "t.state === 'running' && t.last > arg", arg=before["last"], timeout=60)
    click(page, "stop")
    when(page, "t.state === 'stopped'")

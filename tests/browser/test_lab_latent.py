"""JupyterLab: walk a latent space with real clicks.

Images: click "set A", click a point of one digit, then a point of another (the map's
own points, found in Plotly's SVG); the strip shows N decoded images and the map the
path; the slider's keys move the large image; the timeline slider replays the map at a
saved epoch (every point moves, none is lost) and the health line says how many units are
active; a click on empty space decodes that spot. After a reload the map still shows its
points and the path. Text: type two sentences; the path lists N lines.
"""

from __future__ import annotations

import pytest

from .harness import open_notebook, run_all_cells, wait_for
from .lab_snippets import DETAILS, FAR_PAIR, MAP, STRIP

pytestmark = pytest.mark.browser

STEPS = 8
IMAGE_CELLS = [
    "import genwidgets\n"
    "import ipywidgets as W\n"
    "from genwidgets.latent import LatentSnapshots\n"
    "from genwidgets.training import Run\n"
    "from genwidgets.widgets import InterpolationStrip, LatentMap\n"
    'run = Run("vae", "digits", {"latent_dim": 2, "hidden": 256, "depth": 3, "dropout": 0.0},\n'
    '          epochs=15, batch_size=32, out="runs/vae-2d")\n'
    "LatentSnapshots.attach(run)  # the latents at epochs 0 to 15, for the timeline\n"
    "run.start().wait()",
    'latent_map = LatentMap("runs/vae-2d", width=560, height=470)\n'
    f"strip = InterpolationStrip(latent_map.source, latent_map=latent_map, steps={STEPS})\n"
    "box = W.VBox([latent_map, strip])\n"
    'box.add_class("gw-latent-demo")\n'
    "box",
]
TEXT_CELLS = [
    "import genwidgets\n"
    "from genwidgets.latent import LatentSource\n"
    "from genwidgets.training import train\n"
    "from genwidgets.widgets import TextPath\n"
    'run = train("vae", "python_docs", {"latent_dim": 8, "rnn_units": 32, "embed_dim": 16},\n'
    '            epochs=1, batch_size=32, data_options={"seq_len": 40})\n'
    f"TextPath(LatentSource.from_run(run), steps={STEPS})",
]


PLOT_AREA = """() => {
  const r = document.querySelector('.gw-latent-map .nsewdrag').getBoundingClientRect();
  return { x: r.x, y: r.y, width: r.width, height: r.height };
}"""

# Where the browser draws the points (Plotly's data for each label's trace), the epoch the
# timeline shows and the health line.
TIMELINE = """() => {
  const graph = document.querySelector('.gw-latent-map .js-plotly-plot');
  const label = document.querySelector('.gw-map-epoch [data-epoch]');
  const health = document.querySelector('.gw-map-health .gw-health-line');
  if (!graph || !graph.data || !label || !health) return null;
  const xs = [];
  let points = 0;
  for (const t of graph.data) {
    if (!/^[0-9]$/.test(t.name)) continue;
    xs.push(...Array.from(t.x).slice(0, 5));
    points += t.x.length;
  }
  for (const el of graph.querySelectorAll('.scatterlayer .trace')) {
    const name = el.__data__ && el.__data__[0].trace.name;
    if (/^[0-9]$/.test(name)) points -= el.querySelectorAll('path.point').length;
  }
  return { epoch: label.dataset.epoch, xs, undrawn: points,
           drawn: graph.querySelectorAll('.scatterlayer path.point').length,
           health: health.innerText, active: health.dataset.active,
           shown: getComputedStyle(document.querySelector('.gw-map-timeline')).display };
}"""


TEXT_LINES = """(steps) => {
  const lines = document.querySelectorAll('.gw-text-path-list li.gw-path-line');
  return lines.length === steps ? Array.from(lines).map((li) => li.innerText) : false;
}"""


def test_click_two_points_and_walk_between_them_in_lab(lab, lab_page, artifacts):
    page = lab_page
    lab.write_notebook("latent_map.ipynb", IMAGE_CELLS)
    open_notebook(page, lab, "latent_map.ipynb")
    run_all_cells(page, timeout=180)
    drawn = wait_for(page, f"() => {{ const m = ({MAP})(); return m && m.points === 1797 && m; }}",
                     timeout=60)
    assert drawn["path"] == 0

    page.set_viewport_size({"width": 1280, "height": 1250})  # the map and strip together
    page.evaluate("() => window.jupyterapp.commands.execute('application:toggle-left-area')")
    wait_for(page, "() => window.jupyterapp.shell.leftCollapsed")
    page.evaluate("() => document.querySelector('.gw-latent-demo').scrollIntoView()")
    page.click(".gw-map-mode button:has-text('set A')")
    a, b = wait_for(page, FAR_PAIR)
    page.mouse.click(a["x"], a["y"])
    assert "clicked: item" in wait_for(page, DETAILS, arg="clicked")
    wait_for(page, f"() => {{ const m = ({MAP})(); return m && m.path === 1 && "
             "document.querySelector('.gw-map-mode button.mod-active').innerText === 'set B'; }")
    page.mouse.move(b["x"], b["y"])  # as a hand does: over the point, then the click
    assert "hover: item" in wait_for(page, DETAILS, arg="hover")
    page.mouse.click(b["x"], b["y"])
    strip = wait_for(page, STRIP, arg=STEPS)
    assert strip["ratio"] == pytest.approx((STEPS * 9 + 1) / 10, rel=0.01)  # N in a row
    assert strip["position"] == 0
    path = wait_for(page, f"(n) => {{ const m = ({MAP})(); return m && m.path === n && m; }}",
                    arg=STEPS)
    assert path["text"][0] == "A" and path["text"][-1] == "B"
    ends = path["ends"]  # A and B are the two clicked points, apart on the map
    assert abs(ends[0][0] - ends[1][0]) + abs(ends[0][1] - ends[1][1]) > 0.5, (a, b, ends)

    page.focus(".gw-interp-position .noUi-handle")
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    moved = wait_for(page, "(s) => { const r = (" + STRIP + ")(s); "
                     "return r && r.position === 3 && r; }", arg=STEPS)
    assert moved["large"] != strip["large"]
    page.mouse.move(5, 5)  # no hover label over B in the picture
    page.wait_for_timeout(400)  # let Plotly finish drawing before the picture
    page.locator(".gw-latent-demo").screenshot(path=artifacts / "lab-latent-map.png")

    # The timeline: "now" at first; Home replays epoch 0 in the same basis, then 5.
    now = wait_for(page, f"() => {{ const t = ({TIMELINE})(); return t && t.epoch === 'now' "
                   "&& t; }")
    assert now["shown"] != "none" and "active units" in now["health"]
    assert now["health"].startswith("health: active units") and now["active"] in ("1", "2")
    page.focus(".gw-map-timeline .noUi-handle")
    page.keyboard.press("Home")
    # the label and the figure are separate widgets: wait until the points have moved too
    moved_to = (f"([epoch, xs]) => {{ const t = ({TIMELINE})(); return t && t.epoch === epoch "
                "&& t.undrawn === 0 && t.xs.some((x, i) => x !== xs[i]) && t; }")
    start = wait_for(page, moved_to, arg=["0", now["xs"]], timeout=60)
    assert start["drawn"] == now["drawn"]  # every point moved to epoch 0's place, none lost
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    later = wait_for(page, moved_to, arg=["5", start["xs"]], timeout=60)
    assert later["drawn"] == now["drawn"]
    page.mouse.move(5, 5)
    page.wait_for_timeout(400)
    page.locator(".gw-latent-demo").screenshot(path=artifacts / "lab-latent-timeline.png")

    area = wait_for(page, PLOT_AREA)  # a click on empty space (a corner) decodes that spot
    page.mouse.click(area["x"] + 0.03 * area["width"], area["y"] + 0.03 * area["height"])
    assert "clicked empty space" in wait_for(page, DETAILS, arg="space")

    # A late viewer (a reload) builds the figure from the kernel's state: the map must
    # hold every point and the path, not the empty path it was created with.
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    wait_for(page, "() => !window.jupyterapp.shell.currentWidget.context.model.dirty")
    open_notebook(page, lab, "latent_map.ipynb")
    wait_for(page, f"(n) => {{ const m = ({MAP})(); return m && m.points === 1797 && "
             "m.path === n && m; }", arg=STEPS, timeout=60)


def test_type_two_sentences_and_read_the_path_in_lab(lab, lab_page, artifacts):
    page = lab_page
    lab.write_notebook("text_path.ipynb", TEXT_CELLS)
    open_notebook(page, lab, "text_path.ipynb")
    run_all_cells(page, timeout=180)
    page.fill(".gw-text-path-a input", "The list is sorted in place.")
    page.press(".gw-text-path-a input", "Enter")
    page.fill(".gw-text-path-b input", "A new object is returned.")
    page.press(".gw-text-path-b input", "Enter")
    lines = wait_for(page, TEXT_LINES, arg=STEPS)
    assert lines[0].endswith("A")  # the endpoint tag, then the word edits from the line before
    assert lines[-1].split(" · ")[0].endswith("B")
    page.locator(".gw-text-path").scroll_into_view_if_needed()
    page.locator(".gw-text-path").screenshot(path=artifacts / "lab-text-path.png")

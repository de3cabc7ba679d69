"""JupyterLab: keras.io's VAE, pasted into a notebook and trained on the digits, opened with
``LatentMap.from_keras`` beside a strip and a sample grid; real clicks walk from one digit
to another, Resample draws again.

The first cell is ``tests/keras_io_vae.py`` as it stands (what a user copies from
keras.io, adapted to Keras 3 on JAX and 8x8 digits); the map shows every digit, the health
line the KL that ``z_log_var`` gives, the note says which output was read so.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .harness import open_notebook, run_all_cells, wait_for
from .lab_snippets import DETAILS, FAR_PAIR, MAP, STRIP

pytestmark = pytest.mark.browser

STEPS = 8
EXAMPLE = (Path(__file__).resolve().parents[1] / "keras_io_vae.py").read_text(encoding="utf-8")
CELLS = [
    "import genwidgets  # Keras on JAX\n" + EXAMPLE,
    "from genwidgets.data import load_digits\n"
    "digits = load_digits()\n"
    "vae.fit(digits.x, epochs=10, batch_size=64, verbose=0)",
    "import ipywidgets as W\n"
    "from genwidgets.widgets import InterpolationStrip, LatentMap, SampleGrid\n"
    "latent_map = LatentMap.from_keras(encoder, decoder, digits.x, labels=digits.y,\n"
    "                                  label_names=digits.info.label_names,\n"
    '                                  data_name="digits", width=560, height=470)\n'
    f"strip = InterpolationStrip(latent_map.source, latent_map=latent_map, steps={STEPS})\n"
    "grid = SampleGrid(latent_map.source, n=36, width=200)\n"
    "box = W.VBox([latent_map, W.HBox([strip, grid])])\n"
    'box.add_class("gw-keras-demo")\n'
    "box",
]

HEALTH_AND_NOTE = """() => {
  const health = document.querySelector('.gw-map-health .gw-health-line');
  const note = document.querySelector('.gw-latent-map .gw-source-note');
  return health && note ? { health: health.innerText, note: note.innerText } : false;
}"""

GRID = """(before) => {
  const img = document.querySelector('img.gw-sample-images');
  return img && img.naturalWidth && img.src !== before ? img.src : false;
}"""


def test_keras_io_vae_in_the_map_the_strip_and_a_sample_grid_in_lab(lab, lab_page, artifacts):
    page = lab_page
    lab.write_notebook("from_keras.ipynb", CELLS)
    open_notebook(page, lab, "from_keras.ipynb")
    run_all_cells(page, timeout=300)
    wait_for(page, f"() => {{ const m = ({MAP})(); return m && m.points === 1797 && m; }}",
             timeout=60)
    said = wait_for(page, HEALTH_AND_NOTE)
    assert said["health"].startswith("health: active units") and "nats" in said["health"]
    assert "z_log_var" in said["note"] and "log-variance" in said["note"]
    first_grid = wait_for(page, GRID, arg="")

    page.set_viewport_size({"width": 1280, "height": 1250})
    page.evaluate("() => window.jupyterapp.commands.execute('application:toggle-left-area')")
    wait_for(page, "() => window.jupyterapp.shell.leftCollapsed")
    page.evaluate("() => document.querySelector('.gw-keras-demo').scrollIntoView()")
    page.click(".gw-map-mode button:has-text('set A')")
    a, b = wait_for(page, FAR_PAIR)
    page.mouse.click(a["x"], a["y"])
    assert "clicked: item" in wait_for(page, DETAILS, arg="clicked")
    page.mouse.move(b["x"], b["y"])
    page.mouse.click(b["x"], b["y"])
    strip = wait_for(page, STRIP, arg=STEPS)
    assert strip["ratio"] == pytest.approx((STEPS * 9 + 1) / 10, rel=0.01)  # N in a row
    path = wait_for(page, f"(n) => {{ const m = ({MAP})(); return m && m.path === n && m; }}",
                    arg=STEPS)
    assert path["text"][0] == "A" and path["text"][-1] == "B"

    page.click(".gw-sample-resample")
    assert wait_for(page, GRID, arg=first_grid) != first_grid  # a new draw
    page.mouse.move(5, 5)  # no hover label in the picture
    page.wait_for_timeout(400)  # let Plotly finish drawing before the picture
    page.locator(".gw-keras-demo").screenshot(path=artifacts / "lab-from-keras.png")

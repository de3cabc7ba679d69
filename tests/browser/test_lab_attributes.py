"""JupyterLab: attribute vectors on a latent map, with real clicks and a real box drag.

A VAE on the digits, its map and an AttributeStrip. "from" label 1, "to" label 7, make
direction: it is listed. A click on a 1 of the map: the strip shows nine decoded images
(alpha -2 .. +2) and the large one follows the alpha slider's keys. Then Plotly's box
select (the map's toolbar) and two drags: each kept as a group, a direction made from
them, listed beside the first and applied to the same point.
"""

from __future__ import annotations

import pytest

from .harness import open_notebook, run_all_cells, wait_for

pytestmark = pytest.mark.browser

CELLS = [
    "import genwidgets\n"
    "import ipywidgets as W\n"
    "from genwidgets.training import train\n"
    "from genwidgets.widgets import AttributeStrip, LatentMap\n"
    'run = train("vae", "digits", {"latent_dim": 2, "hidden": 128}, epochs=10,\n'
    '            batch_size=32, out="runs/vae-attr")',
    'latent_map = LatentMap(run, width=520, height=440)\n'
    "strip = AttributeStrip(latent_map)\n"
    "box = W.VBox([latent_map, strip])\n"
    'box.add_class("gw-attr-demo")\n'
    "box",
]

# The middle point of the trace of label ``name`` on the map, where the page draws it.
POINT_OF = """(name) => {
  const graph = document.querySelector('.gw-latent-map .js-plotly-plot');
  for (const el of graph.querySelectorAll('.scatterlayer .trace')) {
    if (!el.__data__ || el.__data__[0].trace.name !== name) continue;
    const boxes = Array.from(el.querySelectorAll('path.point')).map((p) => {
      const b = p.getBoundingClientRect();
      return { x: b.x + b.width / 2, y: b.y + b.height / 2 };
    });
    if (!boxes.length) return null;
    const mx = boxes.reduce((s, b) => s + b.x, 0) / boxes.length;
    const my = boxes.reduce((s, b) => s + b.y, 0) / boxes.length;
    const d = (b) => (b.x - mx) ** 2 + (b.y - my) ** 2;
    return boxes.reduce((best, b) => (d(b) < d(best) ? b : best));
  }
  return null;
}"""

PLOT_AREA = """() => {
  const r = document.querySelector('.gw-latent-map .nsewdrag').getBoundingClientRect();
  return { x: r.x, y: r.y, width: r.width, height: r.height };
}"""

# What the strip shows: the saved directions, the strip picture, the large one's alpha.
STRIP = """() => {
  const saved = document.querySelector('.gw-attr-saved .gw-attr-list');
  const img = document.querySelector('img.gw-attr-strip');
  const large = document.querySelector('img.gw-attr-large');
  const where = document.querySelector('.gw-attr-caption .gw-attr-where');
  const keep = document.querySelector('.gw-attr-keep');
  return { saved: saved ? Number(saved.dataset.count) : 0,
           names: saved ? saved.innerText : '',
           ratio: img && img.naturalWidth > 1 ? img.naturalWidth / img.naturalHeight : 0,
           large: large && large.naturalWidth > 1 ? large.src : null,
           alpha: where ? where.dataset.alpha : null,
           keep: keep ? keep.innerText.trim() : null, keepOff: keep ? keep.disabled : null,
           error: document.querySelector('.gw-attr-error').innerText };
}"""


def drag(page, area, x0, y0, x1, y1):
    """Drag a box over the plot area between the fractions (x0, y0) and (x1, y1)."""
    page.mouse.move(area["x"] + x0 * area["width"], area["y"] + y0 * area["height"])
    page.mouse.down()
    page.mouse.move(area["x"] + x1 * area["width"], area["y"] + y1 * area["height"],
                    steps=12)
    page.mouse.up()


def test_a_direction_from_labels_and_from_box_selections_moves_a_clicked_digit(
        lab, lab_page, artifacts):
    page = lab_page
    lab.write_notebook("attributes.ipynb", CELLS)
    open_notebook(page, lab, "attributes.ipynb")
    run_all_cells(page, timeout=180)
    wait_for(page, "() => document.querySelectorAll('.gw-latent-map path.point').length > 1000",
             timeout=90)
    page.set_viewport_size({"width": 1280, "height": 1300})
    page.evaluate("() => window.jupyterapp.commands.execute('application:toggle-left-area')")
    wait_for(page, "() => window.jupyterapp.shell.leftCollapsed")
    page.evaluate("() => document.querySelector('.gw-attr-demo').scrollIntoView()")

    # From labels: 1 -> 7, then a click on a 1.
    page.select_option(".gw-attr-start select", label="label 1")
    page.select_option(".gw-attr-to select", label="label 7")
    page.click(".gw-attr-make")
    made = wait_for(page, f"() => {{ const s = ({STRIP})(); return s.saved === 1 && s; }}")
    assert "1 → 7" in made["names"] and not made["error"], made
    one = wait_for(page, POINT_OF, arg="1")
    page.mouse.move(one["x"], one["y"])
    page.mouse.click(one["x"], one["y"])
    shown = wait_for(page, f"() => {{ const s = ({STRIP})(); return s.ratio > 0 && "
                     "s.alpha === '1' && s.large && s; }", timeout=30)
    assert shown["ratio"] == pytest.approx((9 * 9 + 1) / 10, rel=0.01)  # nine 8x8 digits
    page.focus(".gw-attr-alpha .noUi-handle")
    page.keyboard.press("End")  # alpha +2
    moved = wait_for(page, f"() => {{ const s = ({STRIP})(); return s.alpha === '2' && s; }}")
    assert moved["large"] != shown["large"]
    page.mouse.move(5, 5)
    page.wait_for_timeout(400)
    page.locator(".gw-attr-demo").screenshot(path=artifacts / "lab-attribute-labels.png")

    # From two box selections: the toolbar's box select, two drags, each kept.
    page.locator(".gw-latent-map .js-plotly-plot").hover()
    page.locator(".gw-latent-map .modebar-btn[data-val='select']").click()
    wait_for(page, "() => document.querySelector('.gw-latent-map .js-plotly-plot')"
             "._fullLayout.dragmode === 'select'")
    area = wait_for(page, PLOT_AREA)
    drag(page, area, 0.05, 0.05, 0.45, 0.95)
    left = wait_for(page, f"() => {{ const s = ({STRIP})(); return !s.keepOff && "
                    "/keep selection \\(\\d+\\)/.test(s.keep) && s; }", timeout=30)
    page.click(".gw-attr-keep")
    drag(page, area, 0.55, 0.05, 0.95, 0.95)
    right = wait_for(page, f"(before) => {{ const s = ({STRIP})(); return !s.keepOff && "
                     "s.keep !== before && s; }", arg=left["keep"], timeout=30)
    page.click(".gw-attr-keep")
    wait_for(page, "() => document.querySelectorAll('.gw-attr-to option').length >= 12")
    options = page.eval_on_selector_all(  # ipywidgets writes spaces as no-break spaces
        ".gw-attr-to option", "els => els.map(e => e.innerText.replace(/\u00a0/g, ' '))")
    kept = [o for o in options if o.startswith("selection ")]
    assert len(kept) == 2, options
    page.select_option(".gw-attr-start select", label=kept[0])
    page.select_option(".gw-attr-to select", label=kept[1])
    page.click(".gw-attr-make")
    both = wait_for(page, f"() => {{ const s = ({STRIP})(); return s.saved === 2 && s; }}")
    assert "selection 1" in both["names"] and not both["error"], (both, right)
    page.mouse.move(5, 5)
    page.wait_for_timeout(400)
    page.locator(".gw-attr-demo").screenshot(path=artifacts / "lab-attribute-selections.png")

"""What the browser tests of the Studio app (Voila) read and do on its page: JS snippets
that read what the page shows, and the steps a person takes (tabs, rows, Train's buttons,
a hover then a click on the map)."""

from __future__ import annotations

from .harness import wait_for

READY = """() => {
  const train = document.querySelector('.gw-studio .gw-train-panel button.gw-train');
  const plot = document.querySelector('.gw-studio .gw-loss-plot .js-plotly-plot');
  return !!train && !train.disabled && !!plot && !!plot.data;
}"""


# The "loss" trace as the browser holds it, and the status line's state and step.
LOSS = """() => {
  const graph = document.querySelector('.gw-loss-plot .js-plotly-plot');
  const trace = graph && graph.data && graph.data.find((t) => t.name === 'loss');
  const el = document.querySelector('.gw-train-status');
  if (!el) return null;
  const x = trace && trace.x ? Array.from(trace.x) : [];
  return { n: x.length, last: x.length ? x[x.length - 1] : 0,
           stride: x.length > 1 ? x[1] - x[0] : 1,
           state: el.dataset.state, step: Number(el.dataset.step) };
}"""


MAP_POINTS = """() => {
  const graph = document.querySelector('.gw-studio .gw-latent-map .js-plotly-plot');
  if (!graph) return false;
  const n = graph.querySelectorAll('.scatterlayer .trace path.point').length;
  return n > 1000 ? n : false;
}"""


DECODED = """() => {
  const d = document.querySelector('.gw-studio .gw-map-details [data-kind="clicked"]');
  const img = document.querySelector('.gw-studio img.gw-map-decoded');
  return d && img && img.naturalWidth > 1 ? d.dataset.index : false;
}"""



def when(page, body: str, arg=None, timeout: float = 60.0):
    """Wait until ``body`` (JS over ``t``, the loss state, and ``arg``) holds; return ``t``."""
    return wait_for(page, f"(arg) => {{ const t = ({LOSS})(); return t && ({body}) && t; }}",
                    arg=arg, timeout=timeout)



def click(page, name: str) -> None:
    page.wait_for_selector(f".gw-train-panel button.gw-{name}:not([disabled])")
    page.click(f".gw-train-panel button.gw-{name}")


# Two sentences' points far apart along the map's x axis (10% and 90% of the way along,
# not the outermost), inside the plot area.
PAIR = """() => {
  const graph = document.querySelector('.gw-studio .gw-latent-map .js-plotly-plot');
  const area = graph.querySelector('.nsewdrag').getBoundingClientRect();
  const boxes = [];
  for (const el of graph.querySelectorAll('.scatterlayer .trace')) {
    const name = el.__data__ && el.__data__[0].trace.name;
    if (name === 'path' || name === 'selected') continue;
    for (const p of el.querySelectorAll('path.point')) {
      const b = p.getBoundingClientRect();
      const x = b.x + b.width / 2, y = b.y + b.height / 2;
      if (x > area.left + 4 && x < area.right - 4 && y > area.top + 4 && y < area.bottom - 4)
        boxes.push({ x, y });
    }
  }
  boxes.sort((p, q) => p.x - q.x);
  const at = (f) => boxes[Math.floor(f * (boxes.length - 1))];
  return boxes.length > 10 ? [at(0.1), at(0.9)] : null;
}"""


# The item the panel beside the map shows as ``kind`` (hover, clicked), if not ``other``.
DETAILS = """([kind, other]) => {
  const el = document.querySelector('.gw-studio .gw-map-details [data-kind]');
  return el && el.dataset.kind === kind && el.dataset.index !== other ? el.dataset.index
    : false;
}"""



def tab(page, title: str) -> None:
    page.click(f".gw-studio .lm-TabBar-tab:has-text('{title}')")
    page.wait_for_selector(f".gw-studio .lm-TabBar-tab.lm-mod-current:has-text('{title}')")



def row(page, label: str, what: str):
    """The ``what`` (select, input) of the ipywidgets row labelled ``label``."""
    return page.locator(f".gw-studio .widget-inline-hbox:has(> label:text-is('{label}')) {what}")



def pick(page, at: dict, other: str | None) -> str:
    """Point at ``at`` until the panel beside the map shows the hovered sentence (another
    than ``other``), then click it, as a hand does; the clicked item's index."""
    page.mouse.move(at["x"], at["y"])
    hovered = wait_for(page, DETAILS, arg=["hover", other], timeout=30)
    page.mouse.click(at["x"], at["y"])
    assert wait_for(page, DETAILS, arg=["clicked", other], timeout=30) == hovered
    return hovered

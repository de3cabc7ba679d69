"""JS snippets the JupyterLab browser tests share: what the page shows of a latent map,
a strip, the demos' views and the train panel."""

from __future__ import annotations

from pathlib import Path

# The map as the browser holds it: data points drawn, and the path trace's data.
MAP = """() => {
  const graph = document.querySelector('.gw-latent-map .js-plotly-plot');
  if (!graph || !graph.data) return null;
  const path = graph.data.find((t) => t.name === 'path');
  let points = 0;
  for (const el of graph.querySelectorAll('.scatterlayer .trace')) {
    const name = el.__data__ && el.__data__[0].trace.name;
    if (name !== 'path' && name !== 'selected') points += el.querySelectorAll('path.point').length;
  }
  return { points,
           path: path && path.x ? Array.from(path.x).length : 0,
           text: path && path.text ? Array.from(path.text) : [],
           ends: path && path.x && path.x.length ? [[path.x[0], path.y[0]],
             [path.x[path.x.length - 1], path.y[path.y.length - 1]]] : [] };
}"""


# For each label's trace the point nearest its middle; of those, the two farthest apart
# (a walk from one digit to a quite different one).
FAR_PAIR = """() => {
  const graph = document.querySelector('.gw-latent-map .js-plotly-plot');
  const middles = [];
  for (const el of graph.querySelectorAll('.scatterlayer .trace')) {
    const name = el.__data__ && el.__data__[0].trace.name;
    const boxes = Array.from(el.querySelectorAll('path.point')).map((p) => {
      const b = p.getBoundingClientRect();
      return { x: b.x + b.width / 2, y: b.y + b.height / 2 };
    });
    if (!/^[0-9]$/.test(name) || !boxes.length) continue;
    const mx = boxes.reduce((s, b) => s + b.x, 0) / boxes.length;
    const my = boxes.reduce((s, b) => s + b.y, 0) / boxes.length;
    const d = (b) => (b.x - mx) ** 2 + (b.y - my) ** 2;
    middles.push({ name, ...boxes.reduce((best, b) => (d(b) < d(best) ? b : best)) });
  }
  let pair = null, far = -1;
  for (const p of middles) for (const q of middles) {
    const d = (p.x - q.x) ** 2 + (p.y - q.y) ** 2;
    if (d > far) { far = d; pair = [p, q]; }
  }
  return pair;
}"""


DETAILS = """(kind) => {
  const el = document.querySelector('.gw-map-details [data-kind]');
  return el && el.dataset.kind === kind ? el.innerText : false;
}"""


STRIP = """(steps) => {
  const img = document.querySelector('img.gw-interp-images');
  const where = document.querySelector('.gw-interp-where');
  if (!img || !where || !img.naturalWidth || Number(where.dataset.steps) !== steps) return false;
  return { ratio: img.naturalWidth / img.naturalHeight, position: Number(where.dataset.position),
           large: document.querySelector('img.gw-interp-large').src };
}"""


DEMOS = Path(__file__).resolve().parents[2] / "demos"


PLOT_POINTS = """(selector) => {
  const graph = document.querySelector(selector + ' .js-plotly-plot');
  if (!graph || !graph.data) return false;
  let n = 0;  // the data's points, not the path's or the selected spot's
  for (const el of graph.querySelectorAll('.scatterlayer .trace')) {
    const name = el.__data__ && el.__data__[0].trace.name;
    if (name !== 'path' && name !== 'selected') n += el.querySelectorAll('path.point').length;
  }
  return n > 0 ? n : false;
}"""


IMAGE_SHOWN = """(selector) => {
  const img = document.querySelector(selector);
  return !!img && img.naturalWidth > 1;
}"""


STATE = """(state) => {
  const all = Array.from(document.querySelectorAll('.gw-train-status'));
  return all.length > 0 && all.every((el) => el.dataset.state === state) ? all.length : false;
}"""


TEXT_OF = """(selector) => {
  const el = document.querySelector(selector);
  return el ? el.innerText : false;
}"""


# The "loss" trace as the browser holds it: point count, stride between points, last step.
LOSS_TRACE = """() => {
  const graph = document.querySelector('.gw-loss-plot .js-plotly-plot');
  const trace = graph && graph.data && graph.data.find((t) => t.name === 'loss');
  if (!trace || !trace.x) return null;
  const x = Array.from(trace.x);
  return { n: x.length, stride: x.length > 1 ? x[1] - x[0] : 1, last: x[x.length - 1],
           paths: graph.querySelectorAll('.scatterlayer .trace path.js-line').length,
           xmax: graph._fullLayout.xaxis.range[1] };
}"""


BUTTON_READY = """(name) => {
  const b = document.querySelector('.gw-train-panel button.gw-' + name);
  return !!b && !b.disabled;
}"""

"""How fast the Studio answers in the browser: a user's action to the changed pixels.

    python benchmarks/ui_latency.py [--repeats 20] [--quick]

Starts the real command (`genwidgets studio`, Voila on 127.0.0.1, stopped by its process
id) and drives it from headless Chromium as a user does. Each figure is measured in the
page's own clock: a MutationObserver is set up (``page.evaluate``) before the action; the
time starts when the action's event is dispatched (a capture listener on the window sees
the ``click`` / ``mouseup`` / ``pointerup`` first) and ends when the node the user looks at
has changed (``performance.now()`` in the observer's callback):

- ``train_to_first_point_ms``: Train pressed to the first loss point drawn (the loss
  trace in the plot's SVG); repeat 0 is the app's own run (the process's first compile,
  also reported as ``train_to_first_point_cold_ms``), each later repeat a new run made by
  Create run. The VAE on the digits; the last run trains ``--train-steps`` steps.
- ``map_click_ms``: a point of the latent map clicked (after hovering it, as a hand
  does) to its decoded image (``img.gw-map-decoded``).
- ``path_ms``: B picked on the map (A picked before) to the strip of the path drawn
  (``img.gw-interp-images``).
- ``slider_ms``: the strip's steps slider dragged and released to the new strip.
- ``text_click_ms``: the WordNet ``sentences`` with the text VAE, one epoch of it
  stopped after ``--text-steps`` steps: a sentence's point clicked to its decoded
  sentence (``.gw-map-decoded``). A click whose decoded sentence is the one shown before
  changes no pixel there; it is timed to the panel's "clicked" line instead and counted
  in ``text_click_same_sentence``.

Every figure gets ``--repeats`` repeats (20; 5 with ``--quick``, which also trains less),
each on a different point. Prints JSON lines; the last is the headline with ``*_p50`` and
``*_p90`` in ms per figure, the goals (map click, path and slider p50 <= 150 ms, text click
p50 <= 300 ms), ``*_goal_met`` for each, and the load average (the machine is shared).
The data are built in (digits, sentences): nothing to download.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.browser.harness import launch_chromium  # noqa: E402
from tests.browser.voila import StudioServer  # noqa: E402

GOALS_MS = {"map_click_ms": 150, "path_ms": 150, "slider_ms": 150, "text_click_ms": 300}
HOVER_REST_MS = 300  # a hand rests on a point a moment before it clicks
SETTLE_MS = 500  # after a measurement, before the next action

READY = """() => {
  const train = document.querySelector('.gw-studio .gw-train-panel button.gw-train');
  const plot = document.querySelector('.gw-studio .gw-loss-plot .js-plotly-plot');
  return !!train && !train.disabled && !!plot && !!plot.data;
}"""
STATUS = """() => {
  const el = document.querySelector('.gw-studio .gw-train-status');
  return el ? { state: el.dataset.state, step: Number(el.dataset.step) } : null;
}"""
MAP_READY = """(min) => {
  const graph = document.querySelector('.gw-studio .gw-latent-map .js-plotly-plot');
  return !!graph && graph.querySelectorAll('.scatterlayer .trace path.point').length >= min;
}"""
# ``n`` points of the map's data traces (not the path, not the marker), inside the plot
# area, spread evenly along x: their centres in the page.
POINTS = """(n) => {
  const graph = document.querySelector('.gw-studio .gw-latent-map .js-plotly-plot');
  const area = graph.querySelector('.nsewdrag').getBoundingClientRect();
  const found = [];
  for (const el of graph.querySelectorAll('.scatterlayer .trace')) {
    const name = el.__data__ && el.__data__[0].trace.name;
    if (name === 'path' || name === 'selected') continue;
    for (const p of el.querySelectorAll('path.point')) {
      const b = p.getBoundingClientRect();
      const x = b.x + b.width / 2, y = b.y + b.height / 2;
      if (x > area.left + 6 && x < area.right - 6 && y > area.top + 6 && y < area.bottom - 6)
        found.push({ x, y });
    }
  }
  found.sort((p, q) => p.x - q.x || p.y - q.y);
  const out = [];
  for (let k = 0; k < n; k++)
    out.push(found[Math.floor((0.03 + 0.94 * k / Math.max(n - 1, 1)) * (found.length - 1))]);
  return found.length >= n ? out : null;
}"""
DETAILS = """(kind) => {
  const el = document.querySelector('.gw-studio .gw-map-details [data-kind]');
  return el && el.dataset.kind === kind ? el.dataset.index : false;
}"""
MODE = """() => {
  const b = document.querySelector('.gw-studio .gw-map-mode button.mod-active');
  return b ? b.innerText.trim() : null;
}"""
# Every websocket frame the page sends or receives, with its time (performance.now()) and
# size: where a measured interval goes (see ``breakdown``).
FRAMES = """(() => {
  const frames = window.__gwFrames = [];
  const size = (d) => typeof d === 'string' ? d.length : (d.byteLength || d.size || 0);
  const proto = WebSocket.prototype;
  const send = proto.send;
  proto.send = function (data) {
    frames.push(['out', performance.now(), size(data)]);
    return send.call(this, data);
  };
  const tasks = window.__gwTasks = [];  // the page's long tasks (> 50 ms of main thread)
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) tasks.push([e.startTime, e.duration]);
  }).observe({ type: 'longtask', buffered: true });
  const onmessage = Object.getOwnPropertyDescriptor(proto, 'onmessage');
  Object.defineProperty(proto, 'onmessage', {
    configurable: true, get: onmessage.get,
    set(handler) {
      onmessage.set.call(this, handler && ((e) => {
        frames.push(['in', performance.now(), size(e.data)]);
        return handler.call(this, e);
      }));
    },
  });
})();"""
# Where the measured interval went: the page's first frame out after the action, the
# kernel's first reply, the last frame in before the view changed, and the page's long
# tasks then (read a moment later: the browser reports a long task after it ends).
BREAKDOWN = """({ start, end, frameMark }) => {
  const result = {};
  const frames = (window.__gwFrames || []).slice(frameMark)
    .filter(([, t]) => t >= start && t <= end);
  const out = frames.filter(([d]) => d === 'out'), got = frames.filter(([d]) => d === 'in');
  if (out.length) result.sent_ms = out[0][1] - start;
  const reply = out.length ? got.filter(([, t]) => t >= out[0][1]) : [];
  if (reply.length) {
    result.first_reply_ms = reply[0][1] - start;
    result.last_frame_ms = reply[reply.length - 1][1] - start;
    result.frames_in = reply.length;
    result.bytes_in = reply.reduce((n, f) => n + f[2], 0);
  }
  const busy = (window.__gwTasks || []).filter(([t, d]) => t + d > start && t < end);
  result.long_tasks_ms = busy.map(([t, d]) => Math.round(Math.min(t + d, end) - Math.max(t, start)));
  result.busy_ms = result.long_tasks_ms.reduce((a, b) => a + b, 0);
  return result;
}"""
SRC = """(selector) => { const el = document.querySelector(selector); return el ? el.src : null; }"""

# Arm a measurement: the first of ``events`` dispatched on the window starts the clock;
# the observer on ``root`` stops it once the probe ``kind`` says the view changed.
# window.__gwDone resolves to {ms, ...} (or {timeout: true}).
ARM = """({ kind, root, target, events, timeoutMs }) => {
  const rootEl = document.querySelector(root);
  const q = (s) => document.querySelector(s);
  const probes = {
    src: () => { const el = q(target); return el ? el.src : null; },
    loss: () => {
      const graph = q('.gw-studio .gw-loss-plot .js-plotly-plot');
      const trace = graph && graph.data && graph.data.find((t) => t.name === 'loss');
      const drawn = graph ? graph.querySelectorAll('.scatterlayer .trace').length : 0;
      return trace && trace.x && trace.x.length && drawn ? trace.x.length : 0;
    },
    text: () => {
      const d = q('.gw-studio .gw-map-details [data-kind]');
      const out = q(target);
      return { kind: d ? d.dataset.kind : null, index: d ? d.dataset.index : null,
               text: out ? out.innerText : null };
    },
  };
  const before = probes[kind]();
  const frameMark = (window.__gwFrames || []).length;
  let start = null, changedAt = null, observer = null;
  const onEvent = () => { if (start === null) start = performance.now(); };
  for (const type of events) window.addEventListener(type, onEvent, { capture: true });
  const cleanup = () => {
    for (const type of events) window.removeEventListener(type, onEvent, { capture: true });
    if (observer) observer.disconnect();
  };
  window.__gwDone = new Promise((resolve) => {
    const finish = (result) => {
      cleanup();
      if (start !== null && result.ms !== undefined)
        Object.assign(result, { start, end: start + result.ms, frameMark });
      resolve(result);
    };
    const timer = setTimeout(() => finish({ timeout: true, started: start !== null }),
                             timeoutMs);
    observer = new MutationObserver(() => {
      if (start === null) return;
      const now = performance.now();
      const value = probes[kind]();
      if (kind === 'src' && value && value !== before) {
        clearTimeout(timer); finish({ ms: now - start });
      } else if (kind === 'loss' && value > 0) {
        clearTimeout(timer); finish({ ms: now - start, points: value });
      } else if (kind === 'text') {
        if (changedAt === null && value.text !== before.text) changedAt = now;
        const clicked = value.kind === 'clicked' &&
          (value.index !== before.index || before.kind !== 'clicked');
        if (clicked) {
          clearTimeout(timer);
          finish(changedAt !== null ? { ms: changedAt - start, sentence: value.text }
                 : { ms: now - start, same: true, sentence: value.text });
        }
      }
    });
    observer.observe(rootEl, { subtree: true, childList: true, attributes: true,
                               characterData: true });
  });
  return true;
}"""


def load_average() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


def quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


def emit(record: dict) -> None:
    print(json.dumps(record), flush=True)


class Session:
    """One page of the app, and the user's moves on it."""

    def __init__(self, page, timeout_s: float = 15.0):
        self.page, self.timeout_ms = page, int(timeout_s * 1000)

    def wait(self, expression: str, arg=None, timeout: float = 60.0):
        handle = self.page.wait_for_function(expression, arg=arg, polling=100,
                                             timeout=timeout * 1000)
        return handle.json_value()

    def measure(self, kind: str, action, *, root: str, target: str | None = None,
                events=("mouseup", "pointerup")) -> dict:
        """Arm the observer, do ``action()``, wait for the view to change: its record."""
        self.page.evaluate(ARM, {"kind": kind, "root": root, "target": target,
                                 "events": list(events), "timeoutMs": self.timeout_ms})
        action()
        record = self.page.evaluate("() => window.__gwDone")
        self.page.wait_for_timeout(SETTLE_MS)  # the action's last messages; late reports
        if "start" in record:
            record |= self.page.evaluate(BREAKDOWN, record)
            for key in ("start", "end", "frameMark"):
                record.pop(key)
        return record

    def tab(self, title: str) -> None:
        self.page.click(f".gw-studio .lm-TabBar-tab:has-text('{title}')")
        self.page.wait_for_selector(
            f".gw-studio .lm-TabBar-tab.lm-mod-current:has-text('{title}')")

    def choose(self, label: str, value: str) -> None:
        self.page.locator(f".gw-studio .widget-inline-hbox:has(> label:text-is('{label}')) "
                          f"select").select_option(value)

    def fill(self, label: str, value: str) -> None:
        box = self.page.locator(f".gw-studio .widget-inline-hbox:has(> label:text-is("
                                f"'{label}')) input")
        box.fill(value)
        box.press("Enter")

    def status(self) -> dict:
        return self.page.evaluate(STATUS)

    def create_run(self, name: str) -> None:
        """Create run on the Data & Model tab; wait for the Train tab of the run ``name``."""
        self.tab("Data & Model")
        old = self.page.inner_text(".gw-studio .gw-studio-message")
        self.page.click(".gw-studio button.gw-create-run")
        self.wait("""([old, name]) => {
          const m = document.querySelector('.gw-studio .gw-studio-message');
          const d = document.querySelector('.gw-studio .gw-train-devices');
          return m && m.innerText !== old && m.innerText.includes('run created') &&
            d && d.innerText.includes(name); }""", arg=[old, name], timeout=120)
        self.wait(READY, timeout=60)

    def train_first_point(self) -> dict:
        """Press Train: the time to the first loss point drawn."""
        button = ".gw-studio .gw-train-panel button.gw-train"
        return self.measure("loss", lambda: self.page.click(button),
                            root=".gw-studio .gw-train-panel", events=("click",))

    def train_until(self, steps: int, seconds: float) -> dict:
        """Let the run train up to ``steps`` steps or ``seconds``, then Stop."""
        until = time.monotonic() + seconds
        while time.monotonic() < until:
            status = self.status()
            if status["state"] not in ("compiling", "running") or status["step"] >= steps:
                break
            self.page.wait_for_timeout(250)
        if self.status()["state"] in ("compiling", "running", "paused"):
            self.page.click(".gw-studio .gw-train-panel button.gw-stop")
        return self.wait(f"() => {{ const s = ({STATUS})(); return s && "
                         "['stopped', 'finished', 'failed'].includes(s.state) && s; }",
                         timeout=60)

    def open_map(self, min_points: int) -> None:
        self.tab("Explore")
        self.wait(MAP_READY, arg=min_points, timeout=180)
        self.page.locator(".gw-studio .gw-latent-map").scroll_into_view_if_needed()
        self.page.wait_for_timeout(500)  # Plotly settles its first draw

    def hover(self, at: dict) -> str | None:
        """Point at ``at`` until the panel beside the map shows the hovered item, and rest
        there a moment (``HOVER_REST_MS``) as a hand does before it clicks."""
        self.page.mouse.move(at["x"], at["y"])
        try:
            return self.wait(DETAILS, arg="hover", timeout=10)
        except Exception:  # a spot where Plotly finds no point: the click decodes space
            return None
        finally:
            self.page.wait_for_timeout(HOVER_REST_MS)

    def click_at(self, at: dict):
        return lambda: self.page.mouse.click(at["x"], at["y"])

    def set_mode(self, text: str) -> None:
        self.page.click(f".gw-studio .gw-map-mode button:has-text('{text}')")
        self.wait(f"(t) => ({MODE})() === t", arg=text, timeout=15)

    def drag_steps(self, value: int):
        """A drag of the strip's steps slider's handle to ``value`` (min 2, max 32)."""
        handle = self.page.locator(".gw-studio .gw-interp-steps .noUi-handle")
        base = self.page.locator(".gw-studio .gw-interp-steps .noUi-base").bounding_box()
        low, high = (float(handle.get_attribute(k)) for k in ("aria-valuemin",
                                                               "aria-valuemax"))
        box = handle.bounding_box()
        x0, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        x1 = base["x"] + (value - low) / (high - low) * base["width"]

        def drag():
            self.page.mouse.move(x0, y)
            self.page.mouse.down()
            self.page.mouse.move(x1, y, steps=4)
            self.page.mouse.up()
        return drag


PARTS = ("sent_ms", "first_reply_ms", "last_frame_ms", "busy_ms")


def rounded(record: dict) -> dict:
    return {k: round(v, 1) if isinstance(v, float) else v for k, v in record.items()}


def summary(name: str, records: list[dict]) -> dict:
    """p50 and p90 of one figure; its line also says where the median time went: the
    action to the page's first websocket frame out (``sent_ms``), to the kernel's first
    reply (``first_reply_ms``), to the last frame before the view changed
    (``last_frame_ms``), and how much of the interval the page's main thread spent in
    long tasks (``busy_ms``: over 50 ms each, e.g. Plotly redrawing the map), during
    which frames that have come wait to be handled."""
    times = [r["ms"] for r in records if "ms" in r and not r.get("same")]
    out = {f"{name}_p50": quantile(times, 0.5), f"{name}_p90": quantile(times, 0.9),
           f"{name}_n": len(times), f"{name}_timeouts": sum(1 for r in records if r.get("timeout"))}
    parts = {f"{part}_p50": quantile([r[part] for r in records if part in r], 0.5)
             for part in PARTS}
    emit({"figure": name, **out, **parts,
          "all_ms": [round(r["ms"], 1) for r in records if "ms" in r]})
    return out


def bench_train(s: Session, repeats: int, train_steps: int, train_s: float) -> tuple[dict, float]:
    records = []
    for i in range(repeats):
        if i:
            s.create_run("vae on digits")
        record = s.train_first_point()
        records.append(record)
        emit({"train_to_first_point": i, **rounded(record), "load_avg": load_average()})
        last = i == repeats - 1
        s.train_until(train_steps if last else 0, train_s if last else 0)
    out = summary("train_to_first_point_ms", records)
    return out, records[0].get("ms")


def bench_map_click(s: Session, repeats: int) -> dict:
    points = s.wait(POINTS, arg=repeats, timeout=30)
    records = []
    for i, at in enumerate(points):
        s.hover(at)
        record = s.measure("src", s.click_at(at), root=".gw-studio .gw-latent-map",
                           target=".gw-studio img.gw-map-decoded")
        records.append(record)
        emit({"map_click": i, **rounded(record)})
    return summary("map_click_ms", records)


def bench_path(s: Session, repeats: int) -> dict:
    points = s.wait(POINTS, arg=2 * repeats, timeout=30)
    strip = ".gw-studio img.gw-interp-images"
    records = []
    for i in range(repeats):
        a, b = points[i], points[repeats + i]  # far apart along the map
        s.set_mode("set A")
        before = s.page.evaluate(SRC, strip)
        s.hover(a)
        s.click_at(a)()
        s.wait("() => document.querySelector('.gw-studio .gw-map-mode button.mod-active')"
               ".innerText.trim() === 'set B'", timeout=15)
        if i:  # B was set already: A's click redraws the strip; let it land first
            s.wait(f"(before) => ({SRC})('{strip}') !== before", arg=before, timeout=15)
        s.hover(b)
        record = s.measure("src", s.click_at(b), root=".gw-studio .gw-interpolation-strip",
                           target=strip)
        records.append(record)
        emit({"path": i, **rounded(record)})
    return summary("path_ms", records)


def bench_slider(s: Session, repeats: int) -> dict:
    s.page.locator(".gw-studio .gw-interp-steps").scroll_into_view_if_needed()
    cycle = [12, 6, 16, 8, 10, 14]
    records = []
    for i in range(repeats):
        value = cycle[i % len(cycle)]
        record = s.measure("src", s.drag_steps(value),
                           root=".gw-studio .gw-interpolation-strip",
                           target=".gw-studio img.gw-interp-images")
        shown = s.page.inner_text(".gw-studio .gw-interp-steps .widget-readout").strip()
        records.append(record)
        emit({"slider": i, "to": value, "shown": shown, **rounded(record)})
        s.wait("(v) => document.querySelector('.gw-studio .gw-interp-where')?.dataset.steps"
               " === v", arg=shown, timeout=15)  # the position caption caught up too
    return summary("slider_ms", records)


def bench_text(s: Session, repeats: int, steps: int, seconds: float) -> tuple[dict, dict]:
    s.tab("Data & Model")
    s.choose("data", "sentences")
    s.choose("model", "vae")
    s.fill("epochs", "1")
    s.page.wait_for_timeout(500)  # the form follows the data (the text defaults)
    s.create_run("vae on sentences")
    first = s.train_first_point()
    emit({"text_train_to_first_point": 0, **rounded(first)})
    trained = s.train_until(steps, seconds)
    emit({"text_trained": trained})
    s.open_map(1000)
    points = s.wait(POINTS, arg=repeats, timeout=30)
    order = [points[k // 2] if k % 2 == 0 else points[-1 - k // 2] for k in range(repeats)]
    records = []
    for i, at in enumerate(order):  # alternately from the left and the right of the map
        s.hover(at)
        record = s.measure("text", s.click_at(at), root=".gw-studio .gw-latent-map",
                           target=".gw-studio .gw-map-decoded")
        records.append(record)
        emit({"text_click": i, **rounded(record)})
    out = summary("text_click_ms", records)
    out["text_click_same_sentence"] = sum(1 for r in records if r.get("same"))
    return out, first


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=None,
                        help="repeats of each figure (default 20; 5 with --quick)")
    parser.add_argument("--quick", action="store_true",
                        help="5 repeats and shorter training: a smoke run of the benchmark")
    args = parser.parse_args()
    if args.repeats is not None and args.repeats < 1:
        sys.exit(f"ui_latency: expected --repeats >= 1. Received: --repeats {args.repeats}")
    repeats = args.repeats if args.repeats is not None else (5 if args.quick else 20)
    train_steps, train_s = (150, 10.0) if args.quick else (400, 25.0)
    text_steps, text_s = (60, 20.0) if args.quick else (200, 40.0)
    from playwright.sync_api import sync_playwright

    started = time.monotonic()
    headline: dict = {}
    with tempfile.TemporaryDirectory(prefix="ui-latency-") as tmp:
        server = StudioServer(Path(tmp)).start()
        try:
            server.wait_quiet()  # the pre-heated kernel shows the Studio
            with sync_playwright() as playwright:
                context = launch_chromium(playwright, Path(tmp) / "profile")
                context.set_default_timeout(120_000)
                context.add_init_script(FRAMES)
                page = context.new_page()
                page.on("console", lambda m: m.type == "error" and print(
                    f"console: {m.text}", file=sys.stderr))
                page.on("pageerror", lambda e: print(f"pageerror: {e}", file=sys.stderr))
                page.set_viewport_size({"width": 1400, "height": 1400})
                s = Session(page)
                page.goto(server.url)
                s.wait(READY, timeout=120)
                emit({"model": "vae", "data": "digits", "repeats": repeats,
                      "quick": args.quick, "load_avg": load_average()})
                train, cold = bench_train(s, repeats, train_steps, train_s)
                headline |= train
                headline["train_to_first_point_cold_ms"] = round(cold, 1) if cold else None
                s.open_map(1000)
                headline |= bench_map_click(s, repeats)
                headline |= bench_path(s, repeats)
                headline |= bench_slider(s, repeats)
                text, text_first = bench_text(s, repeats, text_steps, text_s)
                headline |= text
                headline["text_train_to_first_point_ms"] = (
                    round(text_first["ms"], 1) if "ms" in text_first else None)
                context.close()
        finally:
            server.stop()
    for name, goal in GOALS_MS.items():
        p50 = headline.get(f"{name}_p50")
        headline[f"{name}_goal_met"] = p50 is not None and p50 <= goal
    emit({**headline, "goals_ms_p50": GOALS_MS, "repeats": repeats, "quick": args.quick,
          "wall_s": round(time.monotonic() - started, 1), "load_avg": load_average()})


if __name__ == "__main__":
    main()

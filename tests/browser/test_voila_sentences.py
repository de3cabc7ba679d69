"""A new user's text walk in the app: `genwidgets studio` (Voila) in headless Chromium.

On Data & Model: the WordNet ``sentences`` and the model ``ae`` (the form shows the text
defaults), one epoch, Create run. Train trains (the loss trace grows) until 250 steps have
run (about a minute on 2 busy cores; a bound in steps, not seconds, so a slow machine
does not judge a less trained model), then Stop. On Explore: "set A", a click on one
sentence's point of the latent map, a click on another's; the TextPath lists the path's
sentences (several different lines of words) with A's and B's marks (does each decode to
itself: ✓ or ✗). The Studio offers no data limit field, so the whole dataset is used.
"""

from __future__ import annotations

import re
import shutil
import sys
import time
from pathlib import Path

import pytest

from .harness import wait_for
from .voila import StudioServer
from .studio_page import PAIR, READY, click, pick, row, tab, when

pytestmark = pytest.mark.browser

STEPS = 8  # the Studio's TextPath walks 8 steps, A and B included
ENOUGH_STEPS, TRAIN_S = 250, 240.0  # steps; the most seconds they may take
SHOTS = Path("/tmp/shots")

# What the Data & Model tab holds: the two choices, epochs, the ae's form and data fields.
SETUP = """() => {
  const root = document.querySelector('.gw-studio');
  const pick = (label, what) => {
    for (const row of root.querySelectorAll('.widget-inline-hbox')) {
      const l = row.querySelector(':scope > label');
      if (l && l.innerText.trim() === label) return row.querySelector(what);
    }
    return null;
  };
  const field = (name) => {
    const el = root.querySelector(`.gw-field-${name} input`);
    return el ? el.value : null;
  };
  const shown = Array.from(root.querySelectorAll('.gw-data-fields > .widget-hbox'))
    .filter((r) => getComputedStyle(r).display !== 'none')
    .map((r) => Array.from(r.classList).find((c) => c.startsWith('gw-data-')));
  return { model: pick('model', 'select')?.value, data: pick('data', 'select')?.value,
           epochs: pick('epochs', 'input')?.value, latent_dim: field('latent_dim'),
           hidden: field('hidden'), embed_dim: field('embed_dim'),
           latent_noise: field('latent_noise'), shown };
}"""
# The map's points (sentences) as drawn, and the path trace as the browser holds it.
MAP = """() => {
  const graph = document.querySelector('.gw-studio .gw-latent-map .js-plotly-plot');
  if (!graph || !graph.data) return null;
  const path = graph.data.find((t) => t.name === 'path');
  let points = 0;
  for (const el of graph.querySelectorAll('.scatterlayer .trace')) {
    const name = el.__data__ && el.__data__[0].trace.name;
    if (name !== 'path' && name !== 'selected') points += el.querySelectorAll('path.point').length;
  }
  const mode = document.querySelector('.gw-studio .gw-map-mode button.mod-active');
  return { points, path: path && path.x ? Array.from(path.x).length : 0,
           mode: mode ? mode.innerText.trim() : null };
}"""
# The TextPath once it shows ``steps`` lines: each line's sentence, A's and B's marks.
PATH = """(steps) => {
  const root = document.querySelector('.gw-studio .gw-text-path');
  if (!root) return false;
  const lines = root.querySelectorAll('.gw-text-path-lines li.gw-path-line');
  const mark = (end) => {
    const el = root.querySelector(`.gw-text-path-${end} .gw-end-mark`);
    return el ? { exact: el.dataset.exact, text: el.innerText.trim() } : null;
  };
  const a = mark('end-a'), b = mark('end-b');
  if (lines.length !== steps || !a || !b) return false;
  return { lines: Array.from(lines).map((li) => li.querySelector('code').innerText.trim()),
           ends: Array.from(lines).map((li) => li.querySelector('b')?.innerText || ''),
           a, b, note: root.querySelector('.gw-text-path-note').innerText,
           boxes: [root.querySelector('.gw-text-path-a input').value,
                   root.querySelector('.gw-text-path-b input').value] };
}"""


@pytest.fixture(scope="module")
def studio_app(chromium, tmp_path_factory):
    base = tmp_path_factory.mktemp("studio-sentences")
    server = StudioServer(base).start()
    try:
        server.wait_quiet()  # the pre-heated kernel shows the Studio
        yield server
    finally:
        server.stop()


def test_a_new_user_walks_between_two_sentences_in_the_app(studio_app, app_page, artifacts):
    page = app_page
    started = time.monotonic()
    page.goto(studio_app.url)
    wait_for(page, READY, timeout=60)

    # Data & Model: the WordNet sentences, the ae, one epoch.
    tab(page, "Data & Model")
    row(page, "data", "select").select_option("sentences")
    row(page, "model", "select").select_option("ae")
    # as a person does: the form has shown the sentences' defaults before epochs is typed
    wait_for(page, f"() => {{ const s = ({SETUP})(); return s.model === 'ae' && "
             "s.data === 'sentences' && s.latent_noise === '0.1' && s; }")
    row(page, "epochs", "input").fill("1")
    row(page, "epochs", "input").press("Enter")
    setup = wait_for(page, f"() => {{ const s = ({SETUP})(); return s.model === 'ae' && "
                     "s.data === 'sentences' && s.latent_noise === '0.1' && "
                     "s.epochs === '1' && s; }")
    # the ae's text defaults (images: latent_dim 2, hidden 256, embed_dim 32, no noise)
    assert (setup["latent_dim"], setup["hidden"], setup["embed_dim"]) == ("384", "192", "128")
    assert setup["shown"] == ["gw-data-tokens"]  # the sentences take no path and no limit
    assert setup["epochs"] == "1"
    page.screenshot(path=artifacts / "voila-sentences-data.png")

    page.click(".gw-studio button.gw-create-run")
    wait_for(page, """() => {
      const d = document.querySelector('.gw-studio .gw-train-devices');
      return d && d.innerText.includes('ae on sentences') &&
        document.querySelector('.gw-studio .lm-TabBar-tab.lm-mod-current').innerText
          .trim() === 'Train'; }""", timeout=60)
    wait_for(page, READY, timeout=30)
    made = page.inner_text(".gw-studio .gw-studio-message")  # the app's first run was vae-digits
    assert "run created" in made and "/ae-sentences-" in made, made

    # Train: until the plot shows points and 250 steps ran; then Stop.
    click(page, "train")
    when(page, "t.state === 'running' && t.n > 0", timeout=120)  # compiled, plotting
    trained = when(page, "t.n > 0 && (t.step >= arg.steps || t.state !== 'running' || "
                   "Date.now() > arg.until)",
                   arg={"steps": ENOUGH_STEPS, "until": time.time() * 1000 + TRAIN_S * 1000},
                   timeout=TRAIN_S + 30)
    if trained["state"] == "running":
        click(page, "stop")
        trained = when(page, "t.state === 'stopped' && t.last > t.step - t.stride")
    assert trained["state"] in ("stopped", "finished"), trained
    assert trained["n"] >= 5 and trained["step"] >= ENOUGH_STEPS, trained
    page.screenshot(path=artifacts / "voila-sentences-train.png")

    # Explore: the latent map of the sentences, then A and B picked on it.
    page.set_viewport_size({"width": 1280, "height": 1500})  # the map and the path together
    tab(page, "Explore")
    drawn = wait_for(page, f"() => {{ const m = ({MAP})(); return m && m.points >= 1000 && m; }}",
                     timeout=90)
    assert drawn["path"] == 0 and drawn["mode"] == "decode"
    page.locator(".gw-studio .gw-latent-map").scroll_into_view_if_needed()
    page.click(".gw-studio .gw-map-mode button:has-text('set A')")
    wait_for(page, f"() => ({MAP})().mode === 'set A'")
    a, b = wait_for(page, PAIR)
    first = pick(page, a, None)  # A, then the mode moves on to "set B"
    wait_for(page, f"() => {{ const m = ({MAP})(); return m.path === 1 && m.mode === 'set B'; }}",
             timeout=30)
    pick(page, b, first)  # then B: the path is drawn
    shown = wait_for(page, PATH, arg=STEPS, timeout=30)
    wait_for(page, f"(n) => ({MAP})().path === n", arg=STEPS)  # the path drawn on the map

    lines = shown["lines"]
    words = [line for line in lines if len(re.findall(r"[A-Za-z]{2,}", line)) >= 2]
    assert len(set(words)) >= 3, shown  # several different sentences of real words
    assert shown["ends"][0] == "A" and shown["ends"][-1] == "B", shown
    assert all(shown["boxes"]), shown  # A and B hold the picked sentences
    for name, mark in (("A", shown["a"]), ("B", shown["b"])):
        assert mark["exact"] in ("1", "0"), shown  # a sentence, not a spot of the map
        assert mark["text"].startswith(("✓", "✗")) and f" {name} " in mark["text"], shown
    assert f"in {STEPS} steps" in shown["note"], shown

    page.mouse.move(5, 5)  # no hover label in the picture
    page.wait_for_timeout(400)  # let Plotly finish drawing the path before the picture
    page.evaluate("() => window.scrollTo(0, 0)")
    page.screenshot(path=artifacts / "voila-sentences-path.png", full_page=True)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(artifacts / "voila-sentences-path.png", SHOTS / "voila-sentences-path.png")
    print(f"walk took {time.monotonic() - started:.0f} s; trained {trained['step']} steps; "
          f"path: {lines}; A: {shown['a']['text']}; B: {shown['b']['text']}",
          file=sys.stderr)

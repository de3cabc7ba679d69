"""TensorBoard itself (on 127.0.0.1) shows an exported run: its scalar cards and the
projector with the run's latent snapshots, in headless Chromium."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import genwidgets

from .harness import free_port, wait_for

pytestmark = pytest.mark.browser
pytest.importorskip("tensorboard")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    base = tmp_path_factory.mktemp("tb-pages")
    proc = genwidgets("train", "--model", "vae", "--data", "digits", "--epochs", "2",
                      "--batch-size", "32", "--out", str(base / "run"), "--set", "latent_dim=4",
                      "--data-opt", "limit=256", "--quiet", "--tensorboard")
    assert proc.returncode == 0, proc.stderr
    proc = genwidgets("export", "--tensorboard", str(base / "run"), "--logdir", str(base / "tb"))
    assert proc.returncode == 0, proc.stderr
    return base / "tb"


@pytest.fixture(scope="module")
def tensorboard_url(exported):
    port = free_port()
    log = exported.parent / "tensorboard.log"
    command = [str(Path(sys.executable).with_name("tensorboard")), "--logdir", str(exported),
               "--host", "127.0.0.1", "--port", str(port)]
    with open(log, "wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                tags = json.loads(urllib.request.urlopen(url + "data/plugin/scalars/tags",
                                                         timeout=2).read())
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"TensorBoard did not answer:\n{log.read_text()}")
                time.sleep(0.2)
        assert "batch/loss" in tags["."] and "epoch/loss" in tags["."]
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # its own session: only what it started
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)


@pytest.fixture
def page(browser_context):
    page = browser_context.new_page()
    yield page
    page.close()


def test_scalars_page_shows_every_loss_part(page, tensorboard_url, artifacts):
    page.goto(tensorboard_url + "#timeseries")
    titles = wait_for(page, """() => {
      const cards = Array.from(document.querySelectorAll('scalar-card'));
      const drawn = cards.filter((c) => c.querySelector('svg path, canvas'));
      const groups = /batch\\s*3 cards/.test(document.body.innerText)
        && /epoch\\s*3 cards/.test(document.body.innerText);
      if (!groups || drawn.length < 3) return false;  // cards in view are drawn
      return cards.map((c) => c.innerText.split('\\n').slice(0, 2).join(''));
    }""", timeout=60)
    assert {"batch/loss", "batch/kl", "batch/reconstruction", "epoch/kl"} <= set(titles)
    page.screenshot(path=artifacts / "tensorboard-scalars.png")


def test_projector_shows_the_latent_snapshots(page, tensorboard_url, artifacts):
    page.goto(tensorboard_url + "#projector")
    deadline = time.monotonic() + 60
    while not any("projector_binary" in f.url for f in page.frames):  # its own iframe
        assert time.monotonic() < deadline, [f.url for f in page.frames]
        page.wait_for_timeout(100)
    frame = next(f for f in page.frames if "projector_binary" in f.url)
    text = wait_for(frame, """() => {
      const texts = [];  // the projector is Polymer: its text is in shadow roots
      const walk = (node) => {
        if (node.shadowRoot) walk(node.shadowRoot);
        for (const child of node.childNodes) walk(child);
        const tag = node.parentNode && node.parentNode.nodeName;
        if (node.nodeType === 3 && tag !== 'STYLE' && tag !== 'SCRIPT')
          texts.push(node.textContent);
      };
      walk(document.body);
      const t = texts.join(' ').replace(/\\s+/g, ' ');
      return /3 tensors found/.test(t) && /Points: 256/.test(t)
        && /Total variance described: \\d/.test(t) && t;  // PCA done
    }""", timeout=90)
    assert "Dimension: 4" in text and "latents:00000" in text
    assert "metadata.tsv" in text
    page.screenshot(path=artifacts / "tensorboard-projector.png")

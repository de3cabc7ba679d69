"""A new user's own images in the app: `genwidgets studio` (Voila) in headless Chromium.

On Data & Model: the dataset list marks mnist when it cannot load here (this machine is
offline), with the reason beside it when chosen; ``images`` shows an upload (no path in
the app) and a size; a real .zip of PNG/JPEG files in two sub-folders is uploaded through
the page's file input; Create run says it made the run from that file, the fields' note
says what was read, the run folder keeps the zip. Train trains a few steps, then Stop;
Explore's map has a legend of the sub-folder names.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

from .harness import wait_for
from .voila import StudioServer
from .studio_page import READY, click, row, tab, when

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/shots")


def pets_zip(root: Path) -> Path:
    """pets/cats: 6 grey PNGs; pets/dogs: 6 RGB JPEGs, of different sizes."""
    from PIL import Image

    rng = np.random.default_rng(0)
    target = root / "pets.zip"
    with zipfile.ZipFile(target, "w") as z:
        for i in range(6):
            for label, shape, fmt in (("cats", (30, 20), "PNG"), ("dogs", (40, 40, 3), "JPEG")):
                image = Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8))
                path = root / f"{label}{i}.{fmt.lower()}"
                image.save(path, fmt)
                z.write(path, f"pets/{label}/{i}.{'png' if fmt == 'PNG' else 'jpg'}")
    return target


@pytest.fixture(scope="module")
def studio_app(chromium, tmp_path_factory):
    base = tmp_path_factory.mktemp("studio-images")
    server = StudioServer(base).start()
    try:
        server.wait_quiet()
        yield server
    finally:
        server.stop()


SHOWN = """() => Array.from(document.querySelectorAll('.gw-studio .gw-data-fields > .widget-hbox'))
  .filter((r) => getComputedStyle(r).display !== 'none')
  .map((r) => Array.from(r.classList).find((c) => c.startsWith('gw-data-')))"""


def test_a_new_user_uploads_a_zip_of_images_and_trains_on_it(studio_app, app_page, artifacts,
                                                           tmp_path):
    page = app_page
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(studio_app.url)
    wait_for(page, READY, timeout=60)
    tab(page, "Data & Model")

    # The list says why mnist cannot load here; chosen, the note says how to get it.
    labels = page.eval_on_selector_all(
        ".gw-studio .widget-inline-hbox:has(> label:text-is('data')) select option",
        "(os) => os.map((o) => o.textContent.replace(/\\u00a0/g, ' '))")  # ipywidgets: nbsp
    assert "mnist (offline: not downloaded)" in labels and "images" in labels, labels
    row(page, "data", "select").select_option(index=labels.index("mnist (offline: not "
                                                                  "downloaded)"))
    note = page.wait_for_selector(".gw-studio .gw-data-note:has-text('cannot load here')")
    assert "mnist.npz" in note.inner_text() and "digits" in note.inner_text()
    page.screenshot(path=artifacts / "voila-mnist-offline.png")

    # images: an upload and a size, no path in the app.
    row(page, "data", "select").select_option("images")
    row(page, "model", "select").select_option("ae")
    shown = wait_for(page, f"() => {{ const s = ({SHOWN})(); "
                     "return s.includes('gw-data-color') && s; }")
    assert shown == ["gw-data-upload", "gw-data-size", "gw-data-color"], shown
    archive = pets_zip(tmp_path)
    with page.expect_file_chooser() as chooser:  # as a hand does: the button, then a file
        page.click(".gw-studio .gw-data-upload button.widget-upload")
    chooser.value.set_files(str(archive))
    page.wait_for_selector(".gw-studio .gw-data-upload code:has-text('pets.zip')")
    row(page, "size", "select").select_option("16")
    row(page, "epochs", "input").fill("2")
    row(page, "epochs", "input").press("Enter")
    page.screenshot(path=artifacts / "voila-images-upload.png")

    page.click(".gw-studio button.gw-create-run")
    wait_for(page, """() => {
      const d = document.querySelector('.gw-studio .gw-train-devices');
      return d && d.innerText.includes('ae on images'); }""", timeout=60)
    made = page.inner_text(".gw-studio .gw-studio-message")
    assert "run created from pets.zip" in made and "/ae-images-" in made, made
    folder = Path(made.split(": ", 1)[1].strip())
    assert (folder / "data.zip").read_bytes() == archive.read_bytes()
    wait_for(page, READY, timeout=30)
    click(page, "train")
    trained = when(page, "t.n > 2 || t.state === 'finished'", timeout=120)
    if trained["state"] == "running":
        click(page, "stop")
        when(page, "t.state === 'stopped' || t.state === 'finished'")

    tab(page, "Data & Model")  # the note: what was read
    note = page.inner_text(".gw-studio .gw-data-note")
    assert "read 12 images from 'pets.zip', resized to 16x16" in note, note
    assert "2 labels from sub-folders" in note, note
    page.screenshot(path=artifacts / "voila-images-created.png")

    tab(page, "Explore")
    legend = wait_for(page, """() => {
      const t = Array.from(document.querySelectorAll(
        '.gw-studio .gw-latent-map .legendtext')).map((e) => e.textContent);
      return t.includes('cats') && t.includes('dogs') && t; }""", timeout=90)
    assert {"cats", "dogs"} <= set(legend)
    page.screenshot(path=artifacts / "voila-images-explore.png")
    assert not [m for m in page.console if "pageerror" in m or "Error setting state" in m]
    SHOTS.mkdir(parents=True, exist_ok=True)
    for name in ("voila-mnist-offline.png", "voila-images-upload.png",
                 "voila-images-created.png", "voila-images-explore.png"):
        shutil.copy(artifacts / name, SHOTS / name)

"""Make the user guide's pictures (docs/images/guide-*.png) in a real JupyterLab.

    .venv/bin/python docs/screenshots.py            # all, a few minutes on 2 cores
    .venv/bin/python docs/screenshots.py studio     # only some: images, text, studio

Run by hand (not in CI), then look at every picture before committing it. It starts a
JupyterLab of its own and headless Chromium (the browser tests' harness), runs a small
notebook per group of views, and photographs each widget by its CSS class. Text views
train on tinyshakespeare when ../shared/data has it, else on Python's help pages.
Pictures are stored as palette PNGs to stay well under 150 KB.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser.harness import (  # noqa: E402
    LabServer,
    launch_chromium,
    open_notebook,
    run_all_cells,
    wait_for,
)

IMAGES = ROOT / "docs" / "images"
SHAKESPEARE = ROOT.parent / "shared" / "data" / "text" / "tinyshakespeare.txt"
MAX_BYTES = 150_000

PLOT_READY = """(selector) => {
  const graph = document.querySelector(selector + ' .js-plotly-plot');
  return !!graph && !!graph.data && graph.querySelectorAll('.scatterlayer .trace').length > 0;
}"""
IMAGE_READY = """(selector) => {
  const img = document.querySelector(selector);
  return !!img && img.naturalWidth > 1;
}"""


def save(page, selector: str, name: str) -> Path:
    """Photograph the first element matching ``selector`` into docs/images/NAME."""
    from PIL import Image

    path = IMAGES / name
    element = page.locator(selector).first
    element.scroll_into_view_if_needed()
    page.wait_for_timeout(300)  # let Plotly finish its transition
    element.screenshot(path=path)
    picture = Image.open(path).convert("RGB")
    picture.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    size = path.stat().st_size
    print(f"{name}: {picture.size[0]}x{picture.size[1]}, {size // 1024} KB")
    if size >= MAX_BYTES:
        raise SystemExit(f"{name} is {size} bytes; keep pictures under {MAX_BYTES}")
    return path


def run_notebook(page, lab, name: str, cells: list[str], timeout: float = 600) -> None:
    lab.write_notebook(name, cells)
    open_notebook(page, lab, name)
    run_all_cells(page, timeout=timeout)


def images(page, lab) -> None:
    """LossPlot and SampleGrid of a 2-D VAE on the digits."""
    run_notebook(page, lab, "guide_images.ipynb", [
        "import genwidgets\n"
        "from genwidgets.training import train\n"
        "from genwidgets.widgets import LossPlot, SampleGrid\n"
        'run = train("vae", "digits", {"latent_dim": 2, "hidden": 256, "dropout": 0.0},\n'
        "            epochs=40, batch_size=32)",
        'LossPlot(run.history, run.epoch_history, title="vae on digits", width=620)',
        "SampleGrid(run, n=36, width=420)",
    ])
    wait_for(page, PLOT_READY, arg=".gw-loss-plot")
    save(page, ".gw-loss-plot", "guide-loss-plot.png")
    wait_for(page, IMAGE_READY, arg=".gw-sample-grid img.gw-sample-images")
    save(page, ".gw-sample-grid", "guide-sample-grid.png")


def text(page, lab) -> None:
    """TextPath and SampleList of a sentence VAE."""
    if SHAKESPEARE.is_file():
        data = f'"text", data_options={{"path": {str(SHAKESPEARE)!r}, "seq_len": 40}}'
        epochs = 6
    else:
        data = '"python_docs", data_options={"mode": "line", "seq_len": 64}'
        epochs = 60
    run_notebook(page, lab, "guide_text.ipynb", [
        "import genwidgets\n"
        "import ipywidgets as W\n"
        "from genwidgets.training import train\n"
        "from genwidgets.widgets import SampleList, TextPath\n"
        f'run = train("vae", {data},\n'
        '            config={"latent_dim": 16, "rnn_units": 192, "embed_dim": 48,\n'
        '                    "kl_anneal_steps": 3000},\n'
        f"            epochs={epochs}, batch_size=64)\n"
        "print(run.message, run.epoch_history[-1])",
        "a, b = 'Thou art a villain.', 'What say you, my lord?'\n"
        "TextPath(run, a, b, steps=8)",
        "SampleList(run, n=8, temperature=0.6)",
    ], timeout=1200)
    wait_for(page, "() => document.querySelectorAll('.gw-text-path-list li').length === 8")
    save(page, ".gw-text-path", "guide-text-path.png")
    wait_for(page, "() => document.querySelectorAll('.gw-sample-list li').length === 8")
    save(page, ".gw-sample-list", "guide-sample-list.png")


def studio(page, lab) -> None:
    """The Studio's four tabs around one 2-D VAE run."""
    run_notebook(page, lab, "guide_studio.ipynb", [
        "import genwidgets\n"
        "from genwidgets.widgets import Studio\n"
        "studio = Studio(epochs=25, batch_size=32)\n"
        'studio.form.fields["latent_dim"].value = 2\n'
        'studio.form.fields["dropout"].value = 0.0\n'
        "studio",
        "run = studio.create_run()\n"
        "run.start()\n"
        "run.wait()",
        "studio.tabs.selected_index = 2  # Explore\n"
        "latent_map, strip = studio.explore_box.children[:2]\n"
        "y = run.dataset.y\n"
        "latent_map.set_a(latent_map.select_item(int((y == 0).argmax())))\n"
        "latent_map.set_b(latent_map.select_item(int((y == 7).argmax())))\n"
        "strip.position.value = 3",
    ])
    page.evaluate("() => window.jupyterapp.commands.execute('application:toggle-left-area')")
    wait_for(page, "() => window.jupyterapp.shell.leftCollapsed")
    page.set_viewport_size({"width": 1280, "height": 1800})
    tabs = [("Data & Model", "guide-studio-data-model.png"), ("Train", "guide-studio-train.png"),
            ("Explore", "guide-studio-explore.png"), ("Plugins", "guide-studio-plugins.png")]
    for title, name in tabs:
        page.click(f".gw-studio .lm-TabBar-tab:has-text('{title}')")
        if title == "Explore":
            wait_for(page, PLOT_READY, arg=".gw-studio .gw-latent-map")
            wait_for(page, IMAGE_READY, arg=".gw-studio img.gw-interp-images")
        if title == "Train":
            wait_for(page, PLOT_READY, arg=".gw-studio .gw-loss-plot")
        save(page, ".gw-studio", name)
    page.set_viewport_size({"width": 1280, "height": 900})


GROUPS = {"images": images, "text": text, "studio": studio}


def main(names: list[str]) -> None:
    from playwright.sync_api import sync_playwright

    unknown = sorted(set(names) - set(GROUPS))
    if unknown:
        raise SystemExit(f"Expected some of {sorted(GROUPS)}. Received: {unknown}")
    IMAGES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="genwidgets-shots-") as tmp:
        lab = LabServer(Path(tmp) / "lab").start()
        try:
            with sync_playwright() as playwright:
                context = launch_chromium(playwright, Path(tmp) / "profile")
                page = context.new_page()
                for name in names or GROUPS:
                    GROUPS[name](page, lab)
                    lab.delete_sessions()
                context.close()
        finally:
            lab.stop()


if __name__ == "__main__":
    main(sys.argv[1:])

"""Write the demo notebooks (without outputs) from the cells below.

    .venv/bin/python demos/_make.py      # rewrites demos/0*.ipynb

Every demo reads ``GENWIDGETS_DEMO_SMALL=1`` in its first cell and then trains tiny
models for a few epochs, so that CI runs all of them headless in well under a minute
each (``tests/test_demos.py``) and opens them in JupyterLab
(``tests/browser/test_lab_demos.py``).
"""

from __future__ import annotations

from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}

SETUP = """\
import os

# GENWIDGETS_DEMO_SMALL=1 (set in CI) trains tiny models for a few epochs.
SMALL = os.environ.get("GENWIDGETS_DEMO_SMALL") == "1"

import genwidgets  # before Keras: it selects the JAX backend"""

WAIT_UNTIL = """\
import time

def wait_until(condition, timeout=120):
    \"\"\"Wait (as a person watching the panel would) until condition() is true.\"\"\"
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"still waiting after {timeout} s")
        time.sleep(0.05)"""

QUICKSTART = [
    ("md", """\
# Quickstart: train a VAE on digits and walk its latent space

A variational autoencoder learns to squeeze each 8x8 digit into a few numbers (its
latent vector) and to draw the digit back from them. Here the latent space has two
dimensions, so the map below shows it as it is, without projection."""),
    ("code", SETUP),
    ("md", """\
## A run and its panel

A `Run` holds the model, its data and a worker thread. The `TrainPanel` shows its
buttons (Train, Pause, Resume, Stop, Step), the live loss curves, samples and the
settings that may change while training."""),
    ("code", """\
from genwidgets.latent import LatentSnapshots
from genwidgets.training import Run
from genwidgets.widgets import TrainPanel

config = {"latent_dim": 2, "hidden": 64 if SMALL else 256, "depth": 2, "dropout": 0.0}
run = Run("vae", "digits", config, epochs=3 if SMALL else 30, batch_size=32,
          out="runs/quickstart-vae", overwrite=True)  # this demo's own run
LatentSnapshots.attach(run)  # keeps the map of every epoch for the map's timeline
panel = TrainPanel(run)
panel"""),
    ("md", """\
Press **Train** in the panel, or run the next cell: it does what the button does and
waits for the run to finish. The plot above fills while it trains."""),
    ("code", """\
run.start()
run.wait()
print(run.message)
first, last = run.epoch_history[0]["loss"], run.epoch_history[-1]["loss"]
print(f"loss per image: {first:.1f} after the first epoch, {last:.1f} after the last")"""),
    ("md", """\
## The latent map

Every digit encoded, one point each, coloured by its label. The timeline under it
replays the map at each epoch; the health line says how many latent units are in use.
Click a point to decode it; click empty space to decode that spot. Pick **A** and **B** to walk between them:
the strip below decodes the path in one batched call."""),
    ("code", """\
import ipywidgets as W
from genwidgets.widgets import InterpolationStrip, LatentMap

latent_map = LatentMap(run, width=520, height=440)
strip = InterpolationStrip(run, latent_map=latent_map, steps=8)
W.VBox([latent_map, strip])"""),
    ("md", """\
A click on "set A" and then on a point does what the next cell does: it picks the
first 0 as A and the first 6 as B."""),
    ("code", """\
labels = run.dataset.y
a, b = int((labels == 0).argmax()), int((labels == 6).argmax())
latent_map.set_a(latent_map.select_item(a))
latent_map.set_b(latent_map.select_item(b))
print(f"path from item {a} to item {b}: {len(strip.images)} images")"""),
    ("md", """\
## Samples

Draws from the prior N(0, I), decoded. **Resample** draws again with a new seed."""),
    ("code", """\
from genwidgets.widgets import SampleGrid

SampleGrid(run, n=16)"""),
    ("md", """\
The run folder `runs/quickstart-vae` holds `model.keras`, `config.json` and the loss
history: `LatentMap("runs/quickstart-vae")` explores it again later, and the `RunsTable`
compares it with other runs."""),
]

TEXT = [
    ("md", """\
# Text: a sentence VAE and a Transformer, and the sentences between two others

Both models read characters. The data are lines from Python's own help pages
(offline); `Run("vae", "text", data_options={"path": "my.txt"})` takes your own file."""),
    ("code", SETUP),
    ("code", """\
from genwidgets.registry import get_registry

data_options = {"mode": "line", "seq_len": 40 if SMALL else 64, "limit": 200 if SMALL else None}
corpus = get_registry().dataset("python_docs").load(**data_options)
print(f"{len(corpus)} lines, {corpus.info.vocab_size} symbols; the first three:")
for line in corpus.tokenizer.decode(corpus.x[:3]):
    print("  ", line)"""),
    ("md", """\
## The sentence VAE

A GRU encoder and a GRU decoder conditioned on the latent vector, with KL annealing,
word dropout and free bits against posterior collapse (every point decoding to the same
sentence). The panel lets you change `beta`, `word_dropout` and `free_bits` while it
trains."""),
    ("code", """\
from genwidgets.training import Run
from genwidgets.widgets import TrainPanel

vae_config = {"latent_dim": 16, "rnn_units": 32 if SMALL else 256,
              "embed_dim": 16 if SMALL else 64, "kl_anneal_steps": 200}
vae = Run("vae", corpus, vae_config, epochs=2 if SMALL else 20, batch_size=32)
TrainPanel(vae)"""),
    ("code", """\
vae.start()
vae.wait()
print(vae.message, "· last loss", round(vae.epoch_history[-1]["loss"], 3))"""),
    ("md", """\
## A path between two sentences

Type sentence A and sentence B: both are encoded, the path between their latent vectors
is decoded, one line per step, and what changed from the line before is marked.
Expect a tiny model to write nonsense; a longer run writes words."""),
    ("code", """\
from genwidgets.widgets import TextPath

sentences = corpus.tokenizer.decode(corpus.x[:2])
text_path = TextPath(vae, sentences[0], sentences[1], steps=6)
text_path"""),
    ("code", """\
print(f"{len(text_path.lines)} lines, {len(set(text_path.lines))} different")"""),
    ("md", """\
## The Transformer

A bidirectional encoder pooled into a latent vector and a causal decoder that writes
one character at a time. `SampleList` draws sentences with a temperature slider."""),
    ("code", """\
tf_config = {"latent_dim": 16, "d_model": 32 if SMALL else 128, "num_heads": 2,
             "encoder_layers": 1, "decoder_layers": 1 if SMALL else 3}
transformer = Run("transformer", corpus, tf_config, epochs=1 if SMALL else 20, batch_size=32)
TrainPanel(transformer)"""),
    ("code", """\
transformer.start()
transformer.wait()
print(transformer.message)"""),
    ("code", """\
import ipywidgets as W
from genwidgets.widgets import SampleList

tf_path = TextPath(transformer, sentences[0], sentences[1], steps=6)
W.VBox([tf_path, SampleList(transformer, n=5, temperature=0.8)])"""),
]

GAN = [
    ("md", """\
# A GAN, live: pause it, step it, change its learning rate

The generator turns random vectors into digits; the discriminator tells them from real
ones. The panel draws both losses (`d_loss`, `g_loss`) while they fight. A GAN has no
encoder, so there is no latent map here: only samples."""),
    ("code", SETUP),
    ("code", WAIT_UNTIL),
    ("code", """\
from genwidgets.training import Run
from genwidgets.widgets import TrainPanel

config = {"latent_dim": 16, "architecture": "dense", "hidden": 64 if SMALL else 256}
run = Run("gan", "digits", config, epochs=3 if SMALL else 40, batch_size=32)
panel = TrainPanel(run)
panel"""),
    ("md", """\
**Train**, then **Pause** after a few steps. The cells below do it from code (each
waits the way you would wait before your next click); `run.step(10)` starts the run and
pauses it after exactly ten batches, where a Pause pressed by hand lands wherever the
run has got to (a small GAN trains hundreds of batches a second)."""),
    ("code", """\
run.step(10)
wait_until(lambda: run.state == "paused")
paused_at = run.steps
print(run.message)"""),
    ("md", """\
While paused, **Step** trains exactly the number of batches beside it, then pauses
again: watch the samples change one step at a time."""),
    ("code", """\
run.step(5)
wait_until(lambda: run.state == "paused" and run.steps == paused_at + 5)
print(f"stepped from {paused_at} to {run.steps}")"""),
    ("md", """\
The learning rate slider in the panel calls `run.set(...)`: the next step uses the new
rate without recompiling. Here both networks slow down, then the run goes on."""),
    ("code", """\
run.set(learning_rate=5e-5)
run.resume()
run.wait()
print(run.message, "· learning rate now", run.model.gan_config.learning_rate)"""),
    ("code", """\
from genwidgets.widgets import SampleGrid

SampleGrid(run, n=16)"""),
]

# The plugin the fourth demo writes is the installable example in examples/tinyae (one code)
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "tinyae" / "tinyae"
PLUGIN_INIT = ("%%writefile {plugin_dir}/tinyae/__init__.py\n"
               + (EXAMPLE / "__init__.py").read_text().rstrip("\n"))
PLUGIN_MODEL = ("%%writefile {plugin_dir}/tinyae/model.py\n"
                + (EXAMPLE / "model.py").read_text().rstrip("\n"))

PLUGIN = [
    ("md", """\
# Write a model plugin

A plugin is a Python package with an entry point in the `genwidgets` group. This one,
`tinyae`, offers a linear autoencoder in about 50 lines: a spec (name, settings,
`build`) that imports no Keras, and a Keras model. It is declared, discovered, checked
with `genwidgets.testing` and shown in the Studio, like the built-in AE, VAE, GAN and
Transformer (which are plugins of the same kind). `docs/plugin-guide.md` documents every
hook and method."""),
    ("code", SETUP),
    ("code", """\
import tempfile
from pathlib import Path

plugin_dir = Path(tempfile.mkdtemp(prefix="tinyae-"))  # stands for site-packages
(plugin_dir / "tinyae").mkdir()"""),
    ("md", "The spec and the hook (no Keras import: listing plugins stays fast):"),
    ("code", PLUGIN_INIT),
    ("md", "The model: the maths, plus `encode` and `decode` (NumPy in, NumPy out):"),
    ("code", PLUGIN_MODEL),
    ("md", """\
## Declare the entry point

A real package declares its entry point in its `pyproject.toml`, and `pip install .`
writes it into the package's `.dist-info` folder:

```toml
[project]
name = "tinyae"
version = "0.1.0"
dependencies = ["genwidgets"]

[project.entry-points.genwidgets]
tinyae = "tinyae"
```

Without installing anything, the next cell writes that `.dist-info` folder by hand next
to the package. A folder on `sys.path` holding a `.dist-info` is exactly how Python
finds installed distributions (`importlib.metadata`)."""),
    ("code", """\
import importlib
import sys

dist_info = plugin_dir / "tinyae-0.1.0.dist-info"
dist_info.mkdir()
(dist_info / "METADATA").write_text("Metadata-Version: 2.1\\nName: tinyae\\nVersion: 0.1.0\\n")
(dist_info / "entry_points.txt").write_text("[genwidgets]\\ntinyae = tinyae\\n")

sys.path.insert(0, str(plugin_dir))
# the contract check reloads the model in a fresh process: it must find tinyae too
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(plugin_dir),
                                                         os.environ.get("PYTHONPATH")]))
importlib.invalidate_caches()"""),
    ("md", """\
## Discover it

The registry is built once per process; `refresh=True` discovers the entry points
again. The plugin browser lists every plugin, model and dataset, and any plugin that
failed to load, with its error."""),
    ("code", """\
from genwidgets.registry import get_registry
from genwidgets.widgets import PluginBrowser

registry = get_registry(refresh=True)
print(registry.model("linear_ae"))
PluginBrowser(registry)"""),
    ("md", """\
## Check it

`check_model` builds the spec on tiny real data, runs one `fit` step, checks the shapes
of what `capabilities` claims, saves a `.keras` file and reloads it in a fresh process
with `safe_mode=True`. It raises `AssertionError` saying what is wrong."""),
    ("code", """\
from genwidgets.testing import check_model

report = check_model(registry.model("linear_ae"), "image")
print(report["summary"], "·", report["reload"])"""),
    ("md", """\
## Use it in the Studio

The Studio's model list now holds `linear_ae`, its settings form comes from `Config`,
and Explore shows a latent map and a path but no samples (the spec does not claim
`sample`). The next cell does what **Create run**, **Train** and the **Explore** tab
do."""),
    ("code", """\
from genwidgets.widgets import Studio

studio = Studio(model="linear_ae", data="digits", epochs=2 if SMALL else 20,
                batch_size=32, registry=registry)
studio"""),
    ("code", """\
run = studio.create_run()
run.start()
run.wait()
studio.tabs.selected_index = 2  # Explore
print(run.message, "·", [type(view).__name__ for view in studio.explore_box.children])"""),
]

DEMOS = {
    "01_quickstart.ipynb": QUICKSTART,
    "02_text.ipynb": TEXT,
    "03_gan.ipynb": GAN,
    "04_write_a_plugin.ipynb": PLUGIN,
}


def notebook(cells) -> nbformat.NotebookNode:
    make = {"md": nbformat.v4.new_markdown_cell, "code": nbformat.v4.new_code_cell}
    nb = nbformat.v4.new_notebook(cells=[make[kind](source) for kind, source in cells],
                                  metadata={"kernelspec": KERNELSPEC,
                                            "language_info": {"name": "python"}})
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i:02d}"  # stable ids: regenerating changes nothing
    return nb


def main() -> None:
    for name, cells in DEMOS.items():
        nbformat.write(notebook(cells), HERE / name)
        print("wrote", HERE / name)


if __name__ == "__main__":
    main()

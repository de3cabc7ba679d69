"""``Studio``: the whole tool in tabs: Data & Model, Train, Explore, Plugins.

Data & Model picks a model plugin and a dataset and shows the model's settings form
(generated from its ``Config``); "Create run" makes a :class:`~genwidgets.training.Run`
writing to the runs folder. Train holds its ``TrainPanel``. Explore is built when first
opened (each Plotly figure costs the page ~5 MB of JavaScript) and rebuilt for a new run:
the latent map with a path view, and samples, as far as the model's capabilities go.
"""

from __future__ import annotations

import html
import time
from pathlib import Path

import ipywidgets as W

from genwidgets.widgets.config_form import ConfigForm

TABS = ("Data & Model", "Train", "Explore", "Plugins")


class Studio(W.VBox):
    def __init__(self, model: str = "vae", data: str = "digits", *, runs: str | Path = "runs",
                 epochs: int = 20, batch_size: int = 64, registry=None):
        from genwidgets.plugins import get_registry
        from genwidgets.widgets.plugin_browser import PluginBrowser

        self.registry = registry or get_registry()
        self.runs = Path(runs)
        self.run = None
        self._explored = None  # the run the Explore tab shows
        self.model_choice = W.Dropdown(options=sorted(self.registry.models),
                                       value=self.registry.model(model).name, description="model")
        self.data_choice = W.Dropdown(options=sorted(self.registry.datasets),
                                      value=self.registry.dataset(data).name, description="data")
        self.epochs = W.BoundedIntText(value=epochs, min=1, max=100_000, description="epochs")
        self.batch_size = W.BoundedIntText(value=batch_size, min=1, max=65_536,
                                           description="batch size")
        from genwidgets.training.distribution import DISTRIBUTIONS, PRECISIONS

        self.distribution = W.Dropdown(options=DISTRIBUTIONS, value="auto",
                                       description="devices")
        self.precision = W.Dropdown(options=PRECISIONS, value="float32",
                                    description="precision")
        self.create_button = W.Button(description="Create run", icon="plus",
                                      button_style="primary")
        self.create_button.add_class("gw-create-run")
        self.create_button.on_click(lambda _: self.create_run())
        self.message = W.HTML()
        self.message.add_class("gw-studio-message")
        self.form = ConfigForm(self.registry.model(self.model_choice.value))
        self.form_box = W.VBox([self.form])
        self.model_choice.observe(lambda _: self._new_form(), "value")
        setup = W.VBox([
            W.HBox([self.model_choice, self.data_choice]),
            W.HBox([self.epochs, self.batch_size]),
            W.HBox([self.distribution, self.precision]),
            W.HTML("<b>settings</b>"), self.form_box,
            W.HBox([self.create_button, self.message]),
        ])
        self.train_box = W.VBox([W.HTML("Create a run on the <i>Data &amp; Model</i> tab.")])
        self.explore_box = W.VBox([W.HTML("Create a run first; train it a little, then "
                                          "explore its latent space here.")])
        self.tabs = W.Tab(children=[setup, self.train_box, self.explore_box, PluginBrowser(
            self.registry)], titles=TABS)
        self.tabs.observe(self._on_tab, "selected_index")
        super().__init__([W.HTML("<h3 style='margin:4px 0'>genwidgets studio</h3>"), self.tabs])
        self.add_class("gw-studio")

    def _new_form(self) -> None:
        self.form = ConfigForm(self.registry.model(self.model_choice.value))
        self.form_box.children = [self.form]

    def create_run(self):
        """Make a run from the form (what "Create run" does); errors are shown, not raised."""
        from genwidgets.training import Run
        from genwidgets.widgets.train_panel import TrainPanel

        try:
            spec = self.registry.model(self.model_choice.value)
            config = self.form.value()
            data_spec = self.registry.dataset(self.data_choice.value)
            if data_spec.modality not in spec.modalities:
                raise ValueError(f"Model {spec.name!r} takes {list(spec.modalities)} data. "
                                 f"Received: {data_spec.modality} data {data_spec.name!r}. "
                                 f"Pick another dataset or model.")
            dataset = data_spec.load()
            if self.run is not None and self.run.alive:
                raise RuntimeError("The current run is training; stop it before creating "
                                   "another.")
            out = self.runs / f"{spec.name}-{dataset.info.name}-{time.strftime('%Y%m%d-%H%M%S')}"
            run = Run(spec, dataset, config, epochs=self.epochs.value,
                      batch_size=self.batch_size.value, out=out,
                      distribution=self.distribution.value, precision=self.precision.value)
            if "encode" in spec.capabilities:  # the Explore tab's timeline replays these
                from genwidgets.latent import LatentSnapshots

                LatentSnapshots.attach(run)
        except Exception as exc:  # shown beside the button
            self.message.value = (f"<span style='color:#c62828'>{html.escape(str(exc))}"
                                  f"</span>")
            return None
        if getattr(self, "panel", None) is not None:
            self.panel.close()
        self.run = run
        self.panel = TrainPanel(run)
        self.train_box.children = [self.panel]
        self.message.value = f"run created: <code>{html.escape(str(out))}</code>"
        self.tabs.selected_index = TABS.index("Train")
        return run

    def _on_tab(self, change) -> None:
        if change["new"] == TABS.index("Explore") and self.run is not None \
                and self._explored is not self.run:
            self.explore()

    def explore(self) -> None:
        """Build the Explore tab for the current run."""
        from genwidgets.widgets.interpolation_strip import InterpolationStrip
        from genwidgets.widgets.latent_map import LatentMap
        from genwidgets.widgets.samples import SampleGrid, SampleList
        from genwidgets.widgets.text_path import TextPath

        run = self.run
        image = run.dataset.info.modality == "image"
        views = []
        try:
            if "encode" in run.spec.capabilities and "decode" in run.spec.capabilities:
                latent_map = LatentMap(run)
                path = (InterpolationStrip(run, latent_map=latent_map) if image
                        else TextPath(run, latent_map=latent_map))
                views += [latent_map, path]
            if "sample" in run.spec.capabilities:
                views.append(SampleGrid(run) if image else SampleList(run))
        except Exception as exc:
            views.append(W.HTML(f"<pre style='color:#c62828'>{html.escape(str(exc))}</pre>"))
        self.explore_box.children = views or [W.HTML("This model offers nothing to explore.")]
        self._explored = run

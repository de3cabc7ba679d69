"""``Studio``: the whole tool in tabs: Data & Model, Train, Explore, Plugins.

Data & Model picks a model plugin and a dataset, with the data fields that dataset's
options call for (:class:`~genwidgets.widgets.data_fields.DataFields`: a ``.txt`` upload or
a path, mode, tokens), and shows the model's settings form (generated from its
``Config``); "Create run" makes a :class:`~genwidgets.training.Run` writing to the runs
folder (an uploaded file is kept in it as ``data.txt``, which its ``data_options`` name).
Train holds its ``TrainPanel``. Explore is built when first opened (each Plotly figure
costs the page ~5 MB of JavaScript) and rebuilt for a new run: the latent map with a path
view, and samples, as far as the model's capabilities go. It can also show a saved run,
picked by name from the runs folder (never a typed path; the model loads with
``safe_mode=True``).

``app=True`` is the standalone app's mode (``genwidgets studio``): a run of the chosen
model and data is made at once, so the Train tab opens ready to train.
"""

from __future__ import annotations

import atexit
import html
import json
import os
import re
import secrets
import shutil
import time
from pathlib import Path

import ipywidgets as W

from genwidgets.widgets.config_form import ConfigForm
from genwidgets.widgets.data_fields import UPLOAD_COPY, DataFields

TABS = ("Data & Model", "Train", "Explore", "Plugins")
CURRENT = "current run"
_RUN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def saved_runs(runs: str | os.PathLike) -> list[str]:
    """Names of the saved runs directly inside ``runs`` (``config.json``, ``model.keras``,
    data that can be loaded again: plain options, and a ``path`` only to a data file in the
    run's own folder, the copy of an upload), newest first."""
    root = Path(runs)
    if not root.is_dir():
        return []
    found = [folder for folder in root.iterdir()
             if folder.is_dir() and not folder.is_symlink() and _RUN_NAME.match(folder.name)
             and (folder / "model.keras").is_file() and _plain_data(folder)]
    found.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    return [p.name for p in found]


def saved_run_path(runs: str | os.PathLike, name: str) -> Path:
    """The folder of the saved run ``name`` inside ``runs``; any other name is refused."""
    listed = saved_runs(runs)
    if name not in listed:
        raise ValueError(
            f"Expected the name of a saved run in {str(runs)!r}. Received: name={name!r}. "
            f"Saved runs: {listed[:5] or 'none'}{' ...' if len(listed) > 5 else ''}")
    return Path(runs) / name


def _plain_data(folder: Path) -> bool:
    try:
        doc = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(doc, dict) or "model" not in doc:
        return False
    options = doc.get("data_options") or {}
    if not isinstance(options, dict) or not all(
            isinstance(v, (str, int, float, bool)) or v is None for v in options.values()):
        return False  # e.g. texts=[...]: not what a run folder of the Studio records
    path = options.get("path")  # data read from a file: only the copy the run folder keeps
    if path is None:
        return True
    try:
        inside = Path(path).resolve().parent == folder.resolve()
    except (OSError, ValueError, TypeError):
        return False
    return inside and Path(path).is_file()


def discard_untrained(run) -> bool:
    """Remove the folder of a run that never trained (it holds only its config.json): the
    app makes a run for every page, and most pages are looked at, not trained."""
    folder = getattr(run, "folder", None)
    if folder is None or run.history or run.alive or not folder.path.is_dir():
        return False
    from genwidgets.training.folder import BOOKKEEPING  # the lock a run leaves

    if {p.name for p in folder.path.iterdir()} - {"config.json", UPLOAD_COPY, *BOOKKEEPING}:
        return False
    shutil.rmtree(folder.path, ignore_errors=True)
    return True


class Studio(W.VBox):
    def __init__(self, model: str = "vae", data: str | None = None, *, runs: str | Path = "runs",
                 epochs: int = 20, batch_size: int = 64, registry=None, app: bool = False):
        from genwidgets.plugins import get_registry
        from genwidgets.widgets.plugin_browser import PluginBrowser

        self.registry = registry or get_registry()
        self.runs = Path(runs)
        self.app = app
        self.run = None
        self._explored = None  # the run (or saved run's name) the Explore tab shows
        self.model_choice = W.Dropdown(options=sorted(self.registry.models),
                                       value=self.registry.model(model).name, description="model")
        if data is None:  # digits for a model that takes images, sentences for a text model
            from genwidgets.data.builtin import default_dataset

            data = default_dataset(self.registry.model(model).modalities)
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
                                      button_style="primary",
                                      layout=W.Layout(flex="0 0 auto"))  # beside an error
        self.create_button.add_class("gw-create-run")
        self.create_button.on_click(lambda _: self.create_run())
        self.message = W.HTML()
        self.message.add_class("gw-studio-message")
        self.form = ConfigForm(self.registry.model(self.model_choice.value), self._modality())
        self.form_box = W.VBox([self.form])
        self.data_fields = DataFields(self.registry, self.data_choice.value, paths=not app)
        self.data_choice.observe(lambda change: self.data_fields.show(change["new"]), "value")
        self.data_choice.observe(self._on_data, "value")  # text data: the text defaults
        self.model_choice.observe(lambda _: self._new_form(), "value")
        setup = W.VBox([
            W.HBox([self.model_choice, self.data_choice]), self.data_fields,
            W.HBox([self.epochs, self.batch_size]),
            W.HBox([self.distribution, self.precision]),
            W.HTML("<b>settings</b>"), self.form_box,
            W.HBox([self.create_button, self.message]),
        ])
        self.train_box = W.VBox([W.HTML("Create a run on the <i>Data &amp; Model</i> tab.")])
        self.saved = W.Dropdown(options=[CURRENT], value=CURRENT, description="explore")
        self.saved.add_class("gw-explore-choice")
        self.saved.observe(lambda _: self._explore_choice(), "value")
        self.saved_refresh = W.Button(description="list saved runs", icon="refresh",
                                      layout=W.Layout(width="auto"))
        self.saved_refresh.on_click(lambda _: self.list_saved())
        self.explore_box = W.VBox([W.HTML("Create a run first; train it a little, then "
                                          "explore its latent space here.")])
        explore = W.VBox([W.HBox([self.saved, self.saved_refresh]), self.explore_box])
        self.tabs = W.Tab(children=[setup, self.train_box, explore, PluginBrowser(
            self.registry)], titles=TABS)
        self.tabs.observe(self._on_tab, "selected_index")
        super().__init__([W.HTML("<h3 style='margin:4px 0'>genwidgets studio</h3>"), self.tabs])
        self.add_class("gw-studio")
        if app:
            self.runs.mkdir(parents=True, exist_ok=True)
            self.create_run()  # the defaults, ready to train
            atexit.register(lambda: self.run is not None and discard_untrained(self.run))

    def _modality(self) -> str:
        return self.registry.dataset(self.data_choice.value).modality

    def _on_data(self, change) -> None:
        if self.registry.dataset(change["old"]).modality != self._modality():
            self._new_form()

    def _new_form(self) -> None:
        self.form = ConfigForm(self.registry.model(self.model_choice.value), self._modality())
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
            dataset, data_options, upload = self.data_fields.load(data_spec)
            if self.run is not None and self.run.alive:
                raise RuntimeError("The current run is training; stop it before creating "
                                   "another.")
            out = self.runs / (f"{spec.name}-{dataset.info.name}-"
                               f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}")
            if upload is not None:  # a copy in the run's folder: the run says its data
                data_options["path"] = str((out / UPLOAD_COPY).resolve())
            run = self._make_run(Run, upload, spec, dataset, config, epochs=self.epochs.value,
                                 batch_size=self.batch_size.value, out=out,
                                 data_options=data_options,
                                 distribution=self.distribution.value,
                                 precision=self.precision.value)
            if "encode" in spec.capabilities:  # the Explore tab's timeline replays these
                from genwidgets.latent import LatentSnapshots

                LatentSnapshots.attach(run)
        except Exception as exc:  # shown beside the button
            self.message.value = (f"<span style='color:#c62828'>{html.escape(str(exc))}"
                                  f"</span>")
            return None
        if getattr(self, "panel", None) is not None:
            self.panel.close()
        if self.app and self.run is not None:
            discard_untrained(self.run)
        self.run = run
        self.panel = TrainPanel(run)
        self.train_box.children = [self.panel]
        made_from = f" from {html.escape(upload[0])}" if upload is not None else ""
        self.message.value = f"run created{made_from}: <code>{html.escape(str(out))}</code>"
        self.tabs.selected_index = TABS.index("Train")
        return run

    @staticmethod
    def _make_run(make, upload, *args, out: Path, **kwargs):
        """``make(*args, out=out, **kwargs)`` (a run takes a new folder); then an upload's
        bytes go into it as ``data.txt``, the file its data_options name. If they cannot,
        the new folder goes again."""
        run = make(*args, out=out, **kwargs)
        if upload is not None:
            tmp = out / f".{UPLOAD_COPY}.{os.getpid()}.tmp"
            try:
                tmp.write_bytes(upload[1])
                os.replace(tmp, out / UPLOAD_COPY)
            except BaseException:
                if not run.history:  # ours, new and untrained
                    shutil.rmtree(out, ignore_errors=True)
                raise
        return run

    def list_saved(self) -> list[str]:
        """Offer the saved runs of the runs folder on the Explore tab (by name only)."""
        names = saved_runs(self.runs)
        current = self.saved.value if self.saved.value in names else CURRENT
        with self.saved.hold_trait_notifications():
            self.saved.options = [CURRENT, *names]
            self.saved.value = current
        return names

    def _on_tab(self, change) -> None:
        if change["new"] == TABS.index("Explore"):
            self.list_saved()
            self._explore_choice()

    def _explore_choice(self) -> None:
        if self.tabs.selected_index != TABS.index("Explore"):
            return
        wanted = self.run if self.saved.value == CURRENT else self.saved.value
        if wanted is None or wanted is self._explored or wanted == self._explored:
            return
        self.explore(None if wanted is self.run else wanted)

    def explore(self, saved: str | None = None) -> None:
        """Build the Explore tab for the current run, or for the saved run named ``saved``
        (a folder of the runs folder; its model loads with ``safe_mode=True``)."""
        from genwidgets.latent import LatentSource
        from genwidgets.widgets.interpolation_strip import InterpolationStrip
        from genwidgets.widgets.latent_map import LatentMap
        from genwidgets.widgets.samples import SampleGrid, SampleList
        from genwidgets.widgets.text_path import TextPath

        views = []
        try:
            source = (LatentSource.from_run(self.run) if saved is None
                      else LatentSource.from_folder(saved_run_path(self.runs, saved)))
            image = source.modality == "image"
            if {"encode", "decode"} <= source.capabilities:
                latent_map = LatentMap(source)
                path = (InterpolationStrip(source, latent_map=latent_map) if image
                        else TextPath(source, latent_map=latent_map))
                views += [latent_map, path]
            if "sample" in source.capabilities:
                views.append(SampleGrid(source) if image else SampleList(source))
        except Exception as exc:
            views.append(W.HTML(f"<pre style='color:#c62828'>{html.escape(str(exc))}</pre>"))
        self.explore_box.children = views or [W.HTML("This model offers nothing to explore.")]
        self._explored = self.run if saved is None else saved

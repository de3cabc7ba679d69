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
import os
import re
import secrets
import shutil
import time
from pathlib import Path

import ipywidgets as W

from genwidgets.widgets.errors import error_html
from genwidgets.widgets.config_form import ConfigForm
from genwidgets.widgets.data_fields import UPLOAD_COPIES, DataFields, dataset_choices

TABS = ("Data & Model", "Train", "Explore", "Plugins")
# The first run of the app (the VAE on the digits, 28 steps an epoch) trains about a minute
# on 2 CPU cores: time to try Pause, the learning rate and Resume before it ends. Other data
# (thousands of steps an epoch for sentences) starts at OTHER_EPOCHS.
DEFAULT_EPOCHS, OTHER_EPOCHS = {"digits": 250}, 20


def default_epochs(data: str) -> int:
    """The epochs the form starts with for the dataset named ``data``."""
    return DEFAULT_EPOCHS.get(data, OTHER_EPOCHS)
WIDE = {"description_width": "initial"}  # a label as wide as its text: never cut
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
    from genwidgets.training.run_config import RunConfig

    try:
        options = RunConfig.read(folder).data_options or {}
    except ValueError:  # a RunFolderError: not a config.json a run wrote
        return False
    if not all(
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

    if {p.name for p in folder.path.iterdir()} - {"config.json", *UPLOAD_COPIES, *BOOKKEEPING}:
        return False
    shutil.rmtree(folder.path, ignore_errors=True)
    return True


def random_ends(latent_dim: int, seed: int = 0):
    """Two draws of N(0, I): the ends of a path for a model that cannot encode."""
    import numpy as np

    rng = np.random.default_rng(seed)
    return rng.standard_normal((2, latent_dim)).astype("float32")


class Studio(W.VBox):
    def __init__(self, model: str = "vae", data: str | None = None, *, runs: str | Path = "runs",
                 epochs: int | None = None, batch_size: int = 64, registry=None,
                 app: bool = False):
        from genwidgets.registry import get_registry
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
        self.data_choice = W.Dropdown(options=dataset_choices(self.registry),
                                      value=self.registry.dataset(data).name, description="data")
        self._epochs_given = epochs is not None  # else they follow the data's default
        self.epochs = W.BoundedIntText(value=epochs or default_epochs(self.data_choice.value),
                                       min=1, max=100_000, description="epochs", style=WIDE)
        self.batch_size = W.BoundedIntText(value=batch_size, min=1, max=65_536,
                                           description="batch size", style=WIDE)
        from genwidgets.training.distribution import DISTRIBUTIONS, PRECISIONS

        self.distribution = W.Dropdown(options=DISTRIBUTIONS, value="auto",
                                       description="devices")
        self.precision = W.Dropdown(options=PRECISIONS, value="float32",
                                    description="precision")
        self.create_button = W.Button(description="Create run", icon="plus",
                                      button_style="primary",
                                      layout=W.Layout(flex="0 0 auto", width="auto"))
        self.create_button.add_class("gw-create-run")
        self.create_button.on_click(lambda _: self.create_run())
        # offered when the current run trains or is paused: stop it, then create
        self.stop_create = W.Button(description="Stop it and create", icon="stop",
                                    button_style="warning",
                                    layout=W.Layout(flex="0 0 auto", width="auto",
                                                    display="none"))
        self.stop_create.add_class("gw-stop-create")
        self.stop_create.on_click(lambda _: self.stop_and_create())
        self.message = W.HTML(layout=W.Layout(width="100%"))  # below the buttons: no squeeze
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
            W.HTML("<b>settings</b> <small>(those that apply to this data; the grey line "
                   "under each says what it does)</small>"), self.form_box,
            W.HBox([self.create_button, self.stop_create]), self.message,
        ], layout=W.Layout(width="100%"))
        self.train_box = W.VBox([W.HTML("Create a run on the <i>Data &amp; Model</i> tab.")])
        self.saved = W.Dropdown(options=[CURRENT], value=CURRENT, description="explore")
        self.saved.add_class("gw-explore-choice")
        self.saved.observe(lambda _: self._explore_choice(), "value")
        self.saved_refresh = W.Button(description="list saved runs", icon="refresh",
                                      layout=W.Layout(width="auto"))
        self.saved_refresh.on_click(lambda _: self.list_saved())
        self.explore_box = W.VBox([W.HTML("Create a run first; train it a little, then "
                                          "explore its latent space here.")])
        self.explore_heading = W.HTML()
        self.explore_heading.add_class("gw-explore-heading")
        explore = W.VBox([W.HBox([self.saved, self.saved_refresh]), self.explore_heading,
                          self.explore_box], layout=W.Layout(width="100%"))
        self.tabs = W.Tab(children=[setup, self.train_box, explore, PluginBrowser(
            self.registry)], titles=TABS, layout=W.Layout(width="100%"))
        self.tabs.observe(self._on_tab, "selected_index")
        super().__init__([W.HTML("<h3 style='margin:4px 0'>genwidgets studio</h3>"), self.tabs],
                         layout=W.Layout(width="100%", max_width="1600px"))
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
        if not self._epochs_given and self.epochs.value == default_epochs(change["old"]):
            self.epochs.value = default_epochs(change["new"])  # not one a person typed

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
                self.stop_create.layout.display = None
                doing = ("is paused" if self.run.state == "paused" else "is training")
                raise RuntimeError(f"The current run {doing} (step {self.run.steps}); stop "
                                   f"it before creating another, or press Stop it and "
                                   f"create.")
            out = self.runs / (f"{spec.name}-{dataset.info.name}-"
                               f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}")
            if upload is not None:  # a copy in the run's folder: the run says its data
                data_options["path"] = str((out / upload.copy).resolve())
            run = self._make_run(Run, upload, spec, dataset, config, epochs=self.epochs.value,
                                 batch_size=self.batch_size.value, out=out,
                                 data_options=data_options,
                                 distribution=self.distribution.value,
                                 precision=self.precision.value)
            if "encode" in spec.capabilities:  # the Explore tab's timeline replays these
                from genwidgets.latent import LatentSnapshots

                LatentSnapshots.attach(run)
        except Exception as exc:  # shown beside the button
            self.message.value = error_html(str(exc), inline=True)
            return None
        self.stop_create.layout.display = "none"
        if getattr(self, "panel", None) is not None:
            self.panel.close()
        if self.app and self.run is not None:
            discard_untrained(self.run)
        self.run = run
        self._show_building(f"the new run <code>{html.escape(out.name)}</code>",
                            "its map is made when you open this tab")
        self.panel = TrainPanel(run)
        self.train_box.children = [self.panel]
        made_from = f" from {html.escape(upload[0])}" if upload is not None else ""
        self.message.value = f"run created{made_from}: <code>{html.escape(str(out))}</code>"
        self.tabs.selected_index = TABS.index("Train")
        return run

    def stop_and_create(self, timeout: float = 120.0):
        """Stop the current run (a paused one too), wait for it to end, then create a run
        from the form (what "Stop it and create" does)."""
        run = self.run
        if run is not None and run.alive:
            self._show_building("a new run", "stopping the current run...")  # nothing old
            run.stop()
            if not run.wait(timeout):
                self.message.value = error_html(f"The current run did not stop within "
                                                f"{timeout:.0f} s; try again.", inline=True)
                return None
        return self.create_run()

    def _show_building(self, what: str, how: str = "building...") -> None:
        """Explore shows a building state naming ``what`` (HTML) and nothing of an old run:
        its views are closed (their followers stop; no click decodes with its model)."""
        old = [w for w in self.explore_box.children if not isinstance(w, W.HTML)]
        self.explore_heading.value = (f'<h4 class="gw-explore-title" data-state="building" '
                                      f'style="margin:6px 0">Explore: {what}</h4>')
        self.explore_box.children = [W.HTML(
            f'<div class="gw-explore-building" style="color:#1565c0;padding:8px 0">'
            f"<i>{how}</i></div>")]
        self._explored = None
        for view in old:
            view.close()

    @staticmethod
    def _make_run(make, upload, *args, out: Path, **kwargs):
        """``make(*args, out=out, **kwargs)`` (a run takes a new folder); then an upload's
        bytes go into it as ``upload.copy`` (data.txt, .npz, .zip), the file its data_options
        name. If they cannot, the new folder goes again."""
        run = make(*args, out=out, **kwargs)
        if upload is not None:
            from genwidgets.atomic import write_bytes

            try:
                write_bytes(out / upload.copy, upload[1])
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
        from genwidgets.widgets.attribute_strip import AttributeStrip
        from genwidgets.widgets.interpolation_strip import InterpolationStrip
        from genwidgets.widgets.latent_map import LatentMap
        from genwidgets.widgets.samples import SampleGrid, SampleList
        from genwidgets.widgets.text_path import TextPath

        name = (self.run.folder.path.name if saved is None and self.run.folder is not None
                else "the current run" if saved is None else saved)
        self._show_building(f"<code>{html.escape(name)}</code>",
                            "building the map: encoding the data with the model...")
        views, note = [], ""
        try:
            source = (LatentSource.from_run(self.run) if saved is None
                      else LatentSource.from_folder(saved_run_path(self.runs, saved)))
            image = source.modality == "image"
            caps = source.capabilities
            if {"encode", "decode"} <= caps:
                latent_map = LatentMap(source)
                path = (InterpolationStrip(source, latent_map=latent_map) if image
                        else TextPath(source, latent_map=latent_map))
                views += [latent_map, path, AttributeStrip(latent_map)]
            elif "decode" in caps:  # a GAN: no encoder, so no map of the data
                note = (f"{source.spec.name} has no encoder, so there is no map of the data: "
                        f"below, a path between two random latent vectors, and samples.")
                if image:
                    strip = InterpolationStrip(source, *random_ends(source.latent_dim))
                    views.append(strip)
                    if getattr(source, "run", None) is not None:  # it follows the training
                        from genwidgets.widgets.samples import RunFollower

                        strip.follower = RunFollower(source.run, strip, strip.refresh)
            if "sample" in caps:
                views.append(SampleGrid(source) if image else SampleList(source))
            title = f"{source.spec.name} on {source.info.name} · <code>{html.escape(name)}</code>"
        except Exception as exc:
            title = f"<code>{html.escape(name)}</code>"
            views.append(W.HTML(error_html(str(exc))))
        note = f'<div class="gw-explore-note" style="color:#555">{html.escape(note)}</div>' \
            if note else ""
        self.explore_heading.value = (f'<h4 class="gw-explore-title" data-state="ready" '
                                      f'style="margin:6px 0">Explore: {title}</h4>{note}')
        self.explore_box.children = views or [W.HTML("This model offers nothing to explore.")]
        self._explored = self.run if saved is None else saved

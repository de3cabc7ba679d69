"""``LatentMap``: the encoded data as a 2-D scatter, coloured by label, to click and decode.

One Plotly FigureWidget. Under the points lies a transparent grid (a heatmap) that
receives clicks on empty space, so a click anywhere decodes: a point decodes its own
latent vector, a spot between points the projection's inverse of that spot. Hovering a
point shows the data item beside the map (Plotly's hover box cannot show an image). A
mode toggle (or the "use as" buttons) makes the clicked spot A or B of a path, which
linked views (:class:`InterpolationStrip`, :class:`TextPath`) follow. Plotly's box and
lasso select (the map's toolbar) make :attr:`selection`, the items inside, which an
:class:`AttributeStrip` takes as a group: read from the selections the page records in
the figure's layout (a relayout message), not from Plotly's selection events, which a
hover at the same moment can overwrite on their way to the kernel. :meth:`refresh`
encodes again, for a run that trains meanwhile, in the same projection basis.

When the run saved latent snapshots (:class:`genwidgets.latent.LatentSnapshots`), a
timeline slider replays the map at each saved epoch, in the same basis: the basis is
fitted once, on the latest snapshot when the map is built (the live encoding when there is
none), so the points of every epoch line up. A health line under the map says how many
latent units are active, the KL per dimension (a bar each) and warns of posterior collapse,
for the epoch shown, when those figures say so (never for a model that has not trained, nor
at epoch 0, the map before training).
"""

from __future__ import annotations

import contextlib
import dataclasses
import html

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
import traitlets

from genwidgets.widgets.errors import guarded
from genwidgets.widgets.latent_figure import (
    ItemPanel,
    Timeline,
    extent,
    health_html,
    hover_text,
    inside,
    map_layout,
    map_traces,
)
from genwidgets.widgets.plotly_state import keep_late_viewers_current
from genwidgets.widgets.samples import (
    RunFollower,
    as_source,
    keras_view,
    notes_html,
)


@dataclasses.dataclass(eq=False)
class Pick:
    """A spot on the map: its latent vector, where it is drawn, and its data item if any.
    Two picks are the same only if they are one object (each click makes a new one)."""

    z: np.ndarray
    xy: tuple[float, float]
    index: int | None = None


class LatentMap(W.VBox):
    """Encoded data on a 2-D map (identity for a 2-D latent, PCA otherwise).

    Args:
        source: a ``LatentSource``, a live ``Run`` or the path of a saved run folder.
        max_items: points to encode (a fixed random subset of the data).

    Its state is traitlets, to ``observe`` or ``link``: ``a`` and ``b`` (the path's ends)
    and ``selected`` (the last clicked spot), each a :class:`Pick` or None; ``selection``
    (the items of the box / lasso selection); ``epoch`` (the saved epoch shown; None: now).
    """

    a = traitlets.Instance(Pick, allow_none=True)
    b = traitlets.Instance(Pick, allow_none=True)
    selected = traitlets.Instance(Pick, allow_none=True)
    selection = traitlets.Tuple()
    epoch = traitlets.Int(None, allow_none=True)

    def __init__(self, source, *, max_items: int = 2000, seed: int = 0, width: int = 640,
                 height: int = 520):
        from genwidgets.latent import Projection
        from genwidgets.latent.health import is_variational

        self.source = as_source(source)
        missing = {"encode", "decode"} - set(self.source.capabilities)
        if missing:
            raise ValueError(
                f"LatentMap needs a model that can encode and decode; {self.source.spec.name}"
                f" cannot {' or '.join(sorted(missing))}. Expected capabilities to include "
                f"{sorted(missing)}. Received: capabilities={sorted(self.source.capabilities)}")
        self.max_items, self.seed = max_items, seed
        self.is_text = self.source.modality == "text"
        self.projection = Projection()
        self.path_z = None
        self._path_callbacks = W.CallbackDispatcher()  # linked views: (a_z, b_z)
        self._depth, self._changed = 0, False  # see _sending
        self.variational = is_variational(self.source)
        self.snapshots = self.source.snapshots  # a SnapshotStore, or None
        self.epochs: list[int] = []  # the saved epochs on the timeline
        self._encode()
        axes = ("z[0]", "z[1]") if self.source.latent_dim == 2 else ("PC 1", "PC 2")
        title = f"{self.source.spec.name} on {self.source.info.name}"
        self.figure = go.FigureWidget(layout=map_layout(title, axes, width, height))
        self.figure.add_class("gw-latent-figure")
        self._draw_points()
        self.figure.layout.on_change(lambda *_: self._guard(self._select), "selections")
        self.click_mode = W.ToggleButtons(
            options=[("decode", "decode"), ("set A", "a"), ("set B", "b")], value="decode",
            tooltips=["a click decodes the spot", "the next click is A, then B",
                      "the next click is B"], style={"button_width": "70px"})
        self.use_a = W.Button(description="use as A", layout=W.Layout(width="auto"))
        self.use_b = W.Button(description="use as B", layout=W.Layout(width="auto"))
        self.refresh_button = W.Button(description="Refresh", icon="refresh",
                                       tooltip="encode again with the model as it is now",
                                       layout=W.Layout(width="auto"))
        self.panel = ItemPanel(self.is_text)
        self.item_view, self.decoded_view = self.panel.item_view, self.panel.decoded_view
        self.details, self.info, self.error = self.panel.details, W.HTML(), W.HTML()
        self.health = W.HTML()
        self.timeline = Timeline(lambda epoch: self._guard(self.show_epoch, epoch))
        for widget, name in [(self.click_mode, "mode"), (self.use_a, "use-a"),
                             (self.use_b, "use-b"), (self.refresh_button, "refresh"),
                             (self.health, "health"), (self.info, "info"),
                             (self.error, "error")]:
            widget.add_class(f"gw-map-{name}")
        self.use_a.on_click(lambda _: self._guard(self.set_a))
        self.use_b.on_click(lambda _: self._guard(self.set_b))
        self.refresh_button.on_click(lambda _: self._guard(self.refresh))
        self._update_timeline()
        self._show_info()
        self._show_health()
        notes = [notes_html(self.source)] if getattr(self.source, "notes", None) else []
        super().__init__([
            W.HBox([self.click_mode, self.use_a, self.use_b, self.refresh_button]),
            W.HBox([self.figure, self.panel], layout=W.Layout(align_items="flex-start")),
            self.timeline, self.health, self.info, *notes, self.error])
        self.add_class("gw-latent-map")
        self._warm_decoder()
        self.follower = None  # a live run: new snapshots join the timeline as they come
        run = getattr(self.source, "run", None)
        if run is not None and self.snapshots is not None:
            self.follower = RunFollower(run, self, lambda: self._guard(self._update_timeline),
                                        every_s=3600, min_gap_s=0.5, when_shown=False)

    @classmethod
    def from_keras(cls, encoder, decoder, x, labels=None, label_names=None,
                   **options) -> LatentMap:
        """The map of a Keras encoder and decoder of your own over the items ``x``:
        the arguments of :meth:`genwidgets.latent.LatentSource.from_keras` (``tokenizer``,
        ``decoder_output``...), then the map's (``max_items``, ``width``...). Link other
        views to it with their ``latent_map=`` and the map's ``source``."""
        return keras_view(cls, encoder, decoder, x, labels, label_names, options)

    # -- what other views and code use ----------------------------------------------
    def on_path(self, callback) -> None:
        """Call ``callback(a_z, b_z)`` whenever A or B changes (now, if both are set); an
        error it raises is shown under the map."""
        self._path_callbacks.register_callback(
            lambda a, b: self._guard(callback, a, b))
        if self.a is not None and self.b is not None:
            callback(self.a.z, self.b.z)

    def on_pick(self, callback) -> None:
        """Call ``callback(pick)`` after each click on a spot or a point (``selected``)."""
        self.observe(lambda change: self._guard(callback, change["new"]), "selected")

    def on_selection(self, callback) -> None:
        """Call ``callback(items)`` whenever the box / lasso selection changes."""
        self.observe(lambda change: self._guard(callback, change["new"]), "selection")

    def latents_of(self, items) -> np.ndarray:
        """The latent vectors of data items on the map (as shown: live or a saved epoch)."""
        rows = [self.rows.get(int(i)) for i in np.asarray(items).reshape(-1)]
        if any(r is None for r in rows):
            raise ValueError(f"Expected items on the map. Received: "
                             f"{[int(i) for i, r in zip(items, rows) if r is None][:5]} "
                             f"that are not among its {len(self.idx)} items")
        return self.z[np.asarray(rows, dtype="int64")]

    def label_near(self, z) -> int | None:
        """For a model conditioned on labels: the label of the item nearest ``z`` on the
        map (the class a click there means); None for other models or data."""
        labels = self.source.labels if getattr(self.source, "conditional", False) else None
        if labels is None or not len(self.z):
            return None
        z = np.asarray(z, dtype="float32").reshape(-1)
        return int(np.asarray(labels)[self.idx[((self.z - z) ** 2).sum(1).argmin()]])

    def decode(self, zs, near=None):
        """Decode latent vectors as the map does: a model conditioned on labels is told
        the label nearest ``near`` for all (default: each vector's own nearest item)."""
        zs = np.asarray(zs, dtype="float32")
        first = self.label_near(near if near is not None else zs[0])
        if first is None:
            return self.source.decode(zs)
        labels = [first] * len(zs) if near is not None else [self.label_near(z) for z in zs]
        return self.source.decode(zs, labels=np.asarray(labels, dtype="int32"))

    def select_item(self, index: int) -> Pick:
        """What a click on the point of data item ``index`` does."""
        row = self.rows.get(int(index))
        if row is None:
            raise ValueError(f"Item {index} is not on the map. Expected one of the "
                             f"{len(self.idx)} encoded items, e.g. {self.idx[:5].tolist()}")
        return self._clicked(Pick(self.z[row], tuple(map(float, self.xy[row])), int(index)))

    def select_xy(self, x: float, y: float) -> Pick:
        """What a click on the spot (x, y) of the map does: decode the inverse projection."""
        z = self.projection.inverse(np.array([[x, y]], dtype="float32"))[0]
        return self._clicked(Pick(np.asarray(z, dtype="float32"), (float(x), float(y))))

    def set_a(self, pick: Pick | None = None) -> None:
        """Make ``pick`` (by default the last clicked spot) the start of the path."""
        self.a = self._need(pick)
        with self._sending():
            self._path_changed()

    def set_b(self, pick: Pick | None = None) -> None:
        self.b = self._need(pick)
        with self._sending():
            self._path_changed()

    def show_path(self, zs, current: int | None = None) -> None:
        """Draw a path (latent vectors, A first) on the map; ``current`` larger."""
        zs = np.asarray(zs, dtype="float32")
        moved = self.path_z is None or not np.array_equal(zs, self.path_z)
        self.path_z = zs
        xy = self.projection.transform(zs)
        n = len(xy)
        trace = self.figure.data[self._path_trace]
        with self.figure.batch_update():
            trace.x, trace.y = xy[:, 0], xy[:, 1]
            trace.text = ["A", *[""] * (n - 2), "B"][:n]
            trace.marker.size = [13 if i == current else 7 for i in range(n)]
        if moved:  # not for a mere move of the current step
            with self._sending():
                self._changed = True

    def refresh(self) -> None:
        """Encode the data again (a live run moves on) in the same projection basis, and
        show it (the timeline moves to "now")."""
        self._encode()
        self._update_timeline()
        self.timeline.show(None)
        self._redraw()

    def show_epoch(self, epoch: int | None) -> None:
        """Show the map of a saved epoch (its snapshot), or of the live encoding (None)."""
        if epoch is not None and epoch not in self.epochs:
            raise ValueError(f"No latent snapshot of epoch {epoch}. Expected one of "
                             f"{self.epochs} or None (now). Received: epoch={epoch!r}")
        if epoch is None:
            self._use(*self._live)
        else:
            snap = self.snapshots.load(epoch)
            if len(snap.idx) and snap.idx.max() >= len(self.source.dataset.x):
                raise ValueError(f"The snapshot of epoch {epoch} holds items up to "
                                 f"#{snap.idx.max()}; expected the data the run was trained "
                                 f"on. Received: {len(self.source.dataset.x)} items")
            self._use(snap.idx, snap.z, snap.log_var)
        self.epoch = epoch
        self.timeline.show(epoch)
        self._redraw()

    def close(self) -> None:
        if getattr(self, "follower", None) is not None:  # None until __init__ ends
            self.follower.stop()
        super().close()

    def _redraw(self) -> None:
        for pick in (self.a, self.b, self.selected):
            if pick is not None and pick.index in self.rows:  # an item moves with the model
                row = self.rows[pick.index]
                pick.z, pick.xy = self.z[row], tuple(map(float, self.xy[row]))
        with self._sending():
            self._draw_points()
            self._show_info()
            self._show_health()
            if self.selected is not None:
                self._show_pick(self.selected)
            self._path_changed()
        self._select()  # the items now inside the boxes

    @contextlib.contextmanager
    def _sending(self):
        """Make the figure's stored state current once, when the outermost change is
        done: a view that connects later (a reload, Voila) builds from it."""
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
            if not self._depth and self._changed:
                self._changed = False
                keep_late_viewers_current(self.figure)

    def _warm_decoder(self) -> None:
        """Decode one point now, so the person's first click does not wait for the decoder
        to compile (~200 ms on this CPU; a click after it takes ~4 ms). A model that
        cannot decode says so on the click, not here."""
        if len(self.z):
            try:
                self.source.decode_raw(self.z[:1])
            except Exception:
                pass

    # -- drawing --------------------------------------------------------------------
    def _encode(self) -> None:
        """Encode the data with the model as it is now and use that (epoch None)."""
        from genwidgets.latent.health import trained

        self._live_trained = trained(self.source)  # asked first: steps may come meanwhile
        idx, z = self.source.encode_dataset(max_items=self.max_items, seed=self.seed)
        idx = np.asarray(idx)
        posterior = self.source.posterior(np.asarray(self.source.dataset.x)[idx])
        self._live = (idx, z, None if posterior is None else posterior[1])
        if not self.projection.fitted:  # once: maps of other epochs share the basis
            latest = self.snapshots.latest() if self.snapshots is not None else None
            self.projection.fit(z if latest is None else latest.z)
            self._basis = "the first encoding" if latest is None else "the latest snapshot"
        self.epoch = None
        self._use(*self._live)

    def _use(self, idx, z, log_var) -> None:
        """Make these encodings the map's points (drawn by the caller)."""
        self.idx, self.z, self.log_var = np.asarray(idx), np.asarray(z), log_var
        self.xy = np.asarray(self.projection.transform(self.z), dtype="float32")
        self.rows = {int(i): r for r, i in enumerate(self.idx)}  # item index -> point row
        y, names = self.source.labels, self.source.label_names
        self.labels = None if y is None else np.array(
            [names[int(v)] if names else str(v) for v in y[self.idx]])

    def _draw_points(self) -> None:
        items = self.source.items(self.idx) if self.is_text else None
        labels = self.labels
        hover = ([hover_text(t) for t in items] if self.is_text else
                 [f"#{i} · {html.escape(labels[r] if labels is not None else 'item')}"
                  for r, i in enumerate(self.idx)])
        # the axes fit the cloud shown, with a margin (a fixed range over every epoch left
        # the cloud of the latest in the middle); the click grid covers the same area
        bounds = (self.xy.min(0), self.xy.max(0)) if len(self.xy) else None
        traces, self._groups = map_traces(self.xy, self.idx, labels, hover, bounds)
        self._path_trace, self._selected_trace = len(traces) - 2, len(traces) - 1
        fig = self.figure
        lo, hi = extent(*bounds) if bounds is not None else (None, None)
        with fig.batch_update():
            fig.layout.xaxis.range = None if lo is None else [float(lo[0]), float(hi[0])]
            fig.layout.yaxis.range = None if lo is None else [float(lo[1]), float(hi[1])]
        if [t.name for t in fig.data] == [t.name for t in traces]:
            with fig.batch_update():  # the same groups: move the points and the grid
                for old, new in zip(fig.data[:-2], traces[:-2]):
                    old.update(new.to_plotly_json())
            self._changed = True
            return
        fig.data = []
        fig.add_traces(traces)
        for trace in fig.data:
            trace.on_click(self._on_click)
        for trace in fig.data[1:self._path_trace]:
            trace.on_hover(self._on_hover)

    def _show_info(self) -> None:
        n, total, d = len(self.idx), len(self.source.dataset.x), self.source.latent_dim
        how = "the latent itself" if d == 2 else f"PCA, basis fixed on {self._basis}"
        when = ("now" if self.epoch is None else
                f"epoch {self.epoch} (saved; a click decodes with the model of now)")
        self.info.value = (f'<span class="gw-map-count" data-points="{n}">{n} of {total} '
                           f"items · {d}-D latent · map: {how} · {when}</span>")

    def _show_health(self) -> None:
        from genwidgets.latent.health import posterior_health

        # the figures' own model: epoch 0 is before training, a later one after some
        learnt = self._live_trained if self.epoch is None else self.epoch > 0
        report = posterior_health(self.z, self.log_var, variational=self.variational,
                                  trained=learnt)
        self.health_report = report  # what linked views (a TextPath) may say of collapse
        self.health.value = health_html(report, self.variational)

    def _update_timeline(self) -> None:
        """Put the saved epochs on the timeline (shown once there is one)."""
        epochs = self.snapshots.epochs() if self.snapshots is not None else []
        if epochs == self.epochs:
            return
        self.epochs = epochs
        if self.epoch is not None and self.epoch not in epochs:  # snapshots of a new run
            self.show_epoch(None)
        self.timeline.set_epochs(epochs, self.epoch)
        with self._sending():
            self._draw_points()

    # -- clicks -----------------------------------------------------------------------
    def _guard(self, action, *args):
        return guarded(self.error, action, *args)

    def _on_click(self, trace, points, state) -> None:
        if not points.point_inds:
            return  # Plotly asks every trace; only the clicked one has points
        k, i = self.figure.data.index(trace), points.point_inds[0]
        if k == 0:
            self._guard(self.select_xy, points.xs[0], points.ys[0])
        elif k < self._path_trace:
            self._guard(self.select_item, int(self.idx[self._groups[k - 1][i]]))
        elif k == self._path_trace and self.path_z is not None:
            x, y = points.xs[0], points.ys[0]
            self._guard(self._clicked, Pick(self.path_z[i], (float(x), float(y))))

    def _on_hover(self, trace, points, state) -> None:
        if not points.point_inds:
            return
        k = self.figure.data.index(trace)
        index = int(self.idx[self._groups[k - 1][points.point_inds[0]]])
        self._guard(self._show_item, index, "hover")

    def _select(self) -> None:
        """The items inside the box / lasso selections the page drew (the layout's
        ``selections``, as its JSON: a relayout from the page does not reach the
        ``layout.selections`` objects)."""
        shapes = self.figure.layout.to_plotly_json().get("selections") or []
        rows = np.flatnonzero(inside(self.xy, shapes))
        self.selection = tuple(sorted(int(i) for i in self.idx[rows]))  # observers: changed

    def _clicked(self, pick: Pick) -> Pick:
        mode = self.click_mode.value
        # One Plotly update for the whole click (marker, path, linked views' path), sent
        # after the images: each update redraws the map in the page (~150-500 ms on 2
        # cores), and frames behind it wait. The batch ends before _sending stores the state.
        with self._sending(), self.figure.batch_update():
            self._show_pick(pick)
            if mode in ("a", "b"):  # "set A" moves on to "set B", "set B" back to decode
                self.click_mode.value = "b" if mode == "a" else "decode"
                (self.set_a if mode == "a" else self.set_b)(pick)
        self.selected = pick  # after the map answered: observers (an AttributeStrip) follow
        return pick

    def _need(self, pick: Pick | None) -> Pick:
        pick = pick if pick is not None else self.selected
        if pick is None:
            raise ValueError("Nothing is selected yet: click a point or a spot on the map "
                             "first, or pass a Pick. Received: pick=None")
        return pick

    def _show_pick(self, pick: Pick) -> None:
        self.panel.show_decoded(self.decode(pick.z[None]))
        with self.figure.batch_update():
            self.figure.data[self._selected_trace].x = [pick.xy[0]]
            self.figure.data[self._selected_trace].y = [pick.xy[1]]
        self._changed = True
        if pick.index is not None:
            self._show_item(pick.index, "clicked")
        else:
            self.panel.show_space(pick.xy)

    def _show_item(self, index: int, how: str) -> None:
        label = None if self.labels is None else str(self.labels[self.rows[index]])
        self.panel.show_item(self.source.items(np.array([index])), index, how, label)

    def _path_changed(self) -> None:
        ends = [p for p in (self.a, self.b) if p is not None]
        trace = self.figure.data[self._path_trace]
        self.path_z = np.stack([p.z for p in ends]) if ends else None
        with self.figure.batch_update():
            trace.x = [p.xy[0] for p in ends]
            trace.y = [p.xy[1] for p in ends]
            trace.text = ["A", "B"][:len(ends)] if self.a is not None else ["B"]
            trace.marker.size = 7
        self._changed = True
        if self.a is not None and self.b is not None:
            self._path_callbacks(self.a.z, self.b.z)  # linked views decode and draw it

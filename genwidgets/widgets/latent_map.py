"""``LatentMap``: the encoded data as a 2-D scatter, coloured by label, to click and decode.

One Plotly FigureWidget. Under the points lies a transparent grid (a heatmap) that
receives clicks on empty space, so a click anywhere decodes: a point decodes its own
latent vector, a spot between points the projection's inverse of that spot. Hovering a
point shows the data item beside the map (Plotly's hover box cannot show an image). A
mode toggle (or the "use as" buttons) makes the clicked spot A or B of a path, which
linked views (:class:`InterpolationStrip`, :class:`TextPath`) follow. Plotly's box and
lasso select (the map's toolbar) make :attr:`selection`, the items inside, which an
:class:`AttributeStrip` takes as a group. :meth:`refresh` encodes again, for a run that
trains meanwhile, in the same projection basis. When the run saved latent snapshots
(:class:`genwidgets.latent.LatentSnapshots`), a timeline slider replays the map at each
saved epoch in that basis. A health line says how many latent units are active, the KL
per dimension (a bar each) and warns of posterior collapse, for the epoch shown, when
those figures say so (see :meth:`MapState.health`).

What the map knows (points, picks, selection, epoch, the lookups and decoding a click needs)
is a plain-Python :class:`genwidgets.latent.map_state.MapState`; the map draws it.
"""

from __future__ import annotations

import functools

import ipywidgets as W
import plotly.graph_objects as go
import traitlets

from genwidgets.latent.map_state import MapState, Pick
from genwidgets.widgets.errors import guarded
from genwidgets.widgets.latent_figure import (ItemPanel, Timeline, draw_points,
                                              health_html, info_html, map_layout, map_toolbar)
from genwidgets.widgets.plotly_state import LateViewers
from genwidgets.widgets.samples import RunFollower, as_source, keras_view, notes_html

__all__ = ["LatentMap", "Pick"]  # Pick: made by the state, importable from here as before
MIRRORED = ["a", "b", "selected", "selection", "epoch"]  # the state's fields, as traitlets


def _of_state(name: str) -> property:
    """A read-only attribute of the map that is its state's: data, or a method to call."""
    return property(lambda self: getattr(self.state, name),
                    doc=f"``state.{name}`` (see :class:`MapState`)")


class LatentMap(W.VBox):
    """Encoded data on a 2-D map (identity for a 2-D latent, PCA otherwise).

    Args:
        source: a ``LatentSource``, a live ``Run`` or the path of a saved run folder.
        max_items: points to encode (a fixed random subset of the data).

    Its state is ``state``, a :class:`MapState`, whose fields the map mirrors as traitlets,
    to ``observe`` or ``link``: ``a`` and ``b`` (the path's ends) and ``selected`` (the last
    clicked spot), each a :class:`Pick` or None; ``selection`` (the items of the box / lasso
    selection); ``epoch`` (the saved epoch shown; None: now).
    """

    a = traitlets.Instance(Pick, allow_none=True)
    b = traitlets.Instance(Pick, allow_none=True)
    selected = traitlets.Instance(Pick, allow_none=True)
    selection = traitlets.Tuple()
    epoch = traitlets.Int(None, allow_none=True)

    # what the state holds and answers, read through the map
    source, projection, snapshots, epochs, path_z = map(_of_state, (
        "source", "projection", "snapshots", "epochs", "path_z"))
    idx, z, xy, rows, labels = map(_of_state, ("idx", "z", "xy", "rows", "labels"))
    latents_of, label_near, decode = map(_of_state, ("latents_of", "label_near", "decode"))

    def __init__(self, source, *, max_items: int = 2000, seed: int = 0, width: int = 640,
                 height: int = 520):
        self.state = MapState(as_source(source), max_items=max_items, seed=seed)
        # a traitlet set from outside (a link) reaches the state too
        self.observe(lambda change: setattr(self.state, change["name"], change["new"]),
                     MIRRORED)
        self.is_text = self.source.modality == "text"
        self._path_callbacks = W.CallbackDispatcher()  # linked views: (a_z, b_z)
        self.info, self.error, self.health = (
            W.HTML().add_class(f"gw-map-{name}") for name in ("info", "error", "health"))
        self._guard = functools.partial(guarded, self.error)  # errors shown, not raised
        axes = ("z[0]", "z[1]") if self.source.latent_dim == 2 else ("PC 1", "PC 2")
        title = f"{self.source.spec.name} on {self.source.info.name}"
        self.figure = go.FigureWidget(layout=map_layout(title, axes, width, height))
        self.figure.add_class("gw-latent-figure")
        self.late = LateViewers(self.figure)  # see plotly_state
        self._draw_points()
        self.figure.layout.on_change(lambda *_: self._guard(self._select), "selections")
        self.click_mode, self.use_a, self.use_b, self.refresh_button = map_toolbar()
        self.panel = ItemPanel(self.is_text)
        self.item_view, self.decoded_view, self.details = (
            self.panel.item_view, self.panel.decoded_view, self.panel.details)
        self.timeline = Timeline(lambda epoch: self._guard(self.show_epoch, epoch))
        self.use_a.on_click(lambda _: self._guard(self.set_a))
        self.use_b.on_click(lambda _: self._guard(self.set_b))
        self.refresh_button.on_click(lambda _: self._guard(self.refresh))
        self._update_timeline()
        self._show_lines()
        notes = [notes_html(self.source)] if getattr(self.source, "notes", None) else []
        super().__init__([
            W.HBox([self.click_mode, self.use_a, self.use_b, self.refresh_button]),
            W.HBox([self.figure, self.panel], layout=W.Layout(align_items="flex-start")),
            self.timeline, self.health, self.info, *notes, self.error])
        self.add_class("gw-latent-map")
        self.state.warm_decoder()
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
        self._path_callbacks.register_callback(lambda a, b: self._guard(callback, a, b))
        if self.a is not None and self.b is not None:
            callback(self.a.z, self.b.z)

    def on_pick(self, callback) -> None:
        """Call ``callback(pick)`` after each click on a spot or a point (``selected``)."""
        self.observe(lambda change: self._guard(callback, change["new"]), "selected")

    def on_selection(self, callback) -> None:
        """Call ``callback(items)`` whenever the box / lasso selection changes."""
        self.observe(lambda change: self._guard(callback, change["new"]), "selection")

    def select_item(self, index: int) -> Pick:
        """What a click on the point of data item ``index`` does."""
        return self._clicked(self.state.item(index))

    def select_xy(self, x: float, y: float) -> Pick:
        """What a click on the spot (x, y) of the map does: decode the inverse projection."""
        return self._clicked(self.state.spot(x, y))

    def set_a(self, pick: Pick | None = None) -> None:
        """Make ``pick`` (by default the last clicked spot) the start of the path."""
        self.a = self.state.set_a(pick)
        with self.late.sending():
            self._path_changed()

    def set_b(self, pick: Pick | None = None) -> None:
        self.b = self.state.set_b(pick)
        with self.late.sending():
            self._path_changed()

    def show_path(self, zs, current: int | None = None) -> None:
        """Draw a path (latent vectors, A first) on the map; ``current`` larger."""
        moved = self.state.set_path(zs)
        xy = self.projection.transform(self.path_z)
        n = len(xy)
        self.figure.data[self._path_trace].update(
            x=xy[:, 0], y=xy[:, 1], text=["A", *[""] * (n - 2), "B"][:n],
            marker_size=[13 if i == current else 7 for i in range(n)])
        if moved:  # not for a mere move of the current step
            with self.late.sending():
                self.late.changed = True

    def refresh(self) -> None:
        """Encode the data again (a live run moves on) in the same projection basis, and
        show it (the timeline moves to "now")."""
        self.state.encode()
        self.epoch = None
        self._update_timeline()
        self.timeline.show(None)
        self._redraw()

    def show_epoch(self, epoch: int | None) -> None:
        """Show the map of a saved epoch (its snapshot), or of the live encoding (None)."""
        self.state.show_epoch(epoch)
        self.epoch = epoch
        self.timeline.show(epoch)
        self._redraw()

    def close(self) -> None:
        if getattr(self, "follower", None) is not None:  # None until __init__ ends
            self.follower.stop()
        super().close()

    # -- drawing --------------------------------------------------------------------
    def _redraw(self) -> None:
        self.state.follow_items()  # a picked item moves with the model
        with self.late.sending():
            self._draw_points()
            self._show_lines()
            if self.selected is not None:
                self._show_pick(self.selected)
            self._path_changed()
        self._select()  # the items now inside the boxes

    def _draw_points(self) -> None:
        items = self.source.items(self.idx) if self.is_text else None
        self._groups, new = draw_points(self.figure, self.xy, self.idx, self.labels, items)
        self._path_trace = len(self.figure.data) - 2  # the last two: path, selected marker
        self._selected_trace = self._path_trace + 1
        if not new:
            self.late.changed = True
            return
        for trace in self.figure.data:
            trace.on_click(self._on_click)
        for trace in self.figure.data[1:self._path_trace]:
            trace.on_hover(self._on_hover)

    def _show_lines(self) -> None:
        """The info line and the health line (the figures of the epoch shown)."""
        self.info.value = info_html(len(self.idx), len(self.source.dataset.x),
                                    self.source.latent_dim, self.state.basis, self.epoch)
        self.health_report = self.state.health()  # what linked views (a TextPath) may say
        self.health.value = health_html(self.health_report, self.state.variational)

    def _update_timeline(self) -> None:
        """Put the saved epochs on the timeline (shown once there is one)."""
        if not self.state.read_epochs():
            return
        if self.epoch is not None and self.epoch not in self.epochs:  # snapshots of a new run
            self.show_epoch(None)
        self.timeline.set_epochs(self.epochs, self.epoch)
        with self.late.sending():
            self._draw_points()

    def _show_pick(self, pick: Pick) -> None:
        self.panel.show_decoded(self.decode(pick.z[None]))
        self.figure.data[self._selected_trace].update(x=[pick.xy[0]], y=[pick.xy[1]])
        self.late.changed = True
        if pick.index is not None:
            self.panel.show_item(pick.index, "clicked", *self.state.data_of(pick.index))
        else:
            self.panel.show_space(pick.xy)

    def _path_changed(self) -> None:
        ends = self.state.path_to_ends()
        text = ["A", "B"][:len(ends)] if self.a is not None else ["B"]
        self.figure.data[self._path_trace].update(
            x=[p.xy[0] for p in ends], y=[p.xy[1] for p in ends], text=text, marker_size=7)
        self.late.changed = True
        if self.a is not None and self.b is not None:
            self._path_callbacks(self.a.z, self.b.z)  # linked views decode and draw it

    # -- clicks -----------------------------------------------------------------------
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
        self._guard(lambda: self.panel.show_item(index, "hover", *self.state.data_of(index)))

    def _select(self) -> None:
        """The items inside the box / lasso selections the page records in the figure's
        layout (a relayout message; read as the layout's JSON, as it does not reach the
        ``layout.selections`` objects), not Plotly's selection events, which a hover at the
        same moment can overwrite on their way to the kernel."""
        shapes = self.figure.layout.to_plotly_json().get("selections") or []
        self.selection = self.state.select(shapes)  # observers: if it changed

    def _clicked(self, pick: Pick) -> Pick:
        mode = self.click_mode.value
        # One Plotly update for the whole click (marker, path, linked views' path), sent
        # after the images: each update redraws the map in the page (~150-500 ms on 2
        # cores), and frames behind it wait. The batch ends before the late viewers' state
        # is stored.
        with self.late.sending(), self.figure.batch_update():
            self._show_pick(pick)
            if mode in ("a", "b"):  # "set A" moves on to "set B", "set B" back to decode
                self.click_mode.value = "b" if mode == "a" else "decode"
                (self.set_a if mode == "a" else self.set_b)(pick)
        self.selected = pick  # after the map answered: observers (an AttributeStrip) follow
        return pick

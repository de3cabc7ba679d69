"""The parts of a :class:`LatentMap`: its Plotly figure and how the points are drawn on it,
and what lies beside it: the toolbar, the item panel, the info and health lines and the
timeline. (What the map knows, apart from drawing: ``genwidgets.latent.map_state``.)

Traces, in order: ``space`` (a transparent heatmap under everything: it receives clicks
on empty space, at the resolution of its grid), one scatter per label (or one ``data``
trace), the ``path`` A -> B and the ``selected`` marker.
"""

from __future__ import annotations

import html
import textwrap

import ipywidgets as W
import numpy as np
import plotly.colors
import plotly.graph_objects as go

from genwidgets.widgets.render import BLANK_PNG, image_grid_png
from genwidgets.widgets.samples import pixel_scale

GRID = 80  # cells a side of the click-catching grid: the resolution of a click on space
PAD = 0.08  # the grid reaches this share of the data's span beyond the outermost points
COLOURS = plotly.colors.qualitative.D3 + plotly.colors.qualitative.Dark24
CLEAR = [[0, "rgba(0,0,0,0)"], [1, "rgba(0,0,0,0)"]]


def hover_text(text: str, width: int = 60) -> str:
    """A sentence for a hover label: wrapped, escaped as Plotly reads it (it knows
    ``&amp; &lt; &gt;`` but not ``&quot;``, so quotes stay as they are)."""
    lines = textwrap.wrap(text, width)
    return "<br>".join(html.escape(line, quote=False) for line in lines) or "&nbsp;"


def map_layout(title: str, axes: tuple[str, str], width: int, height: int) -> go.Layout:
    return go.Layout(
        width=width, height=height, template="plotly_white", hovermode="closest",
        margin=dict(l=45, r=10, t=30, b=40), xaxis=dict(title=axes[0], zeroline=False),
        yaxis=dict(title=axes[1], zeroline=False), legend=dict(itemsizing="constant"),
        title=dict(text=html.escape(title), font=dict(size=13)))


def extent(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The area drawn around points between ``lo`` and ``hi``: a margin of PAD each side."""
    span = np.maximum(hi - lo, 1e-3)
    return lo - PAD * span, hi + PAD * span


def click_grid(xy: np.ndarray, bounds=None) -> go.Heatmap:
    """A transparent heatmap over the points (or over ``bounds``, (lo, hi)) and a margin."""
    lo, hi = extent(*(bounds if bounds is not None else (xy.min(0), xy.max(0))))
    step = (hi - lo) / GRID
    return go.Heatmap(z=np.zeros((GRID, GRID), "uint8"), x0=lo[0] + step[0] / 2, dx=step[0],
                      y0=lo[1] + step[1] / 2, dy=step[1], zmin=0, zmax=1, colorscale=CLEAR,
                      showscale=False, hoverinfo="none", name="space")


def map_traces(xy: np.ndarray, idx: np.ndarray, labels, hover: list[str], bounds=None):
    """``(traces, groups)``: every trace of the map, and the rows of ``xy`` each label's
    trace holds (in its point order). ``bounds``: what the click grid covers."""
    named = labels is not None
    labels = np.asarray(labels) if named else np.array(["data"] * len(idx))
    hover = np.asarray(hover, dtype=object)
    traces, groups = [click_grid(xy, bounds)], []
    for k, name in enumerate(dict.fromkeys(labels.tolist())):
        rows = np.flatnonzero(labels == name)
        groups.append(rows)
        traces.append(go.Scatter(
            x=xy[rows, 0], y=xy[rows, 1], mode="markers", name=name, customdata=idx[rows],
            hovertext=hover[rows].tolist(), hovertemplate="%{hovertext}<extra></extra>",
            marker=dict(size=5, opacity=0.75, color=COLOURS[k % len(COLOURS)]),
            showlegend=named))
    traces.append(go.Scatter(x=[], y=[], mode="lines+markers+text", name="path", text=[],
                             textposition="top center", hoverinfo="skip", showlegend=False,
                             line=dict(color="#222", width=2, dash="dot"),
                             marker=dict(color="#222", size=7),
                             textfont=dict(size=15, color="#000")))
    traces.append(go.Scatter(x=[], y=[], mode="markers", name="selected", hoverinfo="skip",
                             showlegend=False,
                             marker=dict(symbol="x-thin-open", size=14, color="#d62728",
                                         line=dict(width=3, color="#d62728"))))
    return traces, groups


def point_hovers(idx: np.ndarray, labels, items=None) -> list[str]:
    """The hover label of each point: its sentence (``items``, for text), else the item's
    number and label."""
    if items is not None:
        return [hover_text(t) for t in items]
    return [f"#{i} · {html.escape(labels[r] if labels is not None else 'item')}"
            for r, i in enumerate(idx)]


def draw_points(fig: go.FigureWidget, xy: np.ndarray, idx: np.ndarray, labels,
                items=None) -> tuple[list[np.ndarray], bool]:
    """Put the points ``xy`` of the items ``idx`` on the map ``fig``; ``(groups, new)``:
    the rows each label's trace holds (see :func:`map_traces`), and whether the traces are
    new ones (other labels: their click and hover handlers are to be set) rather than the
    same ones moved."""
    # the axes fit the cloud shown, with a margin (a fixed range over every epoch left
    # the cloud of the latest in the middle); the click grid covers the same area
    bounds = (xy.min(0), xy.max(0)) if len(xy) else None
    traces, groups = map_traces(xy, idx, labels, point_hovers(idx, labels, items), bounds)
    lo, hi = extent(*bounds) if bounds is not None else (None, None)
    with fig.batch_update():
        fig.layout.xaxis.range = None if lo is None else [float(lo[0]), float(hi[0])]
        fig.layout.yaxis.range = None if lo is None else [float(lo[1]), float(hi[1])]
    if [t.name for t in fig.data] == [t.name for t in traces]:
        with fig.batch_update():  # the same groups: move the points and the grid
            for old, new in zip(fig.data[:-2], traces[:-2]):
                old.update(new.to_plotly_json())
        return groups, False
    fig.data = []
    fig.add_traces(traces)
    return groups, True


def info_html(n: int, total: int, d: int, basis: str, epoch: int | None) -> str:
    """The line under the map: the points shown, the latent, the projection, the epoch."""
    how = "the latent itself" if d == 2 else f"PCA, basis fixed on {basis}"
    when = ("now" if epoch is None else
            f"epoch {epoch} (saved; a click decodes with the model of now)")
    return (f'<span class="gw-map-count" data-points="{n}">{n} of {total} '
            f"items · {d}-D latent · map: {how} · {when}</span>")


# -- beside the figure: the toolbar, the health line and the timeline ---------------------
def kl_bars_html(kl: list[float], height: int = 28) -> str:
    """One small bar per latent dimension, as tall as its KL (the largest fills it)."""
    top = max(max(kl), 1e-9)
    bars = "".join(
        f'<div title="z[{k}]: {v:.3f} nats" style="width:7px;margin-right:1px;'
        f'height:{max(1, round(height * v / top))}px;background:#1f77b4"></div>'
        for k, v in enumerate(kl))
    return (f'<span class="gw-kl-bars" data-bars="{len(kl)}" style="display:inline-flex;'
            f'align-items:flex-end;height:{height}px;vertical-align:middle;margin:0 6px">'
            f"{bars}</span>")


def health_html(report: dict, variational: bool) -> str:
    """The health line: active units k/d, the KL (per dimension as bars), a warning in red
    (only what the figures beside it say: see ``genwidgets.latent.health``), a note."""
    k, d = report["active_units"], report["latent_dim"]
    parts = [f"active units <b>{k}/{d}</b>"]
    kl = report["kl_per_dim"]
    if kl is not None:
        parts.append(f"KL <b>{sum(kl):.2f}</b> nats (mean {sum(kl) / len(kl):.3f}/dim)"
                     f"{kl_bars_html(kl)}")
    elif variational:
        parts.append("KL per dimension: the model offers no posterior(x)")
    warning, note = report["warning"], report.get("note")
    if note:
        parts.append(f'<i class="gw-health-note">{html.escape(note)}</i>')
    line = " · ".join(parts)
    if warning:
        line += (f'<div class="gw-health-warning" style="color:#b71c1c;background:#ffebee;'
                 f'border-left:4px solid #c62828;padding:3px 8px;margin-top:2px">'
                 f"<b>⚠ {html.escape(warning)}</b></div>")
    return (f'<div class="gw-health-line" data-active="{k}" data-dim="{d}" '
            f'data-warning="{1 if warning else 0}">health: {line}</div>')


def map_toolbar() -> tuple[W.ToggleButtons, W.Button, W.Button, W.Button]:
    """The row above the map: the click mode, "use as A", "use as B" and Refresh."""
    mode = W.ToggleButtons(
        options=[("decode", "decode"), ("set A", "a"), ("set B", "b")], value="decode",
        tooltips=["a click decodes the spot", "the next click is A, then B",
                  "the next click is B"], style={"button_width": "70px"})
    use_a = W.Button(description="use as A", layout=W.Layout(width="auto"))
    use_b = W.Button(description="use as B", layout=W.Layout(width="auto"))
    refresh = W.Button(description="Refresh", icon="refresh",
                       tooltip="encode again with the model as it is now",
                       layout=W.Layout(width="auto"))
    for widget, name in [(mode, "mode"), (use_a, "use-a"), (use_b, "use-b"),
                         (refresh, "refresh")]:
        widget.add_class(f"gw-map-{name}")
    return mode, use_a, use_b, refresh


class Timeline(W.HBox):
    """A slider over the saved epochs and "now" (its last stop); hidden while none is saved.

    ``on_pick(epoch)`` (None for now) runs when a person moves it; :meth:`show` moves it
    from code without calling back.
    """

    def __init__(self, on_pick):
        self.on_pick, self.epochs, self._busy = on_pick, [], False
        self.slider = W.IntSlider(value=0, min=0, max=0, readout=False,
                                  continuous_update=False, description="epoch",
                                  layout=W.Layout(width="360px"))
        self.label = W.HTML()
        self.slider.add_class("gw-map-timeline")
        self.label.add_class("gw-map-epoch")
        self.slider.observe(self._moved, "value")
        super().__init__([self.slider, self.label], layout=W.Layout(display="none"))

    def set_epochs(self, epochs: list[int], at: int | None) -> None:
        self.epochs = list(epochs)
        self.layout.display = None if self.epochs else "none"
        self.show(at)

    def show(self, epoch: int | None) -> None:
        position = len(self.epochs) if epoch is None else self.epochs.index(epoch)
        self._busy = True
        try:
            with self.slider.hold_sync():
                self.slider.max = len(self.epochs)
                self.slider.value = position
        finally:
            self._busy = False
        label = "now" if epoch is None else f"epoch {epoch}"
        self.label.value = (f'<span data-epoch="{"now" if epoch is None else epoch}">'
                            f"{label} · {len(self.epochs)} saved</span>")

    def _moved(self, change) -> None:
        if not self._busy:
            k = change["new"]
            self.on_pick(self.epochs[k] if k < len(self.epochs) else None)


class ItemPanel(W.VBox):
    """Beside the map: the data item under the pointer (or clicked) and what a click decoded."""

    def __init__(self, is_text: bool):
        self.is_text = is_text
        view = (lambda: W.HTML(layout=W.Layout(width="260px"))) if is_text else (
            lambda: W.Image(value=BLANK_PNG, format="png", layout=W.Layout(width="120px")))
        self.item_view, self.decoded_view, self.details = view(), view(), W.HTML()
        for widget, name in [(self.item_view, "item"), (self.decoded_view, "decoded"),
                             (self.details, "details")]:
            widget.add_class(f"gw-map-{name}")
        self.details.value = "<i>hover a point to see it; click anywhere to decode</i>"
        super().__init__([self.details, W.HTML("<b>data item</b>"), self.item_view,
                          W.HTML("<b>decoded</b>"), self.decoded_view],
                         layout=W.Layout(width="270px"))

    def _put(self, view, items) -> None:
        if self.is_text:
            view.value = f"<code>{html.escape(items[0])}</code>"
        else:
            items = np.asarray(items)
            view.value = image_grid_png(items, scale=pixel_scale(items, 112))

    def show_decoded(self, decoded) -> None:
        """One decoded item: an image (1, H, W, C) or a list of one sentence."""
        self._put(self.decoded_view, decoded)

    def show_item(self, index: int, how: str, item, label: str | None) -> None:
        """Data item ``index`` (how: "hover" or "clicked"), with its label if any."""
        label = "" if label is None else f" · label {html.escape(label)}"
        self.details.value = (f'<span data-kind="{how}" data-index="{index}">{how}: item '
                              f"#{index}{label}</span>")
        self._put(self.item_view, item)
        self.item_view.layout.display = None

    def show_space(self, xy) -> None:
        """A click on empty space: no data item there."""
        if self.is_text:
            self.item_view.value = "<i>no item here</i>"
        else:
            self.item_view.layout.display = "none"  # no empty (broken) picture
        self.details.value = (f'<span data-kind="space">clicked empty space at '
                              f"({xy[0]:.2f}, {xy[1]:.2f})</span>")

"""The Plotly figure of a :class:`LatentMap`, and re-sending a figure's full state.

Traces, in order: ``space`` (a transparent heatmap under everything: it receives clicks
on empty space, at the resolution of its grid), one scatter per label (or one ``data``
trace), the ``path`` A -> B and the ``selected`` marker.
"""

from __future__ import annotations

import copy
import html
import textwrap

import numpy as np
import plotly.colors
import plotly.graph_objects as go

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


def click_grid(xy: np.ndarray) -> go.Heatmap:
    """A transparent heatmap over the points and a margin around them."""
    lo, hi = xy.min(0), xy.max(0)
    span = np.maximum(hi - lo, 1e-3)
    lo, step = lo - PAD * span, (1 + 2 * PAD) * span / GRID
    return go.Heatmap(z=np.zeros((GRID, GRID), "uint8"), x0=lo[0] + step[0] / 2, dx=step[0],
                      y0=lo[1] + step[1] / 2, dy=step[1], zmin=0, zmax=1, colorscale=CLEAR,
                      showscale=False, hoverinfo="none", name="space")


def map_traces(xy: np.ndarray, idx: np.ndarray, labels, hover: list[str]):
    """``(traces, groups)``: every trace of the map, and the rows of ``xy`` each label's
    trace holds (in its point order)."""
    named = labels is not None
    labels = np.asarray(labels) if named else np.array(["data"] * len(idx))
    hover = np.asarray(hover, dtype=object)
    traces, groups = [click_grid(xy)], []
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


def resync(figure: go.FigureWidget) -> None:
    """Re-send a FigureWidget's full state. Plotly sends the full data only at creation,
    then deltas; a view that connects later (a reload, Voila, saved state) builds from
    this state, so it must be the current one. (FigureWidget's own display does the same.)"""
    figure._widget_data = copy.deepcopy(figure._data)
    figure._widget_layout = copy.deepcopy(figure._layout_obj._props)

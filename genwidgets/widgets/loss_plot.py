"""``LossPlot``: one Plotly FigureWidget with a trace per loss part, fed rows as they come.

It keeps a decimated copy (at most ``max_points`` per trace: when full, every other point
is dropped and the stride doubles) while the run keeps the full history on disk. An EMA
slider smooths, a toggle switches to a log scale, dotted lines mark epoch boundaries (at most 40) and
validation losses (``val_*`` in epoch rows) show as markers. ``arrays=True`` sends each
redraw's curves as numpy arrays (Plotly's binary encoding), about ten times cheaper than
lists for 2000 points: for a plot redrawn on the training thread itself (``LiveLoss``).

A page that connects later (a reload, a second tab) builds a FigureWidget from its
creation state, which Plotly never updates: after each redraw the plot makes that state
the current one without sending it (:func:`keep_late_viewers_current`), so a late viewer
sees every point drawn so far and live viewers get no extra traffic.
"""

from __future__ import annotations

import math

import ipywidgets as W
import plotly.graph_objects as go

from genwidgets.widgets.plotly_state import keep_late_viewers_current

SKIP = ("step", "epoch", "t")
# The total solid and dark, its parts dashed in colour: where the loss is nearly its
# reconstruction (a text VAE's small KL) both lines still show, neither hides the other.
TOTAL_LINE = dict(color="#212121", width=2.5)
PART_DASH = "dash"
MAX_EPOCH_LINES = 40  # beyond this, every k-th epoch gets its line


class _Series:
    """A decimated, EMA-smoothed series of one loss part."""

    def __init__(self, max_points: int):
        self.max_points = max_points
        self.stride = 1
        self.x: list[int] = []
        self.raw: list[float] = []
        self.ema: float | None = None
        self.smooth: list[float] = []

    def add(self, step: int, value: float, alpha: float) -> None:
        if math.isfinite(value):
            self.ema = value if self.ema is None else alpha * self.ema + (1 - alpha) * value
        if (step - 1) % self.stride:  # steps 1, 1+stride, ...: the same points x[::2] keeps
            return
        self.x.append(step)
        self.raw.append(value)
        self.smooth.append(self.ema if self.ema is not None else value)
        if len(self.x) > self.max_points:
            self.x, self.raw, self.smooth = self.x[::2], self.raw[::2], self.smooth[::2]
            self.stride *= 2


class LossPlot(W.VBox):
    def __init__(self, rows=(), epoch_rows=(), *, max_points: int = 2000, title: str = "loss",
                 height: int = 340, width: int = 720, arrays: bool = False):
        self.max_points = max_points
        self.arrays = bool(arrays)
        self.smoothing = W.FloatSlider(value=0.6, min=0.0, max=0.99, step=0.01,
                                       description="smoothing", continuous_update=False)
        self.log_scale = W.ToggleButton(value=False, description="log scale",
                                        tooltip="show the losses on a log scale")
        self.series: dict[str, _Series] = {}
        self.epoch_steps: list[int] = []
        self.val: dict[str, tuple[list[int], list[float]]] = {}
        self._rows: list[dict] = []  # everything seen, to re-smooth when the slider moves
        self._epoch_rows: list[dict] = []
        self.figure = go.FigureWidget(layout=go.Layout(
            title=title, height=height, width=width, margin=dict(l=50, r=10, t=40, b=40),
            xaxis_title="step", yaxis_title="loss", template="plotly_white",
            legend=dict(orientation="h", y=-0.2)))
        self.figure.add_class("gw-loss-figure")
        self.add_rows(rows, epoch_rows)
        self.smoothing.observe(lambda _: self._resmooth(), "value")
        self.log_scale.observe(self._on_log, "value")
        super().__init__([W.HBox([self.smoothing, self.log_scale]), self.figure])
        self.add_class("gw-loss-plot")

    @property
    def point_counts(self) -> dict[str, int]:
        return {name: len(s.x) for name, s in self.series.items()}

    def add_rows(self, rows=(), epoch_rows=()) -> None:
        """Append batch rows and epoch rows; redraw once."""
        rows, epoch_rows = list(rows), list(epoch_rows)
        if not rows and not epoch_rows:
            return
        self._rows += rows
        self._epoch_rows += epoch_rows
        alpha = self.smoothing.value
        for row in rows:
            for key, value in row.items():
                if key not in SKIP:
                    self.series.setdefault(key, _Series(self.max_points)).add(
                        row["step"], float(value), alpha)
        for row in epoch_rows:
            self.epoch_steps.append(row["step"])
            for key, value in row.items():
                if key.startswith("val_"):
                    xs, ys = self.val.setdefault(key, ([], []))
                    xs.append(row["step"])
                    ys.append(float(value))
        self._redraw()

    def _resmooth(self) -> None:
        rows, epochs = self._rows, self._epoch_rows
        self.series, self.epoch_steps, self.val, self._rows, self._epoch_rows = {}, [], {}, [], []
        self.add_rows(rows, epochs)

    def _on_log(self, change) -> None:
        self.figure.layout.yaxis.type = "log" if change["new"] else "linear"
        keep_late_viewers_current(self.figure)

    def _redraw(self) -> None:
        fig = self.figure
        wanted = [(name, s.x, s.smooth, "lines") for name, s in self.series.items()]
        wanted += [(name, xs, ys, "markers") for name, (xs, ys) in self.val.items()]
        for name, xs, ys, mode in wanted:  # new loss parts get a trace of their own
            if name not in [t.name for t in fig.data]:
                line = TOTAL_LINE if name == "loss" else dict(dash=PART_DASH, width=1.8)
                fig.add_trace(go.Scatter(x=[], y=[], name=name, mode=mode,
                                         line=line if mode == "lines" else None))
        names = [t.name for t in fig.data]
        if self.arrays:
            import numpy as np

            curve = lambda values: np.asarray(values, dtype="float64")  # noqa: E731
        else:
            curve = list
        with fig.batch_update():
            for name, xs, ys, _ in wanted:
                trace = fig.data[names.index(name)]
                trace.x, trace.y = curve(xs), curve(ys)
            fig.layout.shapes = [
                dict(type="line", xref="x", yref="paper", x0=s, x1=s, y0=0, y1=1,
                     line=dict(color="#bbb", width=1, dash="dot"))
                for s in self.epoch_steps[::max(1, -(-len(self.epoch_steps) // MAX_EPOCH_LINES))]
            ]
        keep_late_viewers_current(fig)

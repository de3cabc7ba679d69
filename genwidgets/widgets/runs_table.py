"""``RunsTable``: the runs saved under a folder, and their loss curves overlaid.

One row per run folder (model, data, the settings that differ from the model's defaults,
epochs, steps, final losses, whether the model was saved). Tick runs and their curves
for the chosen loss part share one Plotly figure. Everything is read from the folders:
no server, no account.
"""

from __future__ import annotations

import html
from pathlib import Path

import ipywidgets as W
import plotly.graph_objects as go

from genwidgets.training.folder import LOSS_SKIP, RunRecord, find_runs
from genwidgets.widgets.errors import error_html

MAX_POINTS = 2000  # per curve
COLUMNS = ("", "run", "model", "data", "settings", "epochs", "steps", "saved", "final losses",
           "validation")


def _defaults(model: str) -> dict:
    """The model's default settings, or {} when it is not installed."""
    import dataclasses

    from genwidgets.registry import get_registry

    try:
        return dataclasses.asdict(get_registry().model(model).config())
    except Exception:
        return {}


def settings_text(record: RunRecord) -> str:
    defaults = _defaults(record.model)
    changed = {k: v for k, v in record.config.items() if defaults.get(k, object()) != v}
    return ", ".join(f"{k}={v}" for k, v in changed.items()) or "defaults"


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _fmt(value) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


class RunsTable(W.VBox):
    def __init__(self, root: str | Path = "runs", *, metric: str = "loss", height: int = 340):
        self.root = Path(root)
        self.refresh_button = W.Button(description="Refresh", icon="refresh",
                                       layout=W.Layout(width="auto"))
        self.refresh_button.add_class("gw-runs-refresh")
        self.refresh_button.on_click(lambda _: self.refresh())
        self.metric = W.Dropdown(options=[metric], value=metric, description="loss part")
        self.metric.add_class("gw-runs-metric")
        self.metric.observe(lambda _: self._quiet or self._draw(), "value")
        self._quiet = False
        self.table = W.GridBox(layout=W.Layout(
            grid_template_columns=f"30px repeat({len(COLUMNS) - 1}, max-content)",
            grid_gap="2px 14px", align_items="center", overflow="auto"))
        self.table.add_class("gw-runs-grid")
        self.figure = go.FigureWidget(layout=go.Layout(
            height=height, width=700, template="plotly_white", xaxis_title="step",
            yaxis_title=metric, margin=dict(l=50, r=10, t=30, b=40),
            legend=dict(orientation="h", y=-0.25)))
        self.figure.add_class("gw-runs-figure")
        self.records: list[RunRecord] = []
        self.checks: list[W.Checkbox] = []
        self._curves: dict[Path, list[dict]] = {}
        self.heading = W.HTML()
        super().__init__([W.HBox([self.heading, self.refresh_button]), self.table,
                          self.metric, self.figure])
        self.add_class("gw-runs-table")
        self.refresh()

    @property
    def selected(self) -> list[RunRecord]:
        return [r for r, c in zip(self.records, self.checks) if c.value]

    def select(self, *names: str) -> None:
        """Tick the runs with these folder names (what a click on their boxes does)."""
        unknown = set(names) - {r.name for r in self.records}
        if unknown:
            raise ValueError(f"Unknown run {sorted(unknown)}. Expected one of "
                             f"{[r.name for r in self.records]}")
        for record, check in zip(self.records, self.checks):
            check.value = check.value or record.name in names

    def refresh(self) -> None:
        """Read the folder again, keeping the ticks of runs that are still there."""
        ticked = {r.path for r in self.selected}
        self.records = find_runs(self.root)
        self._curves.clear()
        self.checks = []
        for i, record in enumerate(self.records):
            check = W.Checkbox(value=record.path in ticked and record.error is None,
                               indent=False, disabled=record.error is not None,
                               layout=W.Layout(width="28px"))
            check.add_class("gw-run-select")
            check.add_class(f"gw-run-{i}")
            check.observe(lambda _: self._quiet or self._draw(), "value")
            self.checks.append(check)
        self._render()
        n = len(self.records)
        self.heading.value = (
            f"<b>{n} run{'s' if n != 1 else ''}</b> in <code>{html.escape(str(self.root))}"
            f"</code>" if n else
            f"No runs in <code>{html.escape(str(self.root))}</code> yet: train with "
            f"<code>Run(..., out='{html.escape(str(self.root))}/NAME')</code> or "
            f"<code>genwidgets train --out {html.escape(str(self.root))}/NAME</code>.")
        self._draw()

    def _render(self) -> None:
        cells = [W.HTML(f"<b>{c}</b>") for c in COLUMNS]
        for record, check in zip(self.records, self.checks):
            try:
                row = self._row(record)
            except Exception as exc:  # one odd folder shows its reason; the rest stay
                record.error = f"{record.path} cannot be shown ({type(exc).__name__}: {exc})"
                row = self._row(record)
            if record.error is not None:
                check.disabled = True
            cells += [check, *row]
        self.table.children = cells

    def _row(self, record: RunRecord) -> list[W.HTML]:
        if record.error:
            return [W.HTML(f"<code>{html.escape(record.name)}</code>"),
                    W.HTML(error_html(record.error, inline=True)),
                    *[W.HTML("") for _ in COLUMNS[3:]]]
        losses = ", ".join(f"{k} {_fmt(v)}" for k, v in record.final.items()
                           if not k.startswith("val_"))
        held_out = ", ".join(f"{k} {_fmt(v)}" for k, v in record.final.items()
                             if k.startswith("val_"))  # the last epoch's held-out losses
        values = [f"<code>{html.escape(record.name)}</code>", record.model, record.data,
                  settings_text(record), record.epochs, record.steps,
                  "yes" if record.saved else "no", losses or "–", held_out or "–"]
        return [W.HTML(v if i == 0 else html.escape(str(v))) for i, v in enumerate(values)]

    def _rows_of(self, record: RunRecord) -> list[dict]:
        if record.path not in self._curves:
            try:
                rows = record.batches() or record.epoch_rows()
            except (OSError, ValueError) as exc:  # say, batches.jsonl unreadable: its row says
                record.error = (f"{record.path} cannot be read ({type(exc).__name__}: "
                                f"{exc})")
                rows = []
            rows = [r for r in rows if _number(r.get("step"))]
            stride = max(1, -(-len(rows) // MAX_POINTS))
            self._curves[record.path] = rows[::stride]
        return self._curves[record.path]

    def _val_rows_of(self, record: RunRecord) -> list[dict]:
        try:
            return [r for r in record.epoch_rows() if _number(r.get("step"))]
        except (OSError, ValueError):
            return []

    def _draw(self) -> None:
        chosen = self.selected
        for record in chosen:
            self._rows_of(record)
        failed = [r for r in chosen if r.error is not None]
        if failed:  # its row now gives the reason, and its box is cleared
            self._quiet = True
            try:
                for record, check in zip(self.records, self.checks):
                    if record in failed:
                        check.value = False
            finally:
                self._quiet = False
            self._render()
            chosen = self.selected
        parts = sorted({k for r in chosen for row in self._rows_of(r)[:1] for k in row
                        if k not in LOSS_SKIP} | {self.metric.value}
                       | {k for r in chosen for k in r.final if k.startswith("val_")})
        metric = self.metric.value
        if list(self.metric.options) != parts:
            self._quiet = True  # new options reset the value; put it back without a redraw
            try:
                self.metric.options = parts
                self.metric.value = metric
            finally:
                self._quiet = False
        traces = []
        for record in chosen:
            rows = self._rows_of(record)
            if metric.startswith("val_"):  # held-out losses: one value an epoch
                rows = self._val_rows_of(record)
            rows = [row for row in rows if _number(row.get(metric))]
            if not rows:  # this run has no such loss part (an AE has no kl)
                continue
            traces.append(go.Scatter(x=[row["step"] for row in rows],
                                     y=[row[metric] for row in rows],
                                     mode="lines+markers" if metric.startswith("val_")
                                     else "lines",
                                     name=f"{record.name} ({record.model})"))
        self.figure.data = []
        if traces:
            self.figure.add_traces(traces)
        self.figure.layout.yaxis.title = metric

"""``TrainPanel``: buttons, progress, status, the live ``LossPlot``, samples and settings.

The run's worker never touches a widget. The panel's pump thread drains the run's event
queue and applies only the newest state: the status line at most 2.5 times a second, the
plot once (a FigureWidget update costs 4 comm messages), the samples every few
seconds, each only when it changed. That keeps the comm traffic to the browser under ~10
messages a second whatever the step rate (benchmarks/train_overhead.py counts them).
"""

from __future__ import annotations

import html
import queue
import threading
import time

import ipywidgets as W

from genwidgets.widgets.loss_plot import LossPlot
from genwidgets.widgets.render import BLANK_PNG, image_grid_png, text_lines_html

STATUS_EVERY_S, PLOT_EVERY_S = 0.4, 1.0  # a plot redraw is 4 comm messages in Plotly
_LABEL = {"description_width": "90px"}


def _duration(seconds) -> str:
    if seconds is None:
        return "–"
    seconds = int(seconds)
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def status_html(snap: dict) -> str:
    total = max(int(snap["total_steps"]), 1)
    state = snap["state"]
    colour = {"failed": "#c62828", "stopped": "#e65100", "paused": "#1565c0"}.get(state, "#333")
    return (
        f'<div class="gw-train-status" data-state="{state}" data-step="{snap["step"]}">'
        f'<progress max="{total}" value="{min(snap["step"], total)}" style="width:100%"></progress>'
        f'<div>epoch {snap["epoch"]}/{snap["epochs"]} · step {snap["step"]}/{total} · '
        f'{snap["rate"]:.1f} steps/s · ETA {_duration(snap["eta_s"])}</div>'
        f'<div class="gw-train-message" style="color:{colour}"><b>{html.escape(snap["message"])}'
        f"</b></div></div>"
    )


class TrainPanel(W.VBox):
    def __init__(self, run, *, preview_every_s: float = 3.0, preview_n: int = 16):
        self.run = run
        self.preview_every_s, self.preview_n = preview_every_s, preview_n
        self.buttons = {
            name: W.Button(description=label, icon=icon, layout=W.Layout(width="auto"))
            for name, label, icon in [("train", "Train", "play"), ("pause", "Pause", "pause"),
                                      ("resume", "Resume", "play-circle"),
                                      ("stop", "Stop", "stop"), ("step", "Step", "forward")]
        }
        for name, button in self.buttons.items():
            button.add_class(f"gw-{name}")
        self.step_count = W.BoundedIntText(value=10, min=1, max=1_000_000,
                                           layout=W.Layout(width="90px"))
        self.buttons["train"].on_click(lambda _: self._guard(self.run.start))
        self.buttons["pause"].on_click(lambda _: self.run.pause())
        self.buttons["resume"].on_click(lambda _: self.run.resume())
        self.buttons["stop"].on_click(lambda _: self.run.stop())
        self.buttons["step"].on_click(lambda _: self._guard(self.run.step,
                                                            self.step_count.value))
        self.status = W.HTML(status_html(run.snapshot()))
        devices = getattr(run, "devices", None) or []
        self.devices = W.HTML(f"<small class='gw-train-devices'>{run.spec.name} on "
                              f"{html.escape(run.dataset.info.name)} · "
                              f"{len(devices)} device{'s' if len(devices) != 1 else ''}: "
                              f"{html.escape(', '.join(devices))}</small>")
        self.error = W.HTML()
        self.error.add_class("gw-train-error")
        self.loss_plot = LossPlot(list(run.history), list(run.epoch_history))
        self.settings = self._settings_form()
        is_text = run.dataset.info.modality == "text"
        self.preview = (W.HTML(layout=W.Layout(width="300px")) if is_text
                        else W.Image(value=BLANK_PNG, format="png", layout=W.Layout(width="240px")))
        self.preview.add_class("gw-train-preview")
        self._shown_rows = len(run.history)
        self._shown_epochs = len(run.epoch_history)
        self._last_status = self.status.value
        self._closed = threading.Event()
        self._events = run.subscribe()
        self._refresh_buttons(run.state)
        self._show_preview()
        super().__init__([
            W.HBox([*self.buttons.values(), self.step_count]), self.devices, self.status,
            self.error,
            W.HBox([self.loss_plot, W.VBox([W.HTML("<b>samples</b>"), self.preview,
                                            self.settings])],
                   layout=W.Layout(flex_flow="row wrap", align_items="flex-start")),
        ])
        self.add_class("gw-train-panel")
        self._pump_thread = threading.Thread(target=self._pump, name="genwidgets-pump",
                                             daemon=True)
        self._pump_thread.start()

    # -- controls ---------------------------------------------------------------
    def _guard(self, action, *args) -> None:
        try:
            action(*args)
        except Exception as exc:  # shown, never raised into the comm handler
            self.error.value = f"<pre style='color:#c62828'>{html.escape(str(exc))}</pre>"

    def _settings_form(self) -> W.VBox:
        from genwidgets.config import field_types

        types = field_types(type(self.run.config))
        rows = [W.HTML("<b>settings while training</b>")]
        self.setting_widgets = {}
        for name in self.run.spec.mutable:
            value = getattr(self.run.config, name, None)
            if value is None or types.get(name) not in (float, int):
                continue
            if "learning_rate" in name:
                widget = W.FloatLogSlider(value=value, base=10, min=-6, max=0, step=0.1,
                                          description=name, readout_format=".1e",
                                          continuous_update=False, style=_LABEL,
                                          layout=W.Layout(width="250px"))
            else:
                widget = W.FloatText(value=value, description=name, style=_LABEL,
                                     layout=W.Layout(width="250px"))
            widget.add_class(f"gw-setting-{name}")
            widget.observe(lambda change, n=name: self._guard(
                lambda: self.run.set(**{n: change["new"]})), "value")
            self.setting_widgets[name] = widget
            rows.append(widget)
        return W.VBox(rows)

    def _refresh_buttons(self, state: str) -> None:
        live = state in ("compiling", "running")
        self.buttons["train"].disabled = live or state == "paused"
        self.buttons["pause"].disabled = not live
        self.buttons["resume"].disabled = state != "paused"
        self.buttons["stop"].disabled = state not in ("compiling", "running", "paused")
        self.buttons["step"].disabled = live

    # -- the pump: the only place that writes widgets while a run trains ----------
    def _pump(self) -> None:
        last_status = last_plot = last_preview = 0.0
        snap, state = None, self.run.state
        while not self._closed.is_set():
            try:
                event = self._events.get(timeout=0.1)
            except queue.Empty:
                event = None
            while event is not None:  # drain: keep only the newest state
                if event["type"] == "progress":
                    snap = event
                try:
                    event = self._events.get_nowait()
                except queue.Empty:
                    event = None
            now = time.monotonic()
            if snap is not None and (now - last_status >= STATUS_EVERY_S
                                     or snap["state"] != state):
                last_status = now
                self._apply_status(snap, state)
                state = snap["state"]
                snap = None
            if now - last_plot >= PLOT_EVERY_S or state not in ("running", "compiling"):
                if self._apply_rows():
                    last_plot = now
            if state == "running" and now - last_preview >= self.preview_every_s:
                last_preview = now
                self._show_preview()

    def _apply_status(self, snap: dict, previous: str) -> None:
        value = status_html(snap)
        if value != self._last_status:
            self._last_status = value
            self.status.value = value
        if snap["state"] != previous:
            self._refresh_buttons(snap["state"])
            if snap["state"] == "failed":
                self.error.value = (f"<pre style='color:#c62828;white-space:pre-wrap'>"
                                    f"{html.escape(snap['error'] or snap['message'])}</pre>")
            if snap["state"] in ("paused", "finished", "stopped"):
                self._show_preview()

    def _apply_rows(self) -> bool:
        rows = self.run.history[self._shown_rows:]
        epochs = self.run.epoch_history[self._shown_epochs:]
        if not rows and not epochs:
            return False
        self._shown_rows += len(rows)
        self._shown_epochs += len(epochs)
        self.loss_plot.add_rows(rows, epochs)
        return True

    def _show_preview(self) -> None:
        try:
            samples = self.run.preview(self.preview_n)
        except Exception as exc:
            samples, note = None, f"no samples: {type(exc).__name__}: {exc}"
        else:
            note = "this model cannot sample"
        if samples is None:
            if isinstance(self.preview, W.HTML):
                self.preview.value = html.escape(note)
            return
        if isinstance(self.preview, W.HTML):
            self.preview.value = text_lines_html(samples)
        else:
            self.preview.value = image_grid_png(samples, scale=3 if samples.shape[1] > 16 else 6)

    def close(self) -> None:
        self._closed.set()
        self.run.unsubscribe(self._events)
        super().close()

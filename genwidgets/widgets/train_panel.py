"""``TrainPanel``: buttons, progress, status, the live ``LossPlot``, samples and settings.

The run's worker never touches a widget. The panel's follower
(:class:`~genwidgets.training.follower.EventFollower`, holding the panel weakly) hands it
the run's events on a thread of its own, and the panel applies only the newest state: the status line at most 2.5 times a second, the
plot once (a FigureWidget update costs 4 comm messages), the samples every few
seconds, each only when it changed. That keeps the comm traffic to the browser under ~10
messages a second whatever the step rate (benchmarks/train_overhead.py counts them).
"""

from __future__ import annotations

import html
import time

import ipywidgets as W

from genwidgets.training.follower import EventFollower
from genwidgets.widgets.errors import error_html
from genwidgets.widgets.loss_plot import LossPlot
from genwidgets.widgets.render import BLANK_PNG, image_grid_png, text_lines_html

STATUS_EVERY_S, PLOT_EVERY_S = 0.4, 1.0  # a plot redraw is 4 comm messages in Plotly
_LABEL = {"description_width": "initial"}  # as wide as the setting's name: never cut
RATE_WINDOW_S, RATE_MIN_ROWS = 5.0, 10  # the rate: the last 5 s, or at least the last 10 steps
STATES = {"idle": "ready to train", "compiling": "compiling", "running": "running",
          "paused": "paused", "stopped": "stopped", "finished": "finished", "failed": "failed"}


def _duration(seconds) -> str:
    if seconds is None:
        return "–"
    seconds = int(seconds)
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def step_rate(history, window_s: float = RATE_WINDOW_S, min_rows: int = RATE_MIN_ROWS):
    """Steps a second over the rows of the last ``window_s`` seconds, widened to the last
    ``min_rows`` rows when fewer came in that time (a slow model), or None when there are
    not two rows with distinct times to measure from."""
    rows = history[-2000:]
    if len(rows) < 2:
        return None
    last = rows[-1]["t"]
    recent = [r for r in rows if r["t"] >= last - window_s]
    if len(recent) < min_rows:
        recent = rows[-min_rows:]
    span = recent[-1]["t"] - recent[0]["t"]
    return (len(recent) - 1) / span if span > 0 else None


def status_html(snap: dict, rate: float | None = None) -> str:
    """The status line: the state in words (running, paused, stopped, finished...), the
    progress, and the measured rate on its own (``rate``; shown while running)."""
    total = max(int(snap["total_steps"]), 1)
    state = snap["state"]
    colour = {"failed": "#c62828", "stopped": "#e65100", "paused": "#1565c0",
              "finished": "#2e7d32", "running": "#2e7d32"}.get(state, "#333")
    word = STATES.get(state, state)
    message = snap["message"]
    detail = "" if message in (state, word) or message.endswith("steps/s") else message
    rest = detail[len(state):] if detail.startswith(state) else None  # "stopped at step 9"
    live = state in ("running", "compiling")
    speed = (f"{rate:.1f} steps/s" if live and rate else "measuring..." if live else "–")
    eta = _duration((total - snap["step"]) / rate) if state == "running" and rate else "–"
    detail_html = (f'<span class="gw-train-detail">{html.escape(rest)}</span>' if rest
                   else f' · <span class="gw-train-detail">{html.escape(detail)}</span>'
                   if detail else "")
    return (
        f'<div class="gw-train-status" data-state="{state}" data-step="{snap["step"]}">'
        f'<progress max="{total}" value="{min(snap["step"], total)}" style="width:100%"></progress>'
        f'<div class="gw-train-message" style="color:{colour}"><b class="gw-train-state" '
        f'data-state="{state}">{html.escape(word)}</b>{detail_html}</div>'
        f'<div>epoch {snap["epoch"]}/{snap["epochs"]} · step {snap["step"]}/{total} · '
        f'<span class="gw-train-rate">{speed}</span> · ETA {eta}'
        f"</div></div>"
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
        self.buttons["train"].on_click(lambda _: self._guard(self.run.start))  # more epochs
        self.buttons["pause"].on_click(lambda _: self.run.pause())
        self.buttons["resume"].on_click(lambda _: self.run.resume())
        self.buttons["stop"].on_click(lambda _: self.run.stop())
        self.buttons["step"].on_click(lambda _: self._guard(self.run.step,
                                                            self.step_count.value))
        self.status = W.HTML(status_html(run.snapshot(), step_rate(run.history)))
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
        self._last_status_at = self._last_plot_at = self._last_preview_at = 0.0
        self._snap, self._state = None, run.state
        # the only writer of widgets while a run trains; holds this panel weakly
        self.follower = EventFollower(run, self._on_events, name="genwidgets-pump").start()

    # -- controls ---------------------------------------------------------------
    def _guard(self, action, *args) -> None:
        try:
            action(*args)
        except Exception as exc:  # shown, never raised into the comm handler
            self.error.value = error_html(str(exc))

    def _settings_form(self) -> W.VBox:
        """The settings a run may change while it trains (the spec's ``mutable``), those
        that apply to its data only, each with its help line; a learning rate whose 0
        means "same as learning_rate" gets a checkbox saying so."""
        from genwidgets.config import applies, field_help, field_types

        config_cls = type(self.run.config)
        types = field_types(config_cls)
        modality = self.run.dataset.info.modality
        rows = [W.HTML("<b>settings while training</b>")]
        self.setting_widgets, self.same_as, self._quiet = {}, {}, False
        for name in self.run.spec.mutable:
            value = getattr(self.run.config, name, None)
            if value is None or types.get(name) not in (float, int):
                continue
            if not applies(config_cls, name, modality):
                continue
            help_text = field_help(config_cls, name)
            same = name != "learning_rate" and "same as learning_rate" in help_text
            label = W.HTML(f'<span title="{html.escape(help_text)}" '
                           f'style="white-space:nowrap">{html.escape(name)}</span>')
            label.add_class("gw-setting-label")
            if "learning_rate" in name:
                shown = value or self.run.config.learning_rate
                widget = W.FloatLogSlider(value=shown, base=10, min=-6, max=0, step=0.1,
                                          readout_format=".1e", continuous_update=False,
                                          disabled=same and value == 0,
                                          layout=W.Layout(width="230px"))
            else:
                widget = W.FloatText(value=value, layout=W.Layout(width="120px"))
            widget.tooltip = help_text or None
            widget.add_class(f"gw-setting-{name}")
            widget.observe(lambda change, n=name: self._quiet or self._guard(
                lambda: self.run.set(**{n: change["new"]})), "value")
            self.setting_widgets[name] = widget
            controls = [label, widget]
            if same:  # 0 = "same as learning_rate": say so, not a slider at 1e-6
                box = W.Checkbox(value=value == 0, description="same as learning_rate",
                                 indent=False, style=_LABEL, layout=W.Layout(width="auto"))
                box.add_class(f"gw-same-{name}")
                box.observe(lambda change, n=name: self._guard(self._same_as, n,
                                                               change["new"]), "value")
                self.same_as[name] = box
                controls.append(box)
            rows.append(W.HBox(controls, layout=W.Layout(align_items="center",
                                                          flex_flow="row wrap")))
            if help_text:
                rows.append(W.HTML(f'<small class="gw-setting-help" style="color:#555">'
                                   f"{html.escape(help_text)}</small>"))
        if "learning_rate" in self.setting_widgets and self.same_as:
            self.setting_widgets["learning_rate"].observe(
                lambda change: self._follow_rate(change["new"]), "value")
        return W.VBox(rows, layout=W.Layout(max_width="440px"))

    def _same_as(self, name: str, same: bool) -> None:
        """The checkbox of ``name``: checked sets it to 0 (same as learning_rate); cleared
        gives it its own rate, starting at learning_rate's."""
        slider = self.setting_widgets[name]
        slider.disabled = same
        self.run.set(**{name: 0.0 if same else slider.value})
        rate = self.setting_widgets.get("learning_rate")
        if same and rate is not None:
            self._show_quietly(slider, rate.value)  # it shows the rate it follows

    def _follow_rate(self, value: float) -> None:
        for name, box in self.same_as.items():
            if box.value:
                self._show_quietly(self.setting_widgets[name], value)

    def _show_quietly(self, widget, value) -> None:
        self._quiet = True
        try:
            widget.value = value
        finally:
            self._quiet = False

    def _refresh_buttons(self, state: str) -> None:
        live = state in ("compiling", "running")
        self.buttons["train"].disabled = live or state == "paused"
        self.buttons["pause"].disabled = not live
        self.buttons["resume"].disabled = state != "paused"
        self.buttons["stop"].disabled = state not in ("compiling", "running", "paused")
        self.buttons["step"].disabled = live

    # -- the pump: the only place that writes widgets while a run trains ----------
    def _on_events(self, batch) -> None:
        for event in batch:  # keep only the newest state
            if event["type"] == "progress":
                self._snap = event
        now, snap = time.monotonic(), self._snap
        if snap is not None and (now - self._last_status_at >= STATUS_EVERY_S
                                 or snap["state"] != self._state):
            self._last_status_at = now
            self._apply_status(snap, self._state)
            self._state, self._snap = snap["state"], None
        if now - self._last_plot_at >= PLOT_EVERY_S or self._state not in ("running",
                                                                           "compiling"):
            if self._apply_rows():
                self._last_plot_at = now
        if self._state == "running" and now - self._last_preview_at >= self.preview_every_s:
            self._last_preview_at = now
            self._show_preview()

    def _apply_status(self, snap: dict, previous: str) -> None:
        value = status_html(snap, step_rate(self.run.history))
        if value != self._last_status:
            self._last_status = value
            self.status.value = value
        if snap["state"] != previous:
            self._refresh_buttons(snap["state"])
            if snap["state"] == "failed":
                self.error.value = error_html(snap["error"] or snap["message"])
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
        self.follower.stop()
        super().close()

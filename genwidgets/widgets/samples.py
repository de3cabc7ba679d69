"""``SampleGrid`` (images) and ``SampleList`` (text): fresh draws from a model's prior.

Both read a :class:`genwidgets.latent.LatentSource` (or a run, or a run folder, through
:func:`as_source`), so they work on a live run while it trains and on a saved one. A
Resample button draws again with the next seed; the same seed always gives the same draw.
While a live run trains they draw again at a low rate (each epoch end, at least every
``live_every_s``), and only while a view of them is displayed (:class:`RunFollower`).
"""

from __future__ import annotations

import html
import math
import os
import time

import ipywidgets as W

from genwidgets.training.follower import EventFollower
from genwidgets.widgets.errors import error_html
from genwidgets.widgets.render import BLANK_PNG, image_grid_png, text_lines_html


def as_source(source):
    """A ``LatentSource`` from a ``LatentSource``, a live ``Run`` or a saved run folder."""
    from genwidgets.latent import LatentSource
    from genwidgets.training import Run

    if isinstance(source, LatentSource):
        return source
    if isinstance(source, Run):
        return LatentSource.from_run(source)
    if isinstance(source, (str, os.PathLike)):
        return LatentSource.from_folder(source)
    raise TypeError(
        "Expected a genwidgets.latent.LatentSource, a genwidgets.training.Run or the path "
        f"of a saved run folder. Received: source={source!r} ({type(source).__name__})")


# LatentSource.from_keras's keyword arguments; a view's from_keras passes the rest to it
KERAS_OPTIONS = ("tokenizer", "decoder_output", "log_var_output", "latent_dim", "seq_len",
                 "custom_objects", "name", "data_name")


def keras_view(view, encoder, decoder, x, labels, label_names, options: dict):
    """``view(LatentSource.from_keras(encoder, decoder, x, ...), **rest)``: a view's
    ``from_keras``, the source's options split from the view's. The source's notes go
    under a view that does not show them itself (a map does; views linked to it do not
    repeat them)."""
    from genwidgets.latent import LatentSource

    keras = {k: options.pop(k) for k in KERAS_OPTIONS if k in options}
    source = LatentSource.from_keras(encoder, decoder, x, labels, label_names, **keras)
    shown = view(source, **options)
    if source.notes and not any("gw-source-notes" in getattr(c, "_dom_classes", ())
                                for c in shown.children):
        shown.children = (*shown.children, notes_html(source))
    return shown


def notes_html(source) -> W.HTML:
    """What the source says of its model (``source.notes``: how a decoder's output is
    read, say), or an empty line."""
    notes = getattr(source, "notes", None) or []
    box = W.HTML("".join(f'<div class="gw-source-note" style="color:#666">'
                         f"<i>{html.escape(n)}</i></div>" for n in notes))
    box.add_class("gw-source-notes")
    return box


def check_modality(source, modality: str, view: str, other: str) -> None:
    if source.modality != modality:
        raise ValueError(
            f"{view} shows {modality} data; use {other} for {source.modality}. Expected a "
            f"source with modality={modality!r}. Received: modality={source.modality!r} "
            f"({source.spec.name} on {source.info.name})")


SHEET_MAX_PX = 720  # the widest a "same z, every label" sheet is drawn


def pixel_scale(images, target: int) -> int:
    """The integer zoom that makes one (H, W) image about ``target`` pixels wide."""
    return max(1, round(target / max(images.shape[1], images.shape[2])))


def views_shown(widget) -> bool:
    """Whether a front end displays ``widget`` now (ipywidgets' ``_view_count``; tracking
    starts when it is set to 0, and every displayed view adds one, every removed one
    takes one away)."""
    return bool(widget._view_count)


class RunFollower:
    """Calls ``action()`` at a low rate while ``run`` trains: after each epoch, at least
    every ``every_s`` seconds while it runs, and once when it pauses or ends; never within
    ``min_gap_s`` of the last call, and, with ``when_shown``, only while ``widget`` is
    displayed (nobody looking: no work). Its events come from an
    :class:`~genwidgets.training.follower.EventFollower` that holds this object weakly:
    :meth:`stop` (or the view, closed or dropped, taking it along) ends its thread."""

    def __init__(self, run, widget, action, *, every_s: float = 5.0, min_gap_s: float = 1.0,
                 when_shown: bool = True):
        self.run, self.widget, self.action = run, widget, action
        self.every_s, self.min_gap_s, self.when_shown = every_s, min_gap_s, when_shown
        self.calls = 0
        if when_shown and widget._view_count is None:
            widget._view_count = 0  # the front end counts its views from now on
        self._state, self._due, self._last = run.state, False, time.monotonic()
        self._follower = EventFollower(run, self._on_events, tick_s=0.2).start()
        self._thread = self._follower.thread

    def _on_events(self, batch) -> None:
        for event in batch:
            if event["type"] == "epoch":
                self._due = True
            elif event["type"] == "progress" and event["state"] != self._state:
                self._state = event["state"]
                self._due = self._due or self._state in ("paused", "finished", "stopped")
        now = time.monotonic()
        due = self._due or (self._state == "running" and now - self._last >= self.every_s)
        if not due or now - self._last < self.min_gap_s:
            self._due = due
            return
        if self.when_shown and not views_shown(self.widget):
            self._due = True  # stays due: drawn when a view shows up
            return
        self._due, self._last = False, now
        self.calls += 1
        try:
            self.action()
        except Exception:  # the action shows its own errors; the follower goes on
            pass

    def stop(self) -> None:
        self._follower.stop()


class _Samples(W.VBox):
    """Buttons and a seed over a draw of ``n`` samples; subclasses show them."""

    css = "gw-samples"

    def __init__(self, source, *, n: int, seed: int, extra=(), live_every_s: float = 5.0):
        self.source = as_source(source)
        self.count = W.BoundedIntText(value=n, min=1, max=256, description="samples",
                                      layout=W.Layout(width="150px"))
        self.seed = W.BoundedIntText(value=seed, min=0, max=2**31 - 1, description="seed",
                                     layout=W.Layout(width="170px"))
        self.resample = W.Button(description="Resample", icon="refresh",
                                 tooltip="draw again with the next seed",
                                 layout=W.Layout(width="auto"))
        self.count.add_class("gw-sample-count")
        self.seed.add_class("gw-sample-seed")
        self.resample.add_class("gw-sample-resample")
        self.error = W.HTML()
        self.error.add_class("gw-sample-error")
        self.resample.on_click(lambda _: self._next_seed())
        for control in (self.count, self.seed, *extra):
            control.observe(lambda _: self.refresh(), "value")
        super().__init__([W.HBox([self.resample, self.seed, self.count, *extra]),
                          self.view, self.error])
        self.add_class(self.css)
        self.refresh()
        self.follower = None  # draws again now and then while a live run trains
        run = getattr(self.source, "run", None)
        if run is not None and "sample" in self.source.capabilities:
            self.follower = RunFollower(run, self, self.refresh, every_s=live_every_s)

    def close(self) -> None:
        if getattr(self, "follower", None) is not None:  # None until __init__ ends
            self.follower.stop()
        super().close()

    def _next_seed(self) -> None:
        self.seed.value = (self.seed.value + 1) % (2**31 - 1)  # the observer draws

    def _draw(self):
        return self.source.sample(self.count.value, seed=self.seed.value)

    def refresh(self) -> None:
        """Draw again from the model as it is now (a live run may have moved on)."""
        if "sample" not in self.source.capabilities:
            self._show_note(f"{self.source.spec.name} cannot sample: it has no prior to "
                            "draw from.")
            return
        try:
            samples = self._draw()
        except Exception as exc:  # shown, never raised into the comm handler
            self.error.value = error_html(exc)
            return
        self.error.value = ""
        self.samples = samples
        self._show(samples)


class SampleGrid(_Samples):
    """A grid of sampled images (one PNG), a seed and a Resample button.

    For a conditional model (the ``"condition"`` capability) also a label picker ("any",
    or one of the data's label names) and a "same z, every label" switch: one row per
    label, one column per z (``samples`` of them, at most 32), the style held along a
    column while the class changes. Both are hidden for other models.
    """

    css = "gw-sample-grid"

    def __init__(self, source, *, n: int = 16, seed: int = 0, width: int = 320,
                 live_every_s: float = 5.0):
        from genwidgets.latent.conditional import ANY, label_choices

        source = as_source(source)
        check_modality(source, "image", "SampleGrid", "SampleList")
        self.width = width
        self.view = W.Image(value=BLANK_PNG, format="png", layout=W.Layout(width=f"{width}px"))
        self.view.add_class("gw-sample-images")
        shown = None if source.conditional else "none"
        self.label = W.Dropdown(options=label_choices(source), value=ANY, description="label",
                                layout=W.Layout(width="170px", display=shown),
                                style={"description_width": "initial"})
        self.every_label = W.ToggleButton(
            value=False, description="same z, every label", icon="th",
            tooltip="one row per label, one column per z: the style held, the class changed",
            layout=W.Layout(width="auto", display=shown))
        self.label.add_class("gw-sample-label")
        self.every_label.add_class("gw-sample-every-label")
        self.every_label.observe(lambda change: setattr(self.label, "disabled", change["new"]),
                                 "value")
        super().__init__(source, n=n, seed=seed, extra=(self.label, self.every_label),
                         live_every_s=live_every_s)

    @classmethod
    def from_keras(cls, encoder, decoder, x, labels=None, label_names=None,
                   **options) -> SampleGrid:
        """Samples of a Keras decoder of your own (``encoder`` may be None): the
        arguments of :meth:`genwidgets.latent.LatentSource.from_keras`, then the view's
        (``n``, ``seed``...). The grid's ``source`` serves other views too."""
        return keras_view(cls, encoder, decoder, x, labels, label_names, options)

    def _draw(self):
        from genwidgets.latent.conditional import MAX_COLUMNS, every_label, sample_of

        if self.every_label.value:  # (labels, n, H, W, C): shown a row per label
            return every_label(self.source, min(self.count.value, MAX_COLUMNS),
                               seed=self.seed.value)
        return sample_of(self.source, self.count.value, self.seed.value, self.label.value)

    def _show(self, images) -> None:
        width = self.width
        if images.ndim == 5:  # the "every label" sheet: a row per label, cells >= 36 px
            cols = images.shape[1]
            images = images.reshape(-1, *images.shape[2:])
            width = max(width, min(SHEET_MAX_PX, cols * 36))
        else:
            cols = math.ceil(math.sqrt(len(images)))
        self.view.layout.width = f"{width}px"
        self.view.value = image_grid_png(images, cols=cols,
                                         scale=pixel_scale(images, width / cols))

    def _show_note(self, text: str) -> None:
        self.error.value = f"<i>{html.escape(text)}</i>"


class SampleList(_Samples):
    """Sampled sentences, one a line, with a temperature slider."""

    css = "gw-sample-list"

    def __init__(self, source, *, n: int = 10, seed: int = 0, temperature: float = 1.0,
                 live_every_s: float = 5.0):
        source = as_source(source)
        check_modality(source, "text", "SampleList", "SampleGrid")
        self.temperature = W.FloatSlider(value=temperature, min=0.05, max=2.0, step=0.05,
                                         description="temperature", continuous_update=False,
                                         style={"description_width": "initial"})
        self.temperature.add_class("gw-sample-temperature")
        self.view = W.HTML()
        self.view.add_class("gw-sample-lines")
        super().__init__(source, n=n, seed=seed, extra=(self.temperature,),
                         live_every_s=live_every_s)

    @classmethod
    def from_keras(cls, encoder, decoder, x, labels=None, label_names=None, *, tokenizer,
                   **options) -> SampleList:
        """Sentences sampled from a Keras text decoder of your own, read with
        ``tokenizer``; the arguments of :meth:`genwidgets.latent.LatentSource.from_keras`,
        then the view's."""
        return keras_view(cls, encoder, decoder, x, labels, label_names,
                          {**options, "tokenizer": tokenizer})

    def _draw(self):
        return self.source.sample(self.count.value, seed=self.seed.value,
                                  temperature=self.temperature.value)

    def _show(self, lines) -> None:
        self.view.value = text_lines_html(lines, css_class="gw-sample-text")

    def _show_note(self, text: str) -> None:
        self.view.value = f"<i>{html.escape(text)}</i>"

"""``AttributeStrip``: move a point of a :class:`LatentMap` along a direction between two
groups ("more of this, less of that"), images or text.

Pick two groups (a label, or a box / lasso selection kept with "keep selection"); "make
direction" takes the mean latent of the second minus that of the first
(:mod:`genwidgets.latent.attributes`) and lists it under the saved directions, which apply
to any point. Click a point on the map: the strip shows it decoded at ``alpha`` = -2 .. +2
times the direction (one batched decode), the slider shows one ``alpha`` large (one decode).
"""

from __future__ import annotations

import html

import ipywidgets as W
import numpy as np

from genwidgets.latent.attributes import ALPHAS, Direction, along, direction
from genwidgets.widgets.errors import guarded
from genwidgets.widgets.render import BLANK_PNG, WRAP, image_grid_png
from genwidgets.widgets.samples import pixel_scale

HINT = ("<i>pick two groups (a label, or a box / lasso selection on the map kept with "
        "\u201ckeep selection\u201d), make a direction, then click a point on the map</i>")


class AttributeStrip(W.VBox):
    """A direction between two groups of a :class:`LatentMap`, applied to its picked point.

    Args:
        latent_map: the map whose labels, selections and clicked point the strip uses.
        width: the strip's width in pixels (images).
    """

    def __init__(self, latent_map, *, width: int = 640):
        self.map, self.source = latent_map, latent_map.source
        self.is_text = self.source.modality == "text"
        self.width = width
        self.groups: dict[str, np.ndarray] = {}  # kept selections: name -> item indices
        self.directions: list[Direction] = []
        self.point = self.zs = self.decoded = None
        self.start = W.Dropdown(description="from", layout=W.Layout(width="250px"))
        self.to = W.Dropdown(description="to", layout=W.Layout(width="250px"))
        self.keep = W.Button(description="keep selection", disabled=True,
                             tooltip="keep the map's box / lasso selection as a group",
                             layout=W.Layout(width="auto"))
        self.make = W.Button(description="make direction", button_style="primary",
                             layout=W.Layout(width="auto"))
        self.direction = W.Dropdown(description="direction", options=[],
                                    layout=W.Layout(width="380px"))
        self.alpha = W.FloatSlider(value=1.0, min=ALPHAS[0], max=ALPHAS[-1], step=0.25,
                                   description="alpha", continuous_update=False)
        self.saved, self.caption, self.error = W.HTML(), W.HTML(HINT), W.HTML()
        if self.is_text:
            self.strip, self.large = W.HTML(), W.HTML()
        else:
            self.strip = W.Image(value=BLANK_PNG, format="png",
                                 layout=W.Layout(max_width=f"{width}px"))
            self.large = W.Image(value=BLANK_PNG, format="png", layout=W.Layout(width="160px"))
        for widget, name in [(self.start, "start"), (self.to, "to"), (self.keep, "keep"),
                             (self.make, "make"), (self.direction, "direction"),
                             (self.alpha, "alpha"), (self.saved, "saved"),
                             (self.strip, "strip"), (self.large, "large"),
                             (self.caption, "caption"), (self.error, "error")]:
            widget.add_class(f"gw-attr-{name}")
        self.keep.on_click(lambda _: self._guard(self.keep_selection))
        self.make.on_click(lambda _: self._guard(self.make_direction))
        self.direction.observe(lambda _: self._guard(self.refresh), "value")
        self.alpha.observe(lambda _: self._guard(self._show_alpha), "value")
        self._list_groups()
        super().__init__([
            W.HTML("<b>Attribute vector</b>"),
            W.HBox([self.start, self.to, self.keep, self.make]),
            W.HBox([self.direction, self.alpha]), self.saved, self.strip,
            W.HBox([self.large, self.caption], layout=W.Layout(align_items="center")),
            self.error])
        self.add_class("gw-attribute-strip")
        latent_map.on_pick(self.set_point)
        latent_map.on_selection(self._selection_changed)

    # -- what code and the buttons use ---------------------------------------------
    def keep_selection(self, name: str | None = None) -> str:
        """Keep the map's current box / lasso selection as a group; its name."""
        items = np.asarray(self.map.selection)
        if not len(items):
            raise ValueError("Nothing is selected on the map: choose box or lasso select in "
                             "the map's toolbar and drag over some points first. Received: "
                             "an empty selection")
        name = name or f"selection {len(self.groups) + 1} ({len(items)})"
        self.groups[name] = items
        self._list_groups()
        return name

    def make_direction(self, start: str | None = None, to: str | None = None) -> Direction:
        """The direction from group ``start`` to group ``to`` (by default the two picked),
        saved and made the current one."""
        start, to = start or self.start.value, to or self.to.value
        if start is None or to is None:
            raise ValueError("Expected two groups: this map has no labels and nothing kept "
                             "yet. Keep two box / lasso selections first.")
        if start == to:
            raise ValueError(f"Expected two different groups. Received: from={start!r}, "
                             f"to={to!r}")
        made = direction(self._latents(start), self._latents(to), start=start, to=to)
        self.directions.append(made)
        self.direction.options = [(f"{d.name}", k) for k, d in enumerate(self.directions)]
        self.direction.value = len(self.directions) - 1  # its observer decodes the strip
        self._list_saved()
        return made

    def set_point(self, pick) -> None:
        """Move the strip to a picked spot of the map (a ``Pick``, or a latent vector)."""
        z = getattr(pick, "z", pick)
        self.point = np.asarray(z, dtype="float32").reshape(self.source.latent_dim)
        self.refresh()

    def refresh(self) -> None:
        """Decode the point along the current direction at every alpha of the strip."""
        if self.point is None or self.direction.value is None:
            return
        d = self.directions[self.direction.value]
        zs = along(self.point, d.vector, ALPHAS)
        self.decoded = None  # until this point's strip is decoded
        decoded = self.map.decode(zs, near=self.point)  # one class for a conditional model
        self.zs, self.decoded = zs, decoded
        if self.is_text:
            cells = "".join(
                f'<li data-alpha="{a:g}"><code style="{WRAP}">{html.escape(line)}</code>'
                f' <small style="color:#777">{a:+g}</small></li>'
                for a, line in zip(ALPHAS, decoded))
            self.strip.value = f'<ol class="gw-attr-lines" style="margin:0">{cells}</ol>'
        else:
            images = np.asarray(decoded)
            cell = min(72, self.width / len(ALPHAS))
            self.strip.value = image_grid_png(images, cols=len(ALPHAS),
                                              scale=pixel_scale(images, cell))
        self._show_alpha()

    # -- inside ----------------------------------------------------------------------
    def _guard(self, action, *args):
        return guarded(self.error, action, *args)

    def _label_names(self) -> list[str]:
        labels = self.map.labels
        return [] if labels is None else list(dict.fromkeys(labels.tolist()))

    def _latents(self, group: str) -> np.ndarray:
        if group in self.groups:
            return self.map.latents_of(self.groups[group])
        labels = self.map.labels
        if labels is None or group not in self._label_names():
            raise ValueError(f"Expected a label of the map ({self._label_names()}) or a kept "
                             f"selection ({list(self.groups)}). Received: {group!r}")
        return self.map.z[labels == group]

    def _list_groups(self) -> None:
        options = [(f"label {name}", name) for name in self._label_names()]
        options += [(name, name) for name in self.groups]
        for box, at in ((self.start, 0), (self.to, 1)):
            value = box.value
            box.options = options
            if value in [v for _, v in options]:
                box.value = value
            elif len(options) > at:
                box.value = options[at][1]

    def _list_saved(self) -> None:
        rows = "".join(f"<li>{html.escape(d.name)} · {d.n_start} → {d.n_to} items · "
                       f"length {d.norm:.2f}</li>" for d in self.directions)
        self.saved.value = (f'<ul class="gw-attr-list" data-count="{len(self.directions)}" '
                            f'style="margin:2px 0;color:#555">{rows}</ul>')

    def _selection_changed(self, items) -> None:
        self.keep.disabled = not len(items)
        self.keep.description = (f"keep selection ({len(items)})" if len(items)
                                  else "keep selection")

    def _show_alpha(self) -> None:
        if self.point is None or self.direction.value is None:
            return
        d = self.directions[self.direction.value]
        alpha = float(self.alpha.value)
        on_strip = [k for k, a in enumerate(ALPHAS) if abs(a - alpha) < 1e-6]
        if on_strip and self.decoded is not None:  # already decoded for the strip
            shown = self.decoded[on_strip[0]:on_strip[0] + 1]
        else:
            shown = self.map.decode(along(self.point, d.vector, [alpha]), near=self.point)
        if self.is_text:
            self.large.value = (f'<code class="gw-attr-line" style="{WRAP}">'
                                f"{html.escape(shown[0])}</code>")
        else:
            images = np.asarray(shown)
            self.large.value = image_grid_png(images, scale=pixel_scale(images, 160))
        self.caption.value = (f'<div class="gw-attr-where" data-alpha="{alpha:g}">the point '
                              f"{'+' if alpha >= 0 else '−'} {abs(alpha):g} × "
                              f"({html.escape(d.name)})</div>")

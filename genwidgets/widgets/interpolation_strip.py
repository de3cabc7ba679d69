"""``InterpolationStrip``: the images decoded along a latent path from A to B.

The whole path is decoded in one batched call when the endpoints, the number of steps
or the mode (linear or spherical) change; the position slider only picks which image
to show large, so moving it costs no model call. Linked to a :class:`LatentMap`, the
strip follows the map's A and B and draws its points on the map.
"""

from __future__ import annotations

import html

import ipywidgets as W
import numpy as np

from genwidgets.widgets.errors import error_html
from genwidgets.widgets.render import BLANK_PNG, image_grid_png
from genwidgets.widgets.samples import (
    as_source,
    check_modality,
    keras_view,
    pixel_scale,
)

MODES = ("linear", "spherical")


def check_endpoint(name: str, z, latent_dim: int) -> np.ndarray:
    z = np.asarray(z, dtype="float32")
    if z.shape not in ((latent_dim,), (1, latent_dim)) or not np.all(np.isfinite(z)):
        raise ValueError(
            f"Expected {name} to be a finite latent vector of shape ({latent_dim},). "
            f"Received: {name} of shape {z.shape}")
    return z.reshape(latent_dim)


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise ValueError(f"Expected mode to be one of {MODES}. Received: mode={mode!r}")
    return mode


class InterpolationStrip(W.VBox):
    """Decoded images along the path A -> B, a slider showing one of them large.

    Args:
        source: a ``LatentSource`` of images, a ``Run`` or a saved run folder.
        a, b: latent vectors (``latent_dim`` values each); or pick them on a map.
        steps: images along the path, the endpoints included.
        mode: ``"linear"`` (lerp) or ``"spherical"`` (slerp).
        latent_map: a :class:`LatentMap` whose A and B the strip follows.
    """

    def __init__(self, source, a=None, b=None, *, steps: int = 8, mode: str = "linear",
                 latent_map=None, width: int = 640):
        self.source = as_source(source)
        check_modality(self.source, "image", "InterpolationStrip", "TextPath")
        self.width = width
        self.steps = W.IntSlider(value=steps, min=2, max=32, description="steps",
                                 continuous_update=False)
        self.mode = W.ToggleButtons(options=MODES, value=check_mode(mode),
                                    tooltips=["straight line (lerp)",
                                              "great circle (slerp), for Gaussian latents"],
                                    style={"button_width": "80px"})
        # counts from 1, as its caption does ("step 1 of 8"): image k is position k + 1
        self.position = W.IntSlider(value=1, min=1, max=steps, description="show",
                                    continuous_update=True)
        self.strip = W.Image(value=BLANK_PNG, format="png", layout=W.Layout(max_width=f"{width}px"))
        self.large = W.Image(value=BLANK_PNG, format="png", layout=W.Layout(width="192px"))
        self.caption, self.error = W.HTML(), W.HTML()
        for widget, name in [(self.steps, "steps"), (self.mode, "mode"),
                             (self.position, "position"), (self.strip, "images"),
                             (self.large, "large"), (self.caption, "caption"),
                             (self.error, "error")]:
            widget.add_class(f"gw-interp-{name}")
        self.a = self.b = None
        self.zs = self.images = None
        self.latent_map = latent_map
        self.steps.observe(lambda _: self.refresh(), "value")
        self.mode.observe(lambda _: self.refresh(), "value")
        self.position.observe(lambda _: self._show_position(), "value")
        self.caption.value = "<i>pick A and B on the map to walk from one to the other</i>"
        super().__init__([W.HBox([self.steps, self.mode]), self.strip,
                          W.HBox([self.large, W.VBox([self.position, self.caption])]),
                          self.error])
        self.add_class("gw-interpolation-strip")
        self.follower = None  # a RunFollower that decodes again while a run trains, if any
        if latent_map is not None:
            latent_map.on_path(self.set_endpoints)
        if a is not None or b is not None:
            self.set_endpoints(a, b)

    @classmethod
    def from_keras(cls, encoder, decoder, x, labels=None, label_names=None,
                   **options) -> InterpolationStrip:
        """The strip over a Keras encoder and decoder of your own: the arguments of
        :meth:`genwidgets.latent.LatentSource.from_keras`, then the view's. Without ``a``,
        ``b`` or ``latent_map`` it walks from the first item of ``x`` to the second."""
        walk = all(options.get(k) is None for k in ("a", "b", "latent_map"))
        strip = keras_view(cls, encoder, decoder, x, labels, label_names, options)
        if walk and "encode" in strip.source.capabilities:
            first = np.arange(min(2, len(strip.source.dataset.x)))
            z = strip.source.encode(strip.source.items(first))
            strip.set_endpoints(z[0], z[-1])
        return strip

    def close(self) -> None:
        if getattr(self, "follower", None) is not None:
            self.follower.stop()
        super().close()

    def set_endpoints(self, a, b) -> None:
        """Walk from latent vector ``a`` to ``b`` (one batched decode)."""
        d = self.source.latent_dim
        self.a, self.b = check_endpoint("a", a, d), check_endpoint("b", b, d)
        self.refresh()

    def refresh(self) -> None:
        """Decode the path again (with the model as it is now)."""
        if self.a is None:
            return
        from genwidgets.latent import path

        n = self.steps.value
        try:
            zs = path(self.a, self.b, n, mode=self.mode.value)
            images = np.asarray(self.source.decode(zs))
        except Exception as exc:  # shown, never raised into the comm handler
            self.error.value = error_html(exc)
            return
        self.error.value = ""
        self.zs, self.images = zs, images
        cell = min(72, self.width / n)
        self.strip.value = image_grid_png(images, cols=n, scale=pixel_scale(images, cell))
        shown = self.position.value
        self.position.max = n  # clips the value; its observer then shows that image
        if self.position.value == shown:
            self._show_position()

    def _show_position(self) -> None:
        if self.images is None:
            return
        k, n = self.position.value - 1, len(self.images)
        self.large.value = image_grid_png(self.images[k:k + 1],
                                          scale=pixel_scale(self.images, 192))
        name = {0: " (A)", n - 1: " (B)"}.get(k, "")
        self.caption.value = (
            f'<div class="gw-interp-where" data-position="{k}" data-steps="{n}">'
            f"step {k + 1} of {n}{html.escape(name)} · t = {k / max(n - 1, 1):.2f} · "
            f"{html.escape(self.mode.value)}</div>")
        if self.latent_map is not None:
            self.latent_map.show_path(self.zs, current=k)

"""``MapState``: what a latent map knows, apart from how it is drawn.

The encoded data items and where they lie on the 2-D map (identity for a 2-D latent, a PCA
plane otherwise, its basis fitted once), their labels, the epoch shown (the live encoding or
a saved snapshot, in the same basis), the picks (A and B of a path, the last clicked spot),
the box / lasso selection, and what a view asks of them: the point of an item, the latent
vector under a spot, the item nearest a vector, decoding as the map does (a model
conditioned on labels is told the label of the nearest item).

Plain Python and NumPy: :class:`genwidgets.widgets.LatentMap` draws it and mirrors ``a``,
``b``, ``selected``, ``selection`` and ``epoch`` as traitlets; a script or a test drives it
with no widget::

    state = MapState(LatentSource.from_run(run), max_items=500)
    state.set_a(state.item(int(state.idx[0])))
    state.set_b(state.spot(1.5, -1.0))
    ends = state.path_to_ends()          # [A, B]; state.path_z holds their vectors
    images = state.decode(state.path_z)
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np

from genwidgets.latent.health import is_variational, posterior_health, trained
from genwidgets.latent.project import Projection


@dataclasses.dataclass(eq=False)
class Pick:
    """A spot on the map: its latent vector, where it is drawn, and its data item if any.
    Two picks are the same only if they are one object (each click makes a new one)."""

    z: np.ndarray
    xy: tuple[float, float]
    index: int | None = None


class MapState:
    """The points, picks and selection of a latent map (see the module's docstring).

    Args:
        source: a ``LatentSource`` whose model can encode and decode.
        max_items: points to encode (a fixed random subset of the data).
        seed: chooses that subset.

    Attributes:
        idx, z, xy: the data items shown (n,), their latent vectors (n, d) and map
            positions (n, 2); ``rows`` maps an item to its row, ``labels`` (n,) holds the
            label names (None without labels), ``log_var`` the posterior log-variances
            (None when the model offers none).
        epoch: the saved epoch shown (None: the live encoding); ``epochs``: the saved
            epochs known (:meth:`read_epochs` reads them again).
        a, b, selected: :class:`Pick` or None; ``selection``: the items inside the box /
            lasso selection, sorted; ``path_z``: the path drawn on the map, A first.
    """

    def __init__(self, source, *, max_items: int = 2000, seed: int = 0):
        missing = {"encode", "decode"} - set(source.capabilities)
        if missing:
            raise ValueError(
                f"LatentMap needs a model that can encode and decode; {source.spec.name}"
                f" cannot {' or '.join(sorted(missing))}. Expected capabilities to include "
                f"{sorted(missing)}. Received: capabilities={sorted(source.capabilities)}")
        self.source, self.max_items, self.seed = source, max_items, seed
        self.projection = Projection()
        self.variational = is_variational(source)
        self.snapshots = source.snapshots  # a SnapshotStore, or None
        self.epochs: list[int] = []
        self.epoch: int | None = None
        self.basis = ""  # what the projection's basis was fitted on
        self.a: Pick | None = None
        self.b: Pick | None = None
        self.selected: Pick | None = None
        self.selection: tuple[int, ...] = ()
        self.path_z: np.ndarray | None = None
        self.encode()

    # -- the points shown -------------------------------------------------------------
    def encode(self) -> None:
        """Encode the data with the model as it is now and show that (epoch None). The
        projection's basis is fitted the first time only (on the latest snapshot when the
        run saved some), so the maps of every epoch line up."""
        self.live_trained = trained(self.source)  # asked first: steps may come meanwhile
        idx, z = self.source.encode_dataset(max_items=self.max_items, seed=self.seed)
        idx = np.asarray(idx)
        posterior = self.source.posterior(np.asarray(self.source.dataset.x)[idx])
        self._live = (idx, z, None if posterior is None else posterior[1])
        if not self.projection.fitted:
            latest = self.snapshots.latest() if self.snapshots is not None else None
            self.projection.fit(z if latest is None else latest.z)
            self.basis = "the first encoding" if latest is None else "the latest snapshot"
        self.epoch = None
        self._use(*self._live)

    def show_epoch(self, epoch: int | None) -> None:
        """Show the encodings of a saved epoch (its snapshot), or the live ones (None)."""
        if epoch is not None and epoch not in self.epochs:
            raise ValueError(f"No latent snapshot of epoch {epoch}. Expected one of "
                             f"{self.epochs} or None (now). Received: epoch={epoch!r}")
        if epoch is None:
            self._use(*self._live)
        else:
            snap = self.snapshots.load(epoch)
            if len(snap.idx) and snap.idx.max() >= len(self.source.dataset.x):
                raise ValueError(f"The snapshot of epoch {epoch} holds items up to "
                                 f"#{snap.idx.max()}; expected the data the run was trained "
                                 f"on. Received: {len(self.source.dataset.x)} items")
            self._use(snap.idx, snap.z, snap.log_var)
        self.epoch = epoch

    def read_epochs(self) -> bool:
        """Read again which epochs the run saved snapshots of (``epochs``); whether that
        changed."""
        epochs = self.snapshots.epochs() if self.snapshots is not None else []
        changed, self.epochs = epochs != self.epochs, epochs
        return changed

    def follow_items(self) -> None:
        """Move the picks that are data items to where their items lie now (after
        :meth:`encode` or :meth:`show_epoch`); a spot of space stays where it was."""
        for pick in (self.a, self.b, self.selected):
            if pick is not None and pick.index in self.rows:
                row = self.rows[pick.index]
                pick.z, pick.xy = self.z[row], tuple(map(float, self.xy[row]))

    def health(self) -> dict:
        """:func:`genwidgets.latent.health.posterior_health` of the encodings shown (no
        collapse warning for an untrained model, nor at epoch 0, before training)."""
        learnt = self.live_trained if self.epoch is None else self.epoch > 0
        return posterior_health(self.z, self.log_var, variational=self.variational,
                                trained=learnt)

    def warm_decoder(self) -> None:
        """Decode one point now, so the first click does not wait for the decoder to
        compile (~200 ms on a small CPU; a click after it takes ~4 ms). A model that cannot
        decode says so on the click, not here."""
        if len(self.z):
            try:
                self.source.decode_raw(self.z[:1])
            except Exception:
                pass

    def _use(self, idx, z, log_var) -> None:
        self.idx, self.z, self.log_var = np.asarray(idx), np.asarray(z), log_var
        self.xy = np.asarray(self.projection.transform(self.z), dtype="float32")
        self.rows = {int(i): r for r, i in enumerate(self.idx)}  # item index -> point row
        y, names = self.source.labels, self.source.label_names
        self.labels = None if y is None else np.array(
            [names[int(v)] if names else str(v) for v in y[self.idx]])

    # -- lookups ----------------------------------------------------------------------
    def item(self, index: int) -> Pick:
        """The point of data item ``index`` (its latent vector as shown)."""
        row = self.rows.get(int(index))
        if row is None:
            raise ValueError(f"Item {index} is not on the map. Expected one of the "
                             f"{len(self.idx)} encoded items, e.g. {self.idx[:5].tolist()}")
        return Pick(self.z[row], tuple(map(float, self.xy[row])), int(index))

    def spot(self, x: float, y: float) -> Pick:
        """The spot (x, y) of the map: the projection's inverse there, no data item."""
        z = self.projection.inverse(np.array([[x, y]], dtype="float32"))[0]
        return Pick(np.asarray(z, dtype="float32"), (float(x), float(y)))

    def data_of(self, index: int) -> tuple:
        """``(item, label)``: data item ``index`` of the map as a batch of one (an image
        (1, H, W, C) or a list of one sentence) and its label's name (None without labels)."""
        label = None if self.labels is None else str(self.labels[self.rows[index]])
        return self.source.items(np.array([index])), label

    def nearest(self, z) -> int:
        """The data item on the map whose latent vector is nearest ``z``."""
        if not len(self.z):
            raise ValueError("Expected items on the map to look among. Received: none")
        z = np.asarray(z, dtype="float32").reshape(-1)
        return int(self.idx[((self.z - z) ** 2).sum(1).argmin()])

    def latents_of(self, items) -> np.ndarray:
        """The latent vectors of data items on the map (as shown: live or a saved epoch)."""
        rows = [self.rows.get(int(i)) for i in np.asarray(items).reshape(-1)]
        if any(r is None for r in rows):
            raise ValueError(f"Expected items on the map. Received: "
                             f"{[int(i) for i, r in zip(items, rows) if r is None][:5]} "
                             f"that are not among its {len(self.idx)} items")
        return self.z[np.asarray(rows, dtype="int64")]

    def label_near(self, z) -> int | None:
        """For a model conditioned on labels: the label of the item nearest ``z`` on the
        map (the class a click there means); None for other models or data."""
        labels = self.source.labels if getattr(self.source, "conditional", False) else None
        if labels is None or not len(self.z):
            return None
        return int(np.asarray(labels)[self.nearest(z)])

    def decode(self, zs, near=None):
        """Decode latent vectors as the map does: a model conditioned on labels is told
        the label nearest ``near`` for all (default: each vector's own nearest item)."""
        zs = np.asarray(zs, dtype="float32")
        first = self.label_near(near if near is not None else zs[0])
        if first is None:
            return self.source.decode(zs)
        labels = [first] * len(zs) if near is not None else [self.label_near(z) for z in zs]
        return self.source.decode(zs, labels=np.asarray(labels, dtype="int32"))

    # -- the path and the selection ------------------------------------------------------
    def set_a(self, pick: Pick | None = None) -> Pick:
        """Make ``pick`` (by default the selected one) the start of the path."""
        self.a = self._pick_or_selected(pick)
        return self.a

    def set_b(self, pick: Pick | None = None) -> Pick:
        """Make ``pick`` (by default the selected one) the end of the path."""
        self.b = self._pick_or_selected(pick)
        return self.b

    def path_to_ends(self) -> list[Pick]:
        """Make the path drawn A and B alone (those set; a linked view may add the steps
        between with :meth:`set_path`), and return them."""
        ends = [p for p in (self.a, self.b) if p is not None]
        self.path_z = np.stack([p.z for p in ends]) if ends else None
        return ends

    def set_path(self, zs) -> bool:
        """Make ``zs`` (latent vectors, A first) the path drawn; whether it changed."""
        zs = np.asarray(zs, dtype="float32")
        moved = self.path_z is None or not np.array_equal(zs, self.path_z)
        self.path_z = zs
        return moved

    def select(self, shapes) -> tuple[int, ...]:
        """Make the items inside Plotly's selection ``shapes`` (boxes and lassos in map
        coordinates, see :func:`inside`) the selection, and return it."""
        rows = np.flatnonzero(inside(self.xy, shapes))
        self.selection = tuple(sorted(int(i) for i in self.idx[rows]))
        return self.selection

    def _pick_or_selected(self, pick: Pick | None) -> Pick:
        pick = pick if pick is not None else self.selected
        if pick is None:
            raise ValueError("Nothing is selected yet: click a point or a spot on the map "
                             "first, or pass a Pick. Received: pick=None")
        return pick


def _polygon(path: str) -> np.ndarray:
    """The vertices of an SVG path of straight lines ("M x,y L x,y ... Z": a lasso)."""
    numbers = re.findall(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?", path or "")
    return np.asarray(numbers, dtype="float64").reshape(-1, 2) if len(numbers) % 2 == 0 \
        else np.zeros((0, 2))


def inside(xy: np.ndarray, shapes) -> np.ndarray:
    """Which points of ``xy`` lie in any of Plotly's selection ``shapes`` (layout
    selections: ``rect`` boxes and ``path`` lassos, in data coordinates)."""
    xy = np.asarray(xy, dtype="float64").reshape(-1, 2)
    found = np.zeros(len(xy), dtype=bool)
    x, y = xy[:, 0], xy[:, 1]
    for shape in shapes:
        if shape.get("type") == "rect":
            (x0, x1), (y0, y1) = (sorted((float(shape["x0"]), float(shape["x1"]))),
                                  sorted((float(shape["y0"]), float(shape["y1"]))))
            found |= (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
        elif shape.get("type") == "path":
            poly = _polygon(shape.get("path", ""))
            if len(poly) < 3:
                continue
            crossings = np.zeros(len(xy), dtype=bool)  # ray casting, to the right
            for (xa, ya), (xb, yb) in zip(poly, np.roll(poly, -1, axis=0)):
                if ya == yb:
                    continue
                spans = (ya > y) != (yb > y)
                at = xa + (y - ya) * (xb - xa) / (yb - ya)
                crossings ^= spans & (x < at)
            found |= crossings
    return found

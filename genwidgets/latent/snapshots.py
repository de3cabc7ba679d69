"""Latent snapshots: the encodings of a fixed subset of the data at the epochs a run saved.

:class:`LatentSnapshots` is a Keras callback. When training starts from scratch and at the
end of every ``every``-th epoch it encodes the same items (the subset a
:class:`~genwidgets.latent.LatentMap` with as many points draws) and keeps
``idx``, ``z`` and, for a model with ``posterior(x)``, ``log_var``: as
``latents/epoch_0005.npz`` (plain float and integer arrays) in the run's folder, or in
memory when the run has none. It reads ``Callback.model`` once per saved epoch only: on
JAX that property syncs every variable from the training step's state.

:class:`SnapshotStore` reads them back (``epochs()``, ``load(epoch)``), from a folder
(``allow_pickle=False``) or from memory.
"""

from __future__ import annotations

import dataclasses
import io
import os
import re
import threading
from pathlib import Path

import numpy as np

from genwidgets._backend import import_keras
from genwidgets.atomic import write_bytes
from genwidgets.latent.subsets import subset_indices

keras = import_keras()

FOLDER = "latents"
_NAME = re.compile(r"^epoch_(\d+)\.npz$")


@dataclasses.dataclass(frozen=True)
class Snapshot:
    """The encodings at one epoch: item indices (n,), latents (n, d), log-variances or None."""

    epoch: int
    idx: np.ndarray
    z: np.ndarray
    log_var: np.ndarray | None = None


class SnapshotStore:
    """Snapshots by epoch, in a folder (``latents/epoch_NNNN.npz``) or in memory (None)."""

    def __init__(self, folder: str | os.PathLike | None = None):
        self.folder = None if folder is None else Path(folder)
        self._memory: dict[int, Snapshot] = {}
        self._lock = threading.Lock()

    def epochs(self) -> list[int]:
        """The saved epochs, in order (0: before training)."""
        if self.folder is None:
            with self._lock:
                return sorted(self._memory)
        if not self.folder.is_dir():
            return []
        found = (_NAME.match(p.name) for p in self.folder.iterdir())
        return sorted(int(m.group(1)) for m in found if m)

    def __len__(self) -> int:
        return len(self.epochs())

    def load(self, epoch: int) -> Snapshot:
        if self.folder is None:
            with self._lock:
                if epoch in self._memory:
                    return self._memory[epoch]
        else:
            path = self.folder / f"epoch_{int(epoch):04d}.npz"
            if path.is_file():
                with np.load(path, allow_pickle=False) as saved:
                    log_var = saved["log_var"] if "log_var" in saved.files else None
                    return Snapshot(int(epoch), saved["idx"], saved["z"], log_var)
        raise KeyError(f"No latent snapshot of epoch {epoch}. Expected one of "
                       f"{self.epochs()}. Received: epoch={epoch!r}")

    def latest(self) -> Snapshot | None:
        epochs = self.epochs()
        return self.load(epochs[-1]) if epochs else None

    def save(self, snapshot: Snapshot) -> None:
        if self.folder is None:
            with self._lock:
                self._memory[snapshot.epoch] = snapshot
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        arrays = {"idx": snapshot.idx, "z": snapshot.z}
        if snapshot.log_var is not None:
            arrays["log_var"] = snapshot.log_var
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        # whole or not at all: a reader never sees half a file
        write_bytes(self.folder / f"epoch_{snapshot.epoch:04d}.npz", buffer.getvalue())

    def clear(self, after: int | None = None) -> None:
        """Remove the snapshots (only those of epochs later than ``after``, if given)."""
        with self._lock:
            for epoch in [e for e in self._memory if after is None or e > after]:
                del self._memory[epoch]
        for epoch in self.epochs() if self.folder is not None else ():
            if after is None or epoch > after:
                (self.folder / f"epoch_{epoch:04d}.npz").unlink(missing_ok=True)

    def __repr__(self) -> str:
        where = "memory" if self.folder is None else str(self.folder)
        return f"SnapshotStore({where}, epochs={self.epochs()})"


class LatentSnapshots(keras.callbacks.Callback):
    """Save the latents of a fixed subset of ``x`` every ``every`` epochs.

    Args:
        x: the data items (the whole dataset: the subset is chosen from it).
        every: save at the end of every ``every``-th epoch (and before the first one).
        max_points: items encoded each time (the same ones; as ``LatentMap(max_items=)``).
        seed: chooses the subset (as ``LatentMap(seed=)``).
        folder: the run folder; snapshots go in its ``latents/``. None keeps them in
            memory.
        start_epoch: the epochs the run has done (a resumed run's): the snapshots up to it
            are kept, later ones (of training the resume rolled back) removed, and the map
            before training is labelled with it (0 for a run from scratch).

    Attach it to a run with :meth:`attach` (or pass it in ``Run(callbacks=[...])``).
    """

    def __init__(self, x, *, every: int = 1, max_points: int = 2000, seed: int = 0,
                 folder: str | os.PathLike | None = None, start_epoch: int = 0):
        super().__init__()
        if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
            raise ValueError(f"Expected every to be a positive integer (epochs). Received: "
                             f"every={every!r}")
        self.x = x
        self.every = int(every)
        self.idx = subset_indices(len(x), max_points, seed)
        if isinstance(start_epoch, bool) or not isinstance(start_epoch, (int, np.integer)) \
                or start_epoch < 0:
            raise ValueError(f"Expected start_epoch to be an integer >= 0. Received: "
                             f"start_epoch={start_epoch!r}")
        self.start_epoch = int(start_epoch)
        self.store = SnapshotStore(None if folder is None else Path(folder) / FOLDER)
        self.store.clear(after=self.start_epoch)  # later ones: of training rolled back

    @classmethod
    def of(cls, run) -> LatentSnapshots | None:
        """The snapshots callback attached to ``run``, or None."""
        return next((c for c in getattr(run, "extra_callbacks", ()) if isinstance(c, cls)),
                    None)

    @classmethod
    def attach(cls, run, **options) -> LatentSnapshots:
        """Make one for ``run`` (its data, its folder) and add it to the run's callbacks."""
        if "encode" not in run.spec.capabilities:
            raise ValueError(f"{run.spec.name} cannot encode, so it has no latents to save. "
                             f"Expected a model whose capabilities include 'encode'. "
                             f"Received: capabilities={sorted(run.spec.capabilities)}")
        folder = run.folder.path if run.folder is not None else None
        options.setdefault("start_epoch", run.steps // run.steps_per_epoch)  # a resumed run's
        callback = cls(run.dataset.x, folder=folder, **options)
        run.extra_callbacks.append(callback)
        return callback

    def on_train_begin(self, logs=None):
        if not self.store.epochs():  # the map before training (a resumed run's: its epoch)
            self._save(self.start_epoch)

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every == 0:
            self._save(epoch + 1)

    def _save(self, epoch: int) -> None:
        model = self.model  # once: on JAX this syncs the variables from the step's state
        x = np.asarray(self.x)[self.idx]
        log_var = None
        if hasattr(model, "posterior"):
            z, log_var = (np.asarray(a, dtype="float32") for a in model.posterior(x))
        else:
            z = np.asarray(model.encode(x), dtype="float32")
        self.store.save(Snapshot(epoch, self.idx, z, log_var))

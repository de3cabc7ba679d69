"""TensorBoard event files for a run, written with ``tensorboardX`` (no TensorFlow).

What a run holds, as TensorBoard shows it:

- scalars: every loss part of each batch row as ``batch/<part>`` and of each epoch row as
  ``epoch/<part>``, both at the run's step (so the two line up on one axis);
- ``samples``: images (or sentences, as text) drawn from the model at epoch ends, with the
  same seed each time;
- the projector: each latent snapshot (``latents/epoch_NNNN.npz``) as the embedding
  ``latents:NNNNN`` with its items' labels (and sentences) and, for image data, a sprite.

:func:`export_tensorboard` writes them for a saved run folder; :class:`TensorBoardWriter`
is a Keras callback writing them live (``Run(callbacks=[...])``, or
:meth:`TensorBoardWriter.attach` for a run, which also knows a resumed run's step).
"""

from __future__ import annotations

import os
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from genwidgets._backend import import_keras
from genwidgets.atomic import replacing

keras = import_keras()

SKIP = ("step", "epoch", "t")  # a row's keys that are not loss parts
SAMPLES = 16  # items drawn at each epoch end
SUBFOLDER = "tensorboard"  # the default logdir, inside the run folder
EVENTS = "events.out.tfevents."


def require_tensorboardx():
    """The ``tensorboardX`` module, or a clear error saying how to install it."""
    try:
        import tensorboardX
    except ImportError as exc:
        raise ModuleNotFoundError(
            f"Expected the tensorboardX package to write TensorBoard event files. Received: "
            f"{exc}. Install it with `pip install 'genwidgets[tensorboard]'` (or "
            f"`pip install tensorboardX`).") from None
    return tensorboardX


def attach_tensorboard(run, logdir: str | os.PathLike | None = None):
    """TensorBoard logs for ``run`` as it trains (``Run(tensorboard=...)``, ``genwidgets
    train --tensorboard``): latent snapshots for the projector (a model that encodes) and a
    :class:`TensorBoardWriter` (logdir default ``<run folder>/tensorboard``)."""
    from genwidgets.latent.snapshots import LatentSnapshots

    if "encode" in run.spec.capabilities and LatentSnapshots.of(run) is None:
        LatentSnapshots.attach(run, max_points=1000)
    return TensorBoardWriter.attach(run, logdir)


def summary_writer(logdir: str | os.PathLike, purge_step: int | None = None):
    """A ``tensorboardX.SummaryWriter`` on ``logdir`` (``purge_step``: on reading, earlier
    files' events from that step on are dropped, as after a resume)."""
    return require_tensorboardx().SummaryWriter(logdir=str(logdir), purge_step=purge_step,
                                                flush_secs=10)


def loss_parts(row: dict) -> dict[str, float]:
    """The numeric loss parts of a batch or epoch row."""
    return {k: float(v) for k, v in row.items() if k not in SKIP
            and isinstance(v, (int, float)) and not isinstance(v, bool)}


def write_rows(writer, rows, prefix: str) -> int:
    """Write each row's loss parts as ``prefix/<part>`` at the row's step; return how many."""
    count = 0
    for row in rows:
        if "step" not in row:
            continue
        walltime = row.get("t")
        for key, value in loss_parts(row).items():
            writer.add_scalar(f"{prefix}/{key}", value, int(row["step"]), walltime=walltime)
            count += 1
    return count


def write_samples(writer, samples, step: int, tokenizer=None) -> bool:
    """Images (N, H, W[, C]) in [0, 1] as one image grid, or sentences (strings, or token ids
    with a ``tokenizer``) as text; False when they are neither."""
    if isinstance(samples, (list, tuple)) and all(isinstance(s, str) for s in samples):
        sentences = list(samples)
    else:
        samples = np.asarray(samples)
        if samples.ndim == 2 and samples.dtype.kind in "iu" and tokenizer is not None:
            sentences = list(tokenizer.decode(samples))
        elif samples.ndim in (3, 4) and samples.dtype.kind == "f":
            images = samples[..., None] if samples.ndim == 3 else samples
            writer.add_images("samples", np.clip(images, 0.0, 1.0), step, dataformats="NHWC")
            return True
        else:
            return False
    text = "\n".join(f"{i + 1}. {s.replace(chr(10), ' ')}" for i, s in enumerate(sentences))
    writer.add_text("samples", text, step)
    return True


def _square_nchw(images: np.ndarray) -> np.ndarray:
    """Items (N, H, W[, C]) as (N, C, S, S) with S = max(H, W) (the projector wants square
    sprite cells), padded with black."""
    x = np.asarray(images, dtype="float32")
    x = x[..., None] if x.ndim == 3 else x
    n, h, w, c = x.shape
    side = max(h, w)
    out = np.zeros((n, side, side, c), dtype="float32")
    out[:, :h, :w] = np.nan_to_num(np.clip(x, 0.0, 1.0))
    return out.transpose(0, 3, 1, 2)


def _write_sprite(sprite: np.ndarray, path: Path) -> None:
    """The sprite as tensorboardX lays it out (K = ceil(sqrt(N)) cells a row, row-major), in
    a K x K square whose cells after the items are black: tensorboardX leaves the rows
    under a short last row uninitialised (noise in the file, overflow warnings)."""
    from PIL import Image

    n, c, side, _ = sprite.shape
    cols = int(np.ceil(np.sqrt(n)))
    cells = np.zeros((cols * cols, side, side, 3), dtype="float32")
    cells[:n] = np.repeat(sprite, 3, axis=1).transpose(0, 2, 3, 1) if c == 1 else \
        sprite[:, :3].transpose(0, 2, 3, 1)
    grid = cells.reshape(cols, cols, side, side, 3).transpose(0, 2, 1, 3, 4)
    grid = grid.reshape(cols * side, cols * side, 3)
    with replacing(path, keep_suffix=True) as tmp:  # whole: ``.sprite.123.tmp.png`` first
        Image.fromarray(np.uint8(np.round(grid * 255))).save(tmp)


def write_projector(writer, snapshot, *, x=None, labels=None, label_names=None,
                    tokenizer=None) -> None:
    """One latent snapshot as the embedding ``latents:<epoch>``: vectors, labels (and
    sentences for text), a sprite of the items for images."""
    idx, z = np.asarray(snapshot.idx), np.asarray(snapshot.z, dtype="float32")
    columns: dict[str, list[str]] = {}
    if labels is not None:
        chosen = np.asarray(labels)[idx]
        names = list(label_names) if label_names else None
        columns["label"] = [names[int(v)] if names and 0 <= int(v) < len(names) else str(v)
                            for v in chosen]
    items = None if x is None else np.asarray(x)[idx]
    sprite = None
    if items is not None and items.dtype.kind in "iu" and items.ndim == 2 and tokenizer:
        columns["sentence"] = [" ".join(str(s).split()) for s in tokenizer.decode(items)]
    elif items is not None and items.ndim in (3, 4) and items.dtype.kind == "f":
        sprite = _square_nchw(items)
    metadata, header = None, None
    if len(columns) == 1:
        metadata = next(iter(columns.values()))
    elif columns:
        header = list(columns)
        metadata = [list(row) for row in zip(*columns.values())]
    with warnings.catch_warnings():  # its sprite's uninitialised rows (rewritten below)
        warnings.simplefilter("ignore", RuntimeWarning)
        writer.add_embedding(z, metadata=metadata, label_img=sprite,
                             global_step=snapshot.epoch, tag="latents",
                             metadata_header=header)
    if sprite is not None:
        folder = Path(writer.logdir) / f"{snapshot.epoch:05d}" / "latents"
        _write_sprite(sprite, folder / "sprite.png")


def _draw(model, n: int):
    return np.asarray(model.sample(int(n), seed=0))


# -- a saved run ----------------------------------------------------------------------------
def _logdir_for(run_dir: Path, logdir) -> Path:
    path = run_dir / SUBFOLDER if logdir is None else Path(logdir)
    if path.exists() and not path.is_dir():
        raise ValueError(f"Expected a folder for the TensorBoard logs. Received: {path}, "
                         f"which is a file. Pick another --logdir.")
    old = sorted(p.name for p in path.glob(f"{EVENTS}*")) if path.is_dir() else []
    if old or (path / "projector_config.pbtxt").exists():
        raise ValueError(
            f"Expected an empty or new folder for the TensorBoard logs. Received: {path}, "
            f"which already holds TensorBoard files ({', '.join(old[:3]) or 'a projector'}"
            f"{', ...' if len(old) > 3 else ''}). Nothing was written. Pick another "
            f"--logdir, or remove that folder first.")
    return path


def export_tensorboard(run_dir: str | os.PathLike, logdir: str | os.PathLike | None = None,
                       samples: int = SAMPLES) -> dict[str, Any]:
    """Write a saved run folder as TensorBoard logs in ``logdir`` (default
    ``RUN_DIR/tensorboard``, which must not hold event files yet).

    Scalars come from ``batches.jsonl`` and ``history.jsonl``; samples from every checkpoint
    at an epoch's end and from ``model.keras`` (at the last step); the projector from
    ``latents/``. Samples and the projector need ``model.keras`` (its data are loaded
    again). Returns what was written: counts, the logdir and notes.
    """
    from genwidgets.latent.snapshots import FOLDER, SnapshotStore
    from genwidgets.training.files import checkpoint_dirs, read_jsonl
    from genwidgets.training.folder import read_run

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise FileNotFoundError(f"Expected a run folder (written by `genwidgets train --out` "
                                f"or Run(out=...)). Received: {str(run_dir)!r}, which is "
                                f"{'a file' if run_dir.exists() else 'not there'}.")
    record = read_run(run_dir)
    if record.error:
        raise ValueError(record.error)
    logdir = _logdir_for(run_dir, logdir)
    batches = read_jsonl(run_dir / "batches.jsonl", strict=False)
    epochs = read_jsonl(run_dir / "history.jsonl", strict=False)
    done = {"logdir": str(logdir), "batch_scalars": 0, "epoch_scalars": 0, "samples": [],
            "projector": [], "notes": []}
    source = None
    if (run_dir / "model.keras").is_file():
        from genwidgets.latent.source import LatentSource

        source = LatentSource.from_folder(run_dir)
    else:
        done["notes"].append(f"{run_dir / 'model.keras'} is missing (a run writes it when it "
                             f"finishes or stops): no samples and no projector")
    writer = summary_writer(logdir)
    try:
        done["batch_scalars"] = write_rows(writer, batches, "batch")
        done["epoch_scalars"] = write_rows(writer, epochs, "epoch")
        if source is not None:
            done["samples"] = _export_samples(writer, run_dir, source, epochs, samples,
                                              checkpoint_dirs(run_dir))
            store = SnapshotStore(run_dir / FOLDER)
            for epoch in store.epochs():
                write_projector(writer, store.load(epoch), x=source.dataset.x,
                                labels=source.labels, label_names=source.label_names,
                                tokenizer=source.tokenizer)
                done["projector"].append(epoch)
            if not done["projector"]:
                done["notes"].append("no latent snapshots in latents/ (LatentSnapshots or "
                                     "`genwidgets train --tensorboard` writes them)")
    finally:
        writer.close()
    return done


def _export_samples(writer, run_dir, source, epochs, n, checkpoints) -> list[int]:
    """Samples at each epoch end a checkpoint holds, and from model.keras at the last step."""
    if "sample" not in source.capabilities:
        return []
    ends = {int(r["step"]) for r in epochs if "step" in r}
    steps = []
    for path in sorted(checkpoints):
        step = int(path.name.split("-")[-1])
        if step in ends and (path / "model.keras").is_file():
            model = keras.saving.load_model(path / "model.keras", safe_mode=True,
                                            custom_objects=source.spec.custom_objects())
            if write_samples(writer, _draw(model, n), step, source.tokenizer):
                steps.append(step)
    last = max(ends, default=0)
    if last not in steps and write_samples(writer, source.sample(n, seed=0), last,
                                           source.tokenizer):
        steps.append(last)
    return sorted(steps)


# -- live, as a Keras callback --------------------------------------------------------------
class TensorBoardWriter(keras.callbacks.Callback):
    """Write TensorBoard logs while ``fit`` runs: ``batch/*`` and ``epoch/*`` scalars at
    each step, ``samples`` at each epoch end, and the latent snapshots of a
    :class:`~genwidgets.latent.snapshots.LatentSnapshots` beside it for the projector.

    Args:
        logdir: the folder for the event files.
        samples: items drawn at each epoch end (0: none); needs ``model.sample``.
        initial_step: the step training starts from (a resumed run's); events that older
            files hold from that step on are dropped when TensorBoard reads the folder.
        x, labels, label_names, tokenizer: the data, for the projector's labels and sprite
            and to turn sampled token ids into sentences.
        snapshots: a ``SnapshotStore`` whose snapshots go to the projector.

    :meth:`attach` makes one for a :class:`~genwidgets.training.Run` with all of these.
    """

    def __init__(self, logdir: str | os.PathLike, *, samples: int = SAMPLES,
                 initial_step: int = 0, x=None, labels=None, label_names=None,
                 tokenizer=None, snapshots=None):
        super().__init__()
        if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)) \
                or samples < 0:
            raise ValueError(f"Expected samples to be an integer >= 0. Received: "
                             f"samples={samples!r}")
        if isinstance(initial_step, bool) or not isinstance(initial_step, (int, np.integer)) \
                or initial_step < 0:
            raise ValueError(f"Expected initial_step to be an integer >= 0. Received: "
                             f"initial_step={initial_step!r}")
        self.logdir = Path(logdir)
        self.samples, self.step = int(samples), int(initial_step)
        self.x, self.labels, self.label_names = x, labels, label_names
        self.tokenizer, self.snapshots = tokenizer, snapshots
        self._purge: int | None = int(initial_step)
        self._writer = None
        self._means: dict[str, float] = {}
        self._projected: set[int] = set()

    @classmethod
    def attach(cls, run, logdir: str | os.PathLike | None = None, **options):
        """Make one for ``run`` (its step, data, tokenizer and latent snapshots; logdir
        default ``<run folder>/tensorboard``) and add it to the run's callbacks."""
        from genwidgets.latent.snapshots import LatentSnapshots

        if logdir is None:
            if run.folder is None:
                raise ValueError("Expected logdir=... for a run without a folder (out=). "
                                 "Received: logdir=None")
            logdir = run.folder.path / SUBFOLDER
        snapshots = LatentSnapshots.of(run)
        store = snapshots.store if snapshots is not None else None
        data = run.dataset
        callback = cls(logdir, initial_step=run.steps, x=data.x, labels=data.y,
                       label_names=data.info.label_names, tokenizer=data.tokenizer,
                       snapshots=store, **options)
        run.extra_callbacks.append(callback)
        return callback

    def _open(self):
        if self._writer is None:
            self._writer = summary_writer(self.logdir, purge_step=self._purge)
            self._purge = None  # once: later opens go on from there
        return self._writer

    def on_train_begin(self, logs=None):
        self._open()

    def on_epoch_begin(self, epoch, logs=None):
        self._means = {}

    def on_train_batch_end(self, batch, logs=None):
        # Keras' logs are running means over the epoch: each batch's own value is recovered
        # as the run's rows do (k * mean_k - (k - 1) * mean_(k-1)).
        self.step += 1
        writer, k, now = self._open(), batch + 1, time.time()
        for key, mean in loss_parts(logs or {}).items():
            value = mean if k == 1 else k * mean - (k - 1) * self._means.get(key, mean)
            self._means[key] = mean
            writer.add_scalar(f"batch/{key}", value, self.step, walltime=now)

    def on_epoch_end(self, epoch, logs=None):
        writer = self._open()
        for key, value in loss_parts(logs or {}).items():
            writer.add_scalar(f"epoch/{key}", value, self.step)
        if self.samples and hasattr(self._model, "sample"):
            model = self.model  # once an epoch: on JAX this syncs the variables
            write_samples(writer, _draw(model, self.samples), self.step, self.tokenizer)
        self._project()
        writer.flush()

    def on_train_end(self, logs=None):
        self._project()
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def _project(self) -> None:
        if self.snapshots is None:
            return
        for epoch in self.snapshots.epochs():
            folder = self.logdir / f"{epoch:05d}" / "latents"
            if epoch in self._projected or folder.exists():  # a resume keeps the first one
                continue
            self._projected.add(epoch)
            write_projector(self._open(), self.snapshots.load(epoch), x=self.x,
                            labels=self.labels, label_names=self.label_names,
                            tokenizer=self.tokenizer)

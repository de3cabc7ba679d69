"""The run folder of a plain ``model.fit`` watched by :class:`~genwidgets.callbacks.LiveLoss`.

The same files as a plugin run (``config.json``, ``batches.jsonl``, ``history.jsonl``,
``model.keras``), written the same way by :class:`genwidgets.training.folder.RunFolder`:
a new or empty folder only (``overwrite=True`` removes only genwidgets' own files), its lock
held while a fit writes, rows appended, the config and model replaced atomically. Its
``config.json`` names the model (``model.name``), ``family: "keras"`` and what the fit used
(optimizer, learning rate, loss, parameters, epochs), so ``RunsTable`` lists it.
"""

from __future__ import annotations

import os
from pathlib import Path

from genwidgets.training.folder import LOCK, OWN_FILES, FolderInUseError, RunFolder
from genwidgets.training.ownership import check_new, remove_own_files
from genwidgets.training.run_config import write_run_config


class FitFolderInUseError(FolderInUseError):
    """``LiveLoss(out=...)`` was pointed at a folder that already holds a run or files."""

    def advice(self, cli: bool = False) -> str:
        path, survey = self.path, self.survey
        parts = []
        if survey.run:
            parts.append(f"a genwidgets run ({survey.run})")
        if survey.foreign:
            parts.append(f"{survey.foreign_text()} that genwidgets did not write")
        keep = f", and keeps {survey.foreign_text()}" if survey.foreign else ""
        return (f"LiveLoss(out={str(path)!r}): {path} already holds {' and '.join(parts)}. "
                f"Expected an empty or new folder. To keep it, pick another folder; to "
                f"replace it, pass overwrite=True: it removes only genwidgets' own files "
                f"({', '.join(OWN_FILES)}, checkpoints/step-*, latents/epoch_*.npz){keep}.")


def _plain(value):
    """A JSON-able name for a loss or optimizer setting, or None."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return getattr(value, "__name__", None) or getattr(value, "name", None) \
        or type(value).__name__


def fit_config(model, params: dict) -> dict:
    """What a fit used, as the run table shows it: optimizer, learning rate, loss,
    parameters, epochs, steps per epoch (whatever of these the model can tell)."""
    config: dict = {}
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None:
        config["optimizer"] = type(optimizer).__name__.lower()
        try:
            import keras

            rate = float(keras.ops.convert_to_numpy(optimizer.learning_rate))
            config["learning_rate"] = float(f"{rate:.6g}")  # 0.001, not float32's 0.0010000000474
        except Exception:  # a schedule some backends cannot read here: not shown
            pass
    loss = _plain(getattr(model, "loss", None))
    if isinstance(loss, str):
        config["loss"] = loss
    try:
        config["parameters"] = int(model.count_params())
    except Exception:  # not built
        pass
    config["epochs"] = params.get("epochs")
    if params.get("steps"):
        config["steps_per_epoch"] = params["steps"]
    return config


class FitFolder:
    """Checks ``out`` at once (before any training), writes it while fits run."""

    def __init__(self, out: str | os.PathLike, *, overwrite: bool = False,
                 data: str = "fit data", name: str | None = None, save_model: bool = True):
        self.run_folder = RunFolder(out)
        self.path: Path = self.run_folder.path
        self.overwrite, self.data, self.name = bool(overwrite), data, name
        self.save = bool(save_model)
        self._written = False  # this callback has written here (a second fit goes on)
        if (self.path / LOCK).exists():  # in use: say so now, not when fit starts
            self.run_folder.lock.acquire("use it")
            self.run_folder.lock.release()
        self._check_new()

    def _check_new(self):
        try:
            return check_new(self.path, self.overwrite)
        except FolderInUseError as exc:
            raise FitFolderInUseError(exc.path, exc.survey) from None

    def begin(self, model, params: dict) -> None:
        """At a fit's start: take the lock, make the folder ours, write its config."""
        import keras

        from genwidgets import __version__

        folder = self.run_folder
        folder.create()
        folder.lock.acquire("write to it")
        try:
            if self._written:
                folder.check_unchanged()  # nobody else wrote here between two fits
            elif not self._check_new().empty:
                remove_own_files(self.path)  # overwrite=True: genwidgets' own files only
            doc = {"model": self.name or model.name, "family": "keras", "data": self.data,
                   "config": fit_config(model, params), "written_by": "LiveLoss",
                   "backend": keras.backend.backend(), "keras_version": keras.__version__,
                   "genwidgets_version": __version__}
            write_run_config(self.path, doc)
            self._written = True
        except BaseException:
            folder.lock.release()
            raise

    def append_batches(self, rows: list[dict]) -> None:
        self.run_folder.append_batches(rows)

    def append_epoch(self, row: dict) -> None:
        self.run_folder.append_epoch(row)

    def end(self, model) -> str | None:
        """At a fit's end: write ``model.keras`` (unless ``model`` is None), free the
        folder. Returns why the model was not written, if it was not."""
        note = None
        folder = self.run_folder
        try:
            if model is not None and self.save:
                try:
                    folder.save_model(model)
                except Exception as exc:  # a layer Keras cannot save: the rows are kept
                    note = f"model.keras not written: {type(exc).__name__}: {exc}"
        finally:
            folder.mark_written()
            folder.lock.release()
        return note

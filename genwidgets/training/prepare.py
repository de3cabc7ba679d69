"""A run's set-up: everything checked, loaded or built before a :class:`Run` exists.

:func:`prepare` reads only: the model spec and the data, the settings (a resume's own, with
the mutable ones given anew), the batches, the devices, the checkpoint and rows a resume
goes on from, and the model. Nothing is written before every check passed; the folder is
written by :meth:`Prepared.write_folder`, under its lock.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from genwidgets.spec import Dataset, ModelSpec
from genwidgets.training.checks import (check_same_data, data_fingerprint, integer, seconds,
                                        share)
from genwidgets.training.errors import ModelBuildError


def full_batches(x, batch_size: int):
    """Drop the last partial batch so every step has the same shape (one compile)."""
    n = len(x)
    if n < 1:
        raise ValueError("Expected at least one item to train on. Received: empty data")
    batch_size = min(int(batch_size), n)
    return x[: n - n % batch_size], batch_size


def replaced(config, values: dict) -> Any:
    """``config`` with those of ``values`` that are its fields."""
    names = {f.name for f in dataclasses.fields(config)}
    return dataclasses.replace(config, **{k: v for k, v in values.items() if k in names})


@dataclasses.dataclass
class Prepared:
    """What :func:`prepare` found: the parts of a run, checked, before any write."""

    spec: ModelSpec
    dataset: Dataset
    config: Any
    changes: dict[str, Any]  # mutable settings given anew to a resume (checked)
    epochs: int
    x: Any  # the items trained on (whole batches; the held-out ones removed); with their
    # labels (a LabelledItems) for a model with the "condition" capability
    x_val: Any  # the held-out items (whole batches), or None
    validation: dict | None  # the split config.json records, or None
    prior_x: Any  # what a model's prior is fitted on at the end: every item trained on
    batch_size: int
    steps_per_epoch: int
    placement: Any
    seed: int
    model: Any
    folder: Any  # a RunFolder, or None
    checkpoint: Any  # the Checkpoint a resume goes on from, or None
    rows: tuple[list[dict], list[dict]]  # its batch and epoch rows
    checkpoint_every_s: float
    checkpoint_mid_epoch_s: float
    # what the folder's config.json records, and how to check the folder is as it was read
    data_options: dict
    distribution: str
    precision: str
    fingerprint: str | None
    before: Any
    overwrite: bool

    @property
    def already_finished(self) -> bool:
        """A resumed run that already has its epochs (nothing is written unless it trains on)."""
        return (self.checkpoint is not None
                and self.checkpoint.step >= self.epochs * self.steps_per_epoch)

    def write_folder(self, goal: int, config: Any) -> None:
        """Every check passed: write the run folder (its rows, its ``config.json`` with
        ``goal`` epochs and ``config``), holding its lock."""
        from genwidgets.training.folder import RunFolderError
        from genwidgets.training.ownership import check_new, remove_own_files, signature

        folder = self.folder
        folder.create()
        folder.lock.acquire("write to it")
        try:
            if signature(folder.path) != self.before:
                raise RunFolderError(
                    f"{folder.path} changed while this run read it (another run or "
                    f"process wrote there). Nothing was changed by this run. Try again "
                    f"once that one has ended.")
            if self.checkpoint is not None:
                from genwidgets.training.checkpoint import restore

                restore(folder, self.checkpoint, *self.rows)
            elif not check_new(folder.path, self.overwrite).empty:
                remove_own_files(folder.path)  # overwrite=True: only genwidgets' files
            folder.write_config(self.spec, config, self.dataset, epochs=goal,
                                batch_size=self.batch_size, data_options=self.data_options,
                                seed=self.seed, distribution=self.distribution,
                                precision=self.precision, data_fingerprint=self.fingerprint,
                                **({"validation": self.validation} if self.validation else {}))
            folder.mark_written()
        finally:
            folder.lock.release()


def prepare(spec: ModelSpec | str, dataset: Dataset | str, config: Any = None, *,
            epochs: int = 10, batch_size: int = 64, out: str | Path | None = None,
            model: Any = None, data_options: dict | None = None, distribution: str = "auto",
            precision: str = "float32", seed: int | None = None, resume: bool = False,
            overwrite: bool = False, checkpoint_every_s: float = 30.0,
            checkpoint_mid_epoch_s: float = 600.0, validation: float | None = None) -> Prepared:
    """Check, load and build the parts of a run (the arguments are :class:`Run`'s)."""
    from genwidgets.registry import get_registry

    registry = get_registry()
    spec = registry.model(spec) if isinstance(spec, str) else spec
    epochs, batch_size = integer("epochs", epochs, 1), integer("batch_size", batch_size, 1)
    if seed is not None:
        seed = integer("seed", seed, 0, 2**32 - 1)
    checkpoint_every_s = seconds("checkpoint_every_s", checkpoint_every_s)
    if validation is not None:  # told before any data is loaded
        validation = share("validation", validation)
    checkpoint_mid_epoch_s = seconds("checkpoint_mid_epoch_s", checkpoint_mid_epoch_s)
    if resume and overwrite:
        raise ValueError("Expected resume=True or overwrite=True, not both. Received both.")
    if resume and out is None:
        raise ValueError("Expected out= the folder to resume. Received: resume=True, "
                         "out=None")
    folder = before = None
    if out is not None:  # read only: nothing is written before every check passed
        from genwidgets.training.folder import LOCK, RunFolder
        from genwidgets.training.ownership import check_new, signature

        folder = RunFolder(out)
        if (folder.path / LOCK).exists():  # in use: say so before loading anything
            folder.lock.acquire("use it")
            folder.lock.release()
        before = signature(folder.path)
        if not resume:
            check_new(folder.path, overwrite)
    if isinstance(dataset, str):
        from genwidgets.config import data_options as typed_options

        data_spec = registry.dataset(dataset)
        data_options = typed_options(data_spec, data_options)
        dataset = data_spec.load(**data_options)
    asked = config  # a resume compares what was asked with the run's own settings
    if resume:
        from genwidgets.training.resume import resumed_config

        config, changes = resumed_config(spec, folder.path, asked, dataset.info.modality)
    elif config is None or isinstance(config, dict):
        config, changes = spec.config_for(dataset.info.modality, **(config or {})), {}
    else:  # a Config of this spec, checked again; a string is the config's fault
        from genwidgets.config import check_config

        config, changes = check_config(spec, config), {}
    if dataset.info.modality not in spec.modalities:
        raise ValueError(
            f"Model {spec.name!r} takes {list(spec.modalities)} data. "
            f"Received: {dataset.info.modality} data {dataset.info.name!r}")
    from genwidgets.training.labels import conditioned
    from genwidgets.training.validation import hold_out

    # a conditional model's items come with their labels (LabelledItems), split alike
    dataset, items = conditioned(spec, dataset)
    prior_x, x_val, split = hold_out(items, validation, batch_size, seed=seed,
                                     resume=resume,
                                     folder=folder.path if folder is not None else None)
    x, batch_size = full_batches(prior_x, batch_size)
    if x_val is not None:
        x_val = x_val[: len(x_val) - len(x_val) % batch_size]
    steps_per_epoch = len(x) // batch_size
    from genwidgets._backend import import_keras

    import_keras()  # a clear error when Keras already runs on another backend
    from genwidgets.training.distribution import Placement

    placement = Placement(distribution, precision)  # the devices and the dtypes
    placement.check_batch(batch_size)
    from genwidgets.training.checkpoint import find_checkpoint, initial_seed, rows_to_resume

    fingerprint = data_fingerprint(dataset) if out is not None else None
    checkpoint, rows = None, ([], [])
    if resume:
        checkpoint = find_checkpoint(folder.path, spec, placement, batch_size, steps_per_epoch)
        check_same_data(folder.path, dataset, fingerprint)
        from genwidgets.training.resume import check_same_config, settings_from_checkpoint

        config = settings_from_checkpoint(folder.path, config, checkpoint.model)
        check_same_config(folder.path, spec, config, checkpoint.model)
        rows = rows_to_resume(checkpoint, folder.path, steps_per_epoch)
    seed = initial_seed(seed, checkpoint, placement.process_count)
    with placement.scope():  # thread-local: entered again on the worker to fit
        if checkpoint is not None:
            model = checkpoint.model
        elif model is not None:
            model = placement.adopt(model)
        else:
            model = build(spec, config, dataset.info)
    if changes:  # mutable settings given anew to a resume: checked before any write
        from genwidgets.training.resume import checked_changes

        changes = checked_changes(spec, config, changes, when="on a resume",
                                  zero_rate=not hasattr(model, "set_hyper"))
        config = replaced(config, changes)
    return Prepared(spec=spec, dataset=dataset, config=config, changes=changes,
                    epochs=int(epochs), x=x, x_val=x_val, validation=split,
                    prior_x=prior_x, batch_size=batch_size,
                    steps_per_epoch=steps_per_epoch, placement=placement, seed=seed,
                    model=model, folder=folder, checkpoint=checkpoint, rows=rows,
                    checkpoint_every_s=float(checkpoint_every_s),
                    checkpoint_mid_epoch_s=float(checkpoint_mid_epoch_s),
                    data_options=data_options or {}, distribution=distribution,
                    precision=precision, fingerprint=fingerprint, before=before,
                    overwrite=overwrite)


def build(spec: ModelSpec, config, info):
    """``spec.build(config, info)``; a plugin's error becomes a :class:`ModelBuildError`."""
    try:
        return spec.build(config, info)
    except Exception as exc:
        from genwidgets.training.checkpoint import plugin_of

        plugin = plugin_of(spec)["plugin"]
        if isinstance(exc, ValueError):  # Keras' and the plugins' word for "not these"
            raise ModelBuildError(
                f"Model {spec.name!r} cannot be built with these settings on this "
                f"data: {exc} Change the setting it names (--set / the settings form), "
                f"or the data. (Only if the settings are right is plugin {plugin!r} at "
                f"fault: `genwidgets plugins --check`.)") from exc
        raise ModelBuildError(
            f"Model {spec.name!r} (plugin {plugin!r}) failed to build: "
            f"{type(exc).__name__}: {exc}. Expected build(config, data_info) to return "
            f"a compiled keras.Model. `genwidgets plugins --check` checks every model."
        ) from exc

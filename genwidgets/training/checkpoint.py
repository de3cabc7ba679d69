"""Checkpoints of a run: the model with its optimizer state, and where training stood.

A checkpoint is a folder ``checkpoints/step-000000123/`` in the run's folder holding
``model.keras`` (written by Keras: weights, non-trainable state such as seed generators,
optimizer variables) and ``state.json`` (step, epoch, batch, seed, goal, history position,
plugin name and version, the SHA-256 of ``model.keras``). It is written whole into a
hidden temporary folder, fsynced and renamed into place, so a folder named ``step-*`` is
always complete; the newest two are kept (``latest`` and ``previous``). A process killed
at any moment leaves at least one of them whole.

Loading tries the latest and falls back to the previous one when the latest is damaged,
saying so; the damaged folder is moved aside as ``damaged-step-*``. Models load with
``safe_mode=True`` and the spec's custom objects; nothing is ever unpickled.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from genwidgets.atomic import fsync_dir, fsync_file
from genwidgets.training.files import (  # noqa: F401  (checkpoint_dirs: read here too)
    CHECKPOINT_PREFIX, CHECKPOINTS, DamagedFileError, RunFolderError, checkpoint_dirs,
    read_jsonl)

FORMAT = 1
FOLDER, PREFIX = CHECKPOINTS, CHECKPOINT_PREFIX
KEEP = 2


class CheckpointError(RuntimeError):
    """No checkpoint of a run folder can be loaded."""


@dataclasses.dataclass
class Checkpoint:
    path: Path
    state: dict[str, Any]
    model: Any = None
    notes: list[str] = dataclasses.field(default_factory=list)  # e.g. a fallback
    damaged: list[Path] = dataclasses.field(default_factory=list)  # newer ones that failed

    @property
    def step(self) -> int:
        return int(self.state["step"])


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_checkpoint(run_folder: str | os.PathLike, model, state: dict[str, Any]) -> Path:
    """Write ``model`` and ``state`` as the newest checkpoint; keep the previous one."""
    root = Path(run_folder) / FOLDER
    root.mkdir(parents=True, exist_ok=True)
    step = int(state["step"])
    tmp = root / f".tmp-{os.getpid()}-{time.monotonic_ns()}"
    tmp.mkdir()
    try:
        model_path = tmp / "model.keras"
        model.save(model_path)  # into the hidden folder: the folder is renamed into place
        fsync_file(model_path)
        doc = {"format": FORMAT, **state, "written": time.time(),
               "files": {"model.keras": {"size": model_path.stat().st_size,
                                         "sha256": _sha256(model_path)}}}
        (tmp / "state.json").write_text(json.dumps(doc, indent=2), encoding="utf-8")
        fsync_file(tmp / "state.json")
        fsync_dir(tmp)
        final = root / f"{PREFIX}{step:09d}"
        if final.exists():  # the same step again (a stop right after an epoch's checkpoint)
            trash = root / f".old-{os.getpid()}-{time.monotonic_ns()}"
            os.replace(final, trash)
            os.replace(tmp, final)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.replace(tmp, final)
        fsync_dir(root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    for old in checkpoint_dirs(run_folder)[KEEP:]:
        shutil.rmtree(old, ignore_errors=True)
    for stale in [*root.glob(".tmp-*"), *root.glob(".old-*")]:  # left by a killed writer
        if not _alive(stale.name.split("-")[1]):
            shutil.rmtree(stale, ignore_errors=True)
    return final


def _alive(pid: str) -> bool:
    """Whether process ``pid`` (of this host) still runs: its temporaries are its own."""
    if not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists, owned by someone else
        return True
    return True


def read_state(path: Path) -> dict[str, Any]:
    """A checkpoint's ``state.json``, checked against its ``model.keras``; raise if damaged."""
    try:
        state = json.loads((path / "state.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"{path / 'state.json'} cannot be read ({type(exc).__name__}: "
                              f"{exc})") from exc
    if not isinstance(state, dict) or state.get("format") != FORMAT or "step" not in state:
        raise CheckpointError(f"{path / 'state.json'} is not a genwidgets checkpoint state "
                              f"(format {FORMAT}). Received: {str(state)[:200]}")
    expected = (state.get("files") or {}).get("model.keras") or {}
    model_path = path / "model.keras"
    if not model_path.is_file():
        raise CheckpointError(f"{model_path} is missing")
    if expected.get("sha256") and _sha256(model_path) != expected["sha256"]:
        raise CheckpointError(
            f"{model_path} is damaged: its SHA-256 differs from the one recorded when it was "
            f"written ({model_path.stat().st_size} bytes, expected {expected.get('size')})")
    return state


def load_model(path: Path, spec) -> Any:
    """The checkpoint's model, with its optimizer state, loaded with ``safe_mode=True``."""
    from genwidgets._backend import import_keras

    keras = import_keras()
    return keras.saving.load_model(path / "model.keras", custom_objects=spec.custom_objects(),
                                   safe_mode=True)


def load_latest(run_folder: str | os.PathLike, spec=None, *, load: bool = True,
                set_aside: bool = True) -> Checkpoint | None:
    """The newest checkpoint that loads, or None when the folder has none.

    A damaged newer one is named in ``notes`` (and moved aside when ``set_aside``); raise
    :class:`CheckpointError` when checkpoints exist and none of them loads.
    """
    dirs = checkpoint_dirs(run_folder)
    if not dirs:
        return None
    notes, errors, whole = [], {}, {}
    for path in dirs:
        try:
            state = read_state(path)
        except Exception as exc:  # a damaged checkpoint: say so and try the one before
            errors[path] = f"{type(exc).__name__}: {exc}"
            continue
        try:
            model = load_model(path, spec) if load else None
        except Exception as exc:  # whole on disk, yet it does not load into this spec
            errors[path] = whole[path] = f"{type(exc).__name__}: {exc}"
            continue
        for bad in errors:
            notes.append(f"checkpoint {bad.name} cannot be loaded ({errors[bad]}); resumed "
                         f"from {path.name} instead")
        checkpoint = Checkpoint(path, state, model, notes, list(errors))
        if set_aside:
            set_aside_damaged(checkpoint)
        return checkpoint
    if whole:  # intact files: the model differs, not the checkpoint
        raise mismatch_error(run_folder, spec, whole)
    raise CheckpointError(
        f"Expected a checkpoint in {Path(run_folder) / FOLDER} that loads. Received: "
        f"{len(dirs)} damaged: " + "; ".join(f"{p.name}: {e}" for p, e in errors.items()))


def mismatch_error(run_folder, spec, whole: dict[Path, str]) -> CheckpointError:
    """The error for checkpoints that are whole (their SHA-256 checks) yet do not load as
    ``spec``'s model: written by another model, plugin version or config. Names what differs."""
    path = next(iter(whole))
    state = read_state(path)
    differs = []
    if spec is not None and state.get("model") != spec.name:
        differs.append(f"model {state.get('model')!r}, not {spec.name!r}")
    if spec is not None:
        now = plugin_of(spec)
        for key in ("plugin", "version"):
            if state.get(key) is not None and state.get(key) != now.get(key):
                differs.append(f"{key} {state.get(key)!r}, installed now {now.get(key)!r}")
    what = "; ".join(differs) or "a model whose layers or settings differ from this one's"
    return CheckpointError(
        f"The checkpoints in {Path(run_folder) / FOLDER} are whole (their files check) but "
        f"were written by another model than this one: {what}. They are not damaged; "
        f"nothing was changed. Resume with the model and config the run was trained with "
        f"(`genwidgets train --resume`, Run.from_folder, which read its config.json). "
        f"Received: {path.name}: {whole[path][:300]}")


def set_aside_damaged(checkpoint: Checkpoint) -> None:
    """Rename the damaged checkpoints newer than ``checkpoint`` to ``damaged-step-*``."""
    for bad in checkpoint.damaged:
        aside = bad.with_name(f"damaged-{bad.name}")
        shutil.rmtree(aside, ignore_errors=True)
        os.replace(bad, aside)
    checkpoint.damaged = []


def plugin_of(spec) -> dict[str, Any]:
    """The plugin that registered ``spec``: its name, distribution and version."""
    from genwidgets.registry import get_registry

    registry = get_registry()
    for record in registry.plugins:
        if spec.name in record.models:
            return {"plugin": record.name, "distribution": record.distribution,
                    "version": record.version}
    return {"plugin": type(spec).__module__.split(".")[0], "distribution": None,
            "version": None}


# -- a Run's side: what goes into a checkpoint, and how a run picks one up --------------
def identity_of(spec, seed: int, batch_size: int, steps_per_epoch: int) -> dict[str, Any]:
    """What every checkpoint of a run records besides its position."""
    from genwidgets import __version__

    return {"seed": seed, "batch_size": batch_size, "steps_per_epoch": steps_per_epoch,
            "model": spec.name, **plugin_of(spec), "genwidgets_version": __version__}


def state_of(record, identity: dict[str, Any], reason: str) -> dict[str, Any]:
    """Where a run stands (its :class:`~genwidgets.training.record.Record` and
    :func:`identity_of`): enough to go on at the very next batch after a restart."""
    epoch, batch = divmod(record.steps, record.steps_per_epoch)
    return {
        "step": record.steps, "epoch": epoch, "batch": batch, "reason": reason,
        "seed": identity["seed"], "goal_epochs": record.goal_epochs,
        "batch_size": identity["batch_size"], "steps_per_epoch": identity["steps_per_epoch"],
        "history": {"batches": len(record.history), "epochs": len(record.epoch_history)},
        **{k: v for k, v in identity.items()
           if k not in ("seed", "batch_size", "steps_per_epoch")},
    }


def no_checkpoint_error(out, cli: bool = False):
    """The error for a resume of a folder that holds no checkpoint (nothing is changed)."""
    from genwidgets.training.ownership import survey

    if not Path(out).exists():
        held = "it does not exist"
    else:
        found = survey(out)
        held = (f"it holds a genwidgets run: {found.run}" if found.run else
                "it is empty" if found.empty else f"it holds {found.foreign_text()}")
    replace = f"--out {out} --overwrite" if cli else "overwrite=True"
    return RunFolderError(
        f"{out} has no checkpoint to resume from ({held}). Expected a folder that a run "
        f"wrote checkpoints to ({FOLDER}/{PREFIX}*). Nothing was changed. Start a new run in "
        f"another folder, or replace this one with {replace}.")


def find_checkpoint(out, spec, placement, batch_size: int, steps_per_epoch: int) -> Checkpoint:
    """The checkpoint a new run of ``spec`` in ``out`` resumes from, checked against the
    run's setup (its model, batch size and steps an epoch); loaded in ``placement``.

    Reads only: damaged newer checkpoints are named, and set aside once the resume passes.
    """
    setup = (spec, batch_size, steps_per_epoch)
    first = load_latest(out, spec, load=False, set_aside=False)  # states only
    if first is None:
        raise no_checkpoint_error(out)
    _check_setup(first, *setup)  # another model or batch size: said before loading a model
    with placement.scope():
        checkpoint = load_latest(out, spec, set_aside=False)
    _check_setup(checkpoint, *setup)
    return checkpoint


def _check_setup(checkpoint: Checkpoint, spec, batch_size: int, steps_per_epoch: int) -> None:
    state = checkpoint.state
    if state.get("model") != spec.name:
        raise ValueError(f"The checkpoint {checkpoint.path} is of model {state.get('model')!r}. "
                         f"Received: model {spec.name!r}. Resume with the same model.")
    if (state.get("batch_size"), state.get("steps_per_epoch")) != (batch_size, steps_per_epoch):
        raise ValueError(
            f"The checkpoint {checkpoint.path} was trained with batch_size="
            f"{state.get('batch_size')} and {state.get('steps_per_epoch')} steps an epoch. "
            f"Received: batch_size={batch_size}, {steps_per_epoch} steps an epoch. "
            f"Resume with the same data and batch size.")


def initial_seed(seed: int | None, checkpoint: Checkpoint | None,
                 process_count: int = 1) -> int:
    """The seed of the batch order: the checkpoint's, the one given, or one drawn from
    NumPy's global generator (so ``keras.utils.set_random_seed`` fixes it, as it fixes
    Keras' own shuffling); 0 across several hosts, which must feed the same batches."""
    if checkpoint is not None:
        return int(checkpoint.state["seed"])
    if seed is None and process_count > 1:
        return 0
    if seed is None:
        import numpy as np

        return int(np.random.randint(2**31))
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"Expected seed to be an integer >= 0. Received: seed={seed!r}")
    return seed


def _history_error(path, checkpoint: Checkpoint, detail: str):
    return RunFolderError(
        f"{path} does not continue to the checkpoint {checkpoint.path.name} (step "
        f"{checkpoint.step}): {detail}. Expected every step (and every epoch) once, in order, "
        f"from 1. Nothing was changed. Restore the file from a backup, or start afresh in "
        f"another folder.")


def rows_to_resume(checkpoint: Checkpoint, folder: Path,
                   steps_per_epoch: int) -> tuple[list[dict], list[dict]]:
    """The batch and epoch rows up to ``checkpoint``, read and checked in memory (no gap,
    no duplicate, nothing missing); the rows after it are the ones a resume drops."""
    def read(path):
        try:
            return read_jsonl(path)
        except DamagedFileError as exc:
            raise DamagedFileError(f"{exc} Nothing was changed.") from None

    position, spe = checkpoint.state["history"], steps_per_epoch
    n, m = int(position["batches"]), int(position["epochs"])
    path = folder / "batches.jsonl"
    batches = read(path)
    for i, row in enumerate(batches[:n], 1):
        if row.get("step") != i or row.get("epoch") != (i - 1) // spe + 1:
            raise _history_error(path, checkpoint, f"row {i} is step {row.get('step')!r} of "
                                 f"epoch {row.get('epoch')!r}, expected step {i} of epoch "
                                 f"{(i - 1) // spe + 1} (a gap or a duplicate)")
    if len(batches) < n:
        raise _history_error(path, checkpoint, f"it holds {len(batches)} batch rows, the "
                             f"checkpoint records {n}")
    if n != checkpoint.step:
        raise _history_error(path, checkpoint, f"the checkpoint records {n} batch rows for "
                             f"{checkpoint.step} steps")
    path = folder / "history.jsonl"
    epochs = read(path)
    for e, row in enumerate(epochs[:m], 1):
        if row.get("epoch") != e or row.get("step", e * spe) != e * spe:
            raise _history_error(path, checkpoint, f"row {e} is epoch {row.get('epoch')!r} at "
                                 f"step {row.get('step')!r}, expected epoch {e} at step "
                                 f"{e * spe} (a gap or a duplicate)")
    if len(epochs) < m:
        raise _history_error(path, checkpoint, f"it holds {len(epochs)} epoch rows, the "
                             f"checkpoint records {m}")
    if m > checkpoint.step // spe:
        raise _history_error(path, checkpoint, f"the checkpoint records {m} epochs for "
                             f"{checkpoint.step} steps of {spe} an epoch")
    return batches[:n], epochs[:m]


def restore(folder, checkpoint: Checkpoint, batches: list[dict], epochs: list[dict]) -> None:
    """Bring the run folder's rows to the checkpoint's (rows after it are dropped) and set
    the damaged newer checkpoints aside; the checkpoint's notes become warnings.

    The rows were checked by :func:`rows_to_resume`; this writes (under the folder's lock).
    """
    import warnings

    set_aside_damaged(checkpoint)
    for name, rows in (("batches.jsonl", batches), ("history.jsonl", epochs)):
        folder.write_rows(name, rows)  # also drops a torn last line
    for note in checkpoint.notes:
        warnings.warn(note, RuntimeWarning, stacklevel=3)

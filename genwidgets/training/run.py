"""A training run: one model, its data and a worker thread calling ``model.fit(verbose=0)``.

Buttons (or code) call :meth:`Run.start`, :meth:`pause`, :meth:`resume`, :meth:`stop`,
:meth:`step` and :meth:`set`; they set ``threading.Event``s that the run's callback checks
before every batch, so they work while the notebook cell is idle. The worker never touches
a widget: it puts events on the queues of its subscribers (at most ~10 a second).
"""

from __future__ import annotations

import collections
import concurrent.futures
import dataclasses
import queue
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from genwidgets.spec import Dataset, ModelSpec
from genwidgets.training.checks import check_same_data, data_fingerprint, integer, seconds

FLUSH_S = 0.1  # at most ~10 progress events a second
_TRAINING: set[int] = set()  # ids of models a run is fitting right now


class RunError(RuntimeError):
    """A run cannot do what was asked (say, a second start while it trains)."""


class ModelBuildError(RunError):
    """A plugin's ``build()`` raised; the message names the model, the plugin and the error."""


def epoch_order(seed: int, epoch: int, n: int):
    """The order of the ``n`` items in ``epoch``: a permutation fixed by the run's seed."""
    import numpy as np

    return np.random.default_rng([int(seed), int(epoch)]).permutation(n)


def full_batches(x, batch_size: int):
    """Drop the last partial batch so every step has the same shape (one compile)."""
    n = len(x)
    if n < 1:
        raise ValueError("Expected at least one item to train on. Received: empty data")
    batch_size = min(int(batch_size), n)
    return x[: n - n % batch_size], batch_size


def _replaced(config, values: dict) -> Any:
    """``config`` with those of ``values`` that are its fields."""
    names = {f.name for f in dataclasses.fields(config)}
    return dataclasses.replace(config, **{k: v for k, v in values.items() if k in names})


class Run:
    def __init__(self, spec: ModelSpec | str, dataset: Dataset | str, config: Any = None, *,
                 epochs: int = 10, batch_size: int = 64, out: str | Path | None = None,
                 model: Any = None, callbacks=(), data_options: dict | None = None,
                 distribution: str = "auto", precision: str = "float32",
                 seed: int | None = None, resume: bool = False, overwrite: bool = False,
                 checkpoint_every_s: float = 30.0, checkpoint_mid_epoch_s: float = 600.0):
        """``out=`` a folder for the run's files and checkpoints: a new or empty one, unless
        ``resume=True`` picks up that folder's latest checkpoint (weights, optimizer, step,
        history; refused when it has none, or when its history or data do not match), or
        ``overwrite=True`` replaces the run there (removing only genwidgets' own files).
        A refused folder is left exactly as it was.

        Checkpoints are written at an epoch's end when ``checkpoint_every_s`` have passed
        since the last, within an epoch every ``checkpoint_mid_epoch_s``, and at stop and end.
        ``seed`` fixes the order of the items in every epoch (random when omitted).
        """
        from genwidgets.plugins import get_registry

        registry = get_registry()
        self.spec = registry.model(spec) if isinstance(spec, str) else spec
        epochs, batch_size = integer("epochs", epochs, 1), integer("batch_size", batch_size, 1)
        if seed is not None:
            seed = integer("seed", seed, 0, 2**32 - 1)
        checkpoint_every_s = seconds("checkpoint_every_s", checkpoint_every_s)
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
        self.dataset = dataset
        asked = config  # a resume compares what was asked with the run's own settings
        if resume:
            from genwidgets.training.resume import resumed_config

            config, changes = resumed_config(self.spec, folder.path, asked,
                                             dataset.info.modality)
        elif config is None or isinstance(config, dict):
            config, changes = self.spec.config_for(dataset.info.modality, **(config or {})), {}
        else:  # a Config of this spec, checked again; a string is the config's fault
            from genwidgets.config import check_config

            config, changes = check_config(self.spec, config), {}
        self.config = config
        if dataset.info.modality not in self.spec.modalities:
            raise ValueError(
                f"Model {self.spec.name!r} takes {list(self.spec.modalities)} data. "
                f"Received: {dataset.info.modality} data {dataset.info.name!r}")
        self.epochs = int(epochs)
        self.x, self.batch_size = full_batches(dataset.x, batch_size)
        self.steps_per_epoch = len(self.x) // self.batch_size
        from genwidgets._backend import import_keras

        import_keras()  # a clear error when Keras already runs on another backend
        from genwidgets.training.distribution import Placement

        self.placement = Placement(distribution, precision)  # the devices and the dtypes
        self.placement.check_batch(self.batch_size)
        self.devices: list[str] = self.placement.devices
        from genwidgets.training.checkpoint import find_checkpoint, initial_seed, rows_to_resume

        fingerprint = data_fingerprint(dataset) if out is not None else None
        checkpoint = rows = None
        if resume:
            checkpoint = find_checkpoint(self, folder.path)
            check_same_data(folder.path, dataset, fingerprint)
            rows = rows_to_resume(self, checkpoint, folder.path)
        self.seed = initial_seed(seed, checkpoint, self.placement.process_count)
        with self.placement.scope():  # thread-local: entered again on the worker to fit
            if checkpoint is not None:
                self.model = checkpoint.model
            elif model is not None:
                self.model = self.placement.adopt(model)
            else:
                self.model = self._build(config, dataset.info)
        if changes:  # mutable settings given anew to a resume: checked before any write
            from genwidgets.training.resume import checked_changes

            changes = checked_changes(self.spec, config, changes, when="on a resume",
                                      zero_rate=not hasattr(self.model, "set_hyper"))
            self.config = config = _replaced(config, changes)
        self.extra_callbacks = list(callbacks)
        self.checkpoint_every_s = float(checkpoint_every_s)
        self.checkpoint_mid_epoch_s = float(checkpoint_mid_epoch_s)
        self.last_checkpoint: dict | None = None  # step, path, seconds of the newest one
        self._last_checkpoint_t = self._started_t = float("-inf")
        self._resume_goal: int | None = None
        self.notes: list[str] = []  # what a resume had to say (a damaged checkpoint skipped)
        self.history: list[dict] = []  # every batch: step, epoch, t and each loss part
        self.epoch_history: list[dict] = []
        self._epochs_done = 0
        self.folder = folder
        # a resumed run that already has its epochs: nothing is written unless it trains on
        self.already_finished = (checkpoint is not None
                                 and checkpoint.step >= self.epochs * self.steps_per_epoch)
        self._deferred_write = None

        def write_folder(goal: int) -> None:  # every check passed: write, holding the lock
            from genwidgets.training.folder import RunFolderError
            from genwidgets.training.ownership import check_new, remove_own_files, signature

            folder.create()
            folder.lock.acquire("write to it")
            try:
                if signature(folder.path) != before:
                    raise RunFolderError(
                        f"{folder.path} changed while this run read it (another run or "
                        f"process wrote there). Nothing was changed by this run. Try again "
                        f"once that one has ended.")
                if checkpoint is not None:
                    from genwidgets.training.checkpoint import restore

                    restore(self, checkpoint, *rows)
                elif not check_new(folder.path, overwrite).empty:
                    remove_own_files(folder.path)  # overwrite=True: only genwidgets' files
                folder.write_config(self.spec, self.config, dataset, epochs=goal,
                                    batch_size=self.batch_size,
                                    data_options=data_options or {}, seed=self.seed,
                                    distribution=distribution, precision=precision,
                                    data_fingerprint=fingerprint)
                folder.mark_written()
            finally:
                folder.lock.release()

        if self.already_finished:  # in memory only: the folder stays byte-identical
            from genwidgets.training.checkpoint import restore_in_memory

            restore_in_memory(self, checkpoint, *rows)
            self._deferred_write = write_folder
        elif folder is not None:
            write_folder(self.epochs)
        self.state = "idle"
        self.message = (f"resumed at step {self.steps}" if checkpoint is not None else "ready")
        if self.already_finished:
            self.state = "finished"
            self.message = (
                f"already finished: {self.steps} steps ({self._epochs_done} epochs) of the "
                f"{self.epochs} epochs asked; nothing was changed. To train on, ask for more "
                f"epochs in all (epochs={self._epochs_done + 1} or more)")
        if self.notes:
            self.message += f" ({'; '.join(self.notes)})"
        self.error: BaseException | None = None
        self.traceback = ""
        self._epoch = 0
        self._goal_epochs = max(self.epochs, self._resume_goal or 0, self._epochs_done)
        self._dispatched = 0
        self._steps_left: int | None = None
        self._pause, self._stop = threading.Event(), threading.Event()
        self._wake = threading.Condition()
        self._requests: collections.deque = collections.deque()
        self._serving = False  # the worker answers call()'s requests (under self._lock)
        self._changes: dict[str, Any] = {}
        self._pending: list[dict] = []
        self._last_flush = 0.0
        self._nan: str | None = None
        self._thread: threading.Thread | None = None
        self._subscribers: list[queue.Queue] = []
        self._lock = threading.RLock()  # re-entered when a request made at the end calls set()
        self._flush_lock = threading.Lock()
        if changes:  # a resume given a new learning rate (or another mutable setting)
            self._changes.update(changes)
            self._apply_changes(self.model)
            if not self.already_finished:
                self.message += f" ({', '.join(f'{k}={v!r}' for k, v in changes.items())})"

    @classmethod
    def from_folder(cls, folder: str | Path, *, spec: ModelSpec | None = None,
               dataset: Dataset | None = None, **kwargs: Any) -> Run:
        """A run picking up ``folder``'s latest checkpoint (after a stop, a crash or a
        kernel restart): the model, its settings and data are those of ``config.json``."""
        from genwidgets.config import data_options
        from genwidgets.plugins import get_registry
        from genwidgets.training.resume import read_run_config

        path = Path(folder) / "config.json"
        if not path.exists():
            raise FileNotFoundError(
                f"Expected a run folder with a readable config.json. Received: {str(folder)!r} "
                f"(FileNotFoundError: {path} does not exist)")
        doc = read_run_config(folder)  # says which key is missing or of the wrong type
        registry = get_registry()
        options = dict(doc.get("data_options") or {})
        if dataset is None:
            data_spec = registry.dataset(doc["data"])
            options = data_options(data_spec, options)  # typed: limit=200, not "200"
            dataset = data_spec.load(**options)
        kwargs = {"epochs": doc.get("epochs", 10), "batch_size": doc.get("batch_size", 64),
                  "distribution": doc.get("distribution", "auto"),
                  "precision": doc.get("precision", "float32"), "seed": doc.get("seed"),
                  "data_options": options, **kwargs}
        config = kwargs.pop("config", None)  # None: the run's own settings
        return cls(spec or registry.model(doc["model"]), dataset, config, out=folder,
                   resume=True, **kwargs)

    # -- controls (any thread) ---------------------------------------------
    def start(self, epochs: int | None = None) -> Run:
        """Train in the background for ``epochs`` more epochs (default: the run's)."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                raise RunError(
                    f"This run is already training ({self.message}). Pause, resume or stop "
                    f"it; a second start would train the same model twice at once.")
            if id(self.model) in _TRAINING:
                raise RunError("Another run is training this model right now; stop it first.")
            if epochs is not None:
                epochs = integer("epochs", epochs, 1)
            if self._deferred_write is not None:  # a resumed run that had its epochs
                if epochs is None:
                    raise RunError(f"This run is {self.message}. start(epochs=N) trains N "
                                   f"more.")
                self._deferred_write(self._epochs_done + epochs)
                self._deferred_write = None
            if self.folder is not None:  # held until the worker ends
                self.folder.lock.acquire("train")
                try:
                    self.folder.check_unchanged()
                except BaseException:
                    self.folder.lock.release()
                    raise
            _TRAINING.add(id(self.model))
            self._stop.clear()
            self._pause.clear()
            self._nan = None
            self.error, self.traceback = None, ""
            self._started_t = time.monotonic()
            self._dispatched = len(self.history)  # a step that failed is not counted
            done = self.steps // self.steps_per_epoch  # whole epochs; a partial one goes on
            if epochs is None and self._resume_goal is not None and self._resume_goal > done:
                self._goal_epochs = self._resume_goal  # a resumed run trains up to its goal
            else:
                self._goal_epochs = done + (epochs or self.epochs)
            self._resume_goal = None
            self._thread = threading.Thread(target=self._work, args=(self._goal_epochs,),
                                            name="genwidgets-run", daemon=True)
            self._serving = True
            self._set_state("compiling", "compiling...")
            try:
                self._thread.start()
            except BaseException:
                _TRAINING.discard(id(self.model))
                if self.folder is not None:
                    self.folder.lock.release()
                raise
        return self

    def pause(self) -> None:
        self._pause.set()

    def resume(self) -> None:
        self._steps_left = None
        self._pause.clear()
        self._notify()

    def stop(self) -> None:
        self._stop.set()
        self._notify()

    def step(self, n: int = 1) -> None:
        """Train exactly ``n`` batches, then pause (starts the run if it is idle)."""
        self._steps_left = integer("n", n, 1)
        if self.alive:
            self._pause.clear()
            self._notify()
        else:
            self.start()

    def set(self, **values: Any) -> None:
        """Change settings mid-run (``learning_rate`` and the spec's ``mutable`` fields).

        The values are checked at once with the plugin's Config (its types and its
        ``validate()``), so a value the model would refuse raises here instead of killing
        the run; ``learning_rate=0`` (freeze the weights) is allowed where the model takes
        its learning rate straight into the optimizer (no ``set_hyper``)."""
        from genwidgets.training.resume import checked_changes

        parsed = checked_changes(self.spec, self.config, values,
                                 zero_rate=not hasattr(self.model, "set_hyper"))
        self.config = _replaced(self.config, parsed)
        self._changes.update(parsed)
        with self._lock:  # the worker applies them before its next batch, or at its end
            queued = self._serving
        if not queued:
            self._apply_changes(self.model)

    def call(self, fn: Callable[[Any], Any], timeout: float = 60.0) -> Any:
        """Run ``fn(model)`` on a synced model between two batches, and return its result."""
        if threading.current_thread() is self._thread:
            return fn(self.model)
        with self._lock:  # queued only while the worker will still answer it
            queued = self._serving
            if queued:
                future: concurrent.futures.Future = concurrent.futures.Future()
                self._requests.append((fn, future))
        if not queued:
            return fn(self.model)
        self._notify()
        return future.result(timeout)

    def preview(self, n: int = 16, seed: int = 0):
        """Samples of the model as it is now: images (n, H, W, C), or a list of strings."""
        if "sample" not in self.spec.capabilities:
            return None
        out = self.call(lambda model: model.sample(n, seed=seed))
        if self.dataset.info.modality == "text" and self.dataset.tokenizer is not None:
            return self.dataset.tokenizer.decode(out)
        return out

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the worker to end; True if it did."""
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.alive

    def subscribe(self) -> queue.Queue:
        q: queue.Queue = queue.Queue()
        self._subscribers.append(q)
        q.put(self.snapshot())
        return q

    def unsubscribe(self, q: queue.Queue) -> None:
        if q in self._subscribers:
            self._subscribers.remove(q)

    # -- what a view shows ----------------------------------------------------
    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def steps(self) -> int:
        return len(self.history)

    @property
    def total_steps(self) -> int:
        """Steps up to the goal of the latest start (a stopped run shows how far it got)."""
        return max(self._goal_epochs * self.steps_per_epoch, self.steps)

    def rate(self, window_s: float = 3.0) -> float:
        rows = self.history[-200:]
        recent = [r for r in rows if r["t"] >= rows[-1]["t"] - window_s] if rows else []
        if len(recent) < 2 or recent[-1]["t"] <= recent[0]["t"]:
            return 0.0
        return (len(recent) - 1) / (recent[-1]["t"] - recent[0]["t"])

    def snapshot(self) -> dict[str, Any]:
        rate = self.rate()
        left = max(self.total_steps - self.steps, 0)
        last = self.history[-1] if self.history else {}
        return {
            "type": "progress", "state": self.state, "message": self.message,
            "step": self.steps, "epoch": last.get("epoch", self._epochs_done),
            "epochs": max(self._goal_epochs, self._epochs_done),
            "total_steps": self.total_steps, "rate": rate,
            "eta_s": left / rate if rate > 0 and self.state == "running" else None,
            "logs": {k: v for k, v in last.items() if k not in ("step", "epoch", "t")},
            "error": self.traceback or None,
        }

    # -- the worker -------------------------------------------------------------
    def _work(self, goal: int) -> None:
        from genwidgets.training.control import Controller, StopRun

        outcome = "finished"
        controller = Controller(self)
        try:
            with self.placement.scope():
                self._fit(controller, goal)
        except StopRun:
            outcome = "stopped"
        except BaseException as exc:  # shown in the panel and kept; never dies silently
            self.error, self.traceback = exc, traceback.format_exc()
            outcome = "failed"
        try:
            controller.drain()  # the steps that ran before a failure are kept too
        except BaseException:
            pass
        self._flush(force=True)
        if outcome == "finished" and self._nan:
            outcome = "stopped"
        try:
            if outcome != "failed" and not self._nan:
                if hasattr(self.model, "fit_prior"):
                    self.model.fit_prior(self.dataset.x)
                if self.folder is not None:
                    path = self.checkpoint(outcome)
                    self.folder.copy_model(path / "model.keras")
        except BaseException as exc:
            self.error, self.traceback = exc, traceback.format_exc()
            outcome = "failed"
        if self.folder is not None:
            try:
                self.folder.mark_written()
            finally:
                self.folder.lock.release()
        _TRAINING.discard(id(self.model))
        if outcome == "failed":
            msg = f"failed: {type(self.error).__name__}: {self.error}"
        elif self._nan:
            msg = self._nan
        elif outcome == "stopped":
            msg = f"stopped at step {self.steps}"
        else:
            msg = f"finished: {self._epochs_done} epochs, {self.steps} steps"
        self._pause.clear()
        with self._lock:  # from here call() runs on the caller's thread; answer the rest
            self._serving = False
            try:
                self._serve(self.model)
            except BaseException as exc:  # a setting the model refuses: shown, not a hang
                self.error, self.traceback = exc, traceback.format_exc()
        self._set_state(outcome, msg)

    def _fit(self, controller, goal: int) -> None:
        """Fit from the current step to the end of epoch ``goal``, in the run's batch order.

        A run stopped within an epoch goes on with that epoch's remaining batches (one
        short fit) before the whole epochs, so no batch is trained twice or skipped.
        """
        from genwidgets.training.control import RunCallbacks

        spe = self.steps_per_epoch
        epoch, offset = divmod(self.steps, spe)
        while epoch < goal and not self._stop.is_set():
            last = epoch + 1 if offset else goal
            controller.offset = offset
            callbacks = RunCallbacks(controller, self.extra_callbacks, model=self.model,
                                     epochs=last, steps=spe - offset)
            self.model.fit(self._batches(epoch, offset), steps_per_epoch=spe - offset,
                           initial_epoch=epoch, epochs=last, shuffle=False, verbose=0,
                           callbacks=callbacks)
            if getattr(self.model, "stop_training", False):
                return
            epoch, offset = last, 0
        if epoch < goal:  # stopped between two fits (say, a NaN at an epoch's last batch)
            from genwidgets.training.control import StopRun

            raise StopRun()

    def _batches(self, epoch: int, offset: int):
        """Endless ``(x_batch,)`` from batch ``offset`` of ``epoch`` on (this process's share)."""
        x, size = self.x, self.batch_size
        count, index = self.placement.process_count, self.placement.process_index
        share = size // count
        while True:
            order = epoch_order(self.seed, epoch, len(x))
            for b in range(offset, self.steps_per_epoch):
                idx = order[b * size:(b + 1) * size]
                if count > 1:
                    idx = idx[index * share:(index + 1) * share]
                yield (x[idx],)
            epoch, offset = epoch + 1, 0

    def checkpoint(self, reason: str = "manual"):
        """Write a checkpoint of the model as it is now (worker thread, or an idle run)."""
        from genwidgets.training.checkpoint import state_of, write_checkpoint

        if self.folder is None:
            raise RunError("This run has no folder to write checkpoints to. Pass out=...")
        t0 = time.monotonic()
        lock = self.folder.lock
        first = not lock.held  # an idle run's own checkpoint (the worker holds the lock)
        lock.acquire("write a checkpoint")
        try:
            if first:
                self.folder.check_unchanged()
            self._flush(force=True)  # every batch row up to this step is on disk first
            path = write_checkpoint(self.folder.path, self.model, state_of(self, reason))
            if first:
                self.folder.mark_written()
        finally:
            lock.release()
        self._last_checkpoint_t = time.monotonic()
        self.last_checkpoint = {"step": self.steps, "path": str(path), "reason": reason,
                                "seconds": self._last_checkpoint_t - t0}
        self._emit({"type": "checkpoint", **self.last_checkpoint})
        return path

    def _checkpoint_due(self, mid_epoch: bool) -> bool:
        if self.folder is None or self._nan:
            return False
        if mid_epoch:  # within an epoch: counted from the last checkpoint or the start
            since = max(self._last_checkpoint_t, self._started_t)
            return time.monotonic() - since >= self.checkpoint_mid_epoch_s
        return time.monotonic() - self._last_checkpoint_t >= self.checkpoint_every_s

    def _build(self, config, info):
        try:
            return self.spec.build(config, info)
        except Exception as exc:
            from genwidgets.training.checkpoint import plugin_of

            plugin = plugin_of(self.spec)["plugin"]
            if isinstance(exc, ValueError):  # Keras' and the plugins' word for "not these"
                raise ModelBuildError(
                    f"Model {self.spec.name!r} cannot be built with these settings on this "
                    f"data: {exc} Change the setting it names (--set / the settings form), "
                    f"or the data. (Only if the settings are right is plugin {plugin!r} at "
                    f"fault: `genwidgets plugins --check`.)") from exc
            raise ModelBuildError(
                f"Model {self.spec.name!r} (plugin {plugin!r}) failed to build: "
                f"{type(exc).__name__}: {exc}. Expected build(config, data_info) to return "
                f"a compiled keras.Model. `genwidgets plugins --check` checks every model."
            ) from exc

    def _serve(self, model) -> None:
        """Apply queued settings and answer requests on a synced model (fit's loop)."""
        if not (self._changes or self._requests):
            return
        if hasattr(model, "jax_state_sync"):  # JAX: bring the step's state into the model
            model.jax_state_sync()
        self._apply_changes(model)
        while self._requests:
            # a setting queued before this request (set() then call()) applies first
            self._apply_changes(model)
            fn, future = self._requests.popleft()
            try:
                future.set_result(fn(model))
            except BaseException as exc:
                future.set_exception(exc)

    def _apply_changes(self, model) -> None:
        while self._changes:
            name, value = self._changes.popitem()
            if hasattr(model, "set_hyper"):
                model.set_hyper(name, value)
            elif name == "learning_rate":
                model.optimizer.learning_rate.assign(value)
            else:
                raise RunError(f"{self.spec.name}: the model offers no set_hyper for {name!r}")
            self._emit({"type": "changed", name: value})

    def _wait_while_paused(self, model) -> None:
        self._flush(force=True)
        self._set_state("paused", f"paused at step {self._dispatched}")
        with self._wake:
            while self._pause.is_set() and not self._stop.is_set():
                self._wake.wait(0.5)
                self._serve(model)
        self._serve(model)
        if not self._stop.is_set():
            self._set_state("running", "running")

    def _notify(self) -> None:
        with self._wake:
            self._wake.notify_all()

    def _record_batches(self, rows: list[dict]) -> None:
        self.history.extend(rows)
        self._pending.extend(rows)
        if self.state == "compiling":
            self._set_state("running", "running")
        self._flush()

    def _record_epoch(self, row: dict) -> None:
        self._epochs_done = row["epoch"]
        self.epoch_history.append(row)
        if self.folder is not None:
            self.folder.append_epoch(row)
        self._emit({"type": "epoch", **row})

    def _nan_stop(self, key: str, value: float, step: int) -> None:
        if self._nan is None:
            self._nan = f"stopped: {value} in {key} at step {step}"
        self._stop.set()

    def _flush(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_flush < FLUSH_S:
            return
        with self._flush_lock:
            self._last_flush = now
            rows, self._pending = self._pending, []
            if self.folder is not None:
                self.folder.append_batches(rows)
        if self.state == "running" and self.history:
            self.message = f"{self.rate():.1f} steps/s"
        self._emit(self.snapshot())

    def _set_state(self, state: str, message: str) -> None:
        self.state, self.message = state, message
        self._emit(self.snapshot())

    def _emit(self, event: dict) -> None:
        for q in list(self._subscribers):
            q.put(event)

"""``LiveLoss``: genwidgets' loss plot, live under the cell, for anyone's ``model.fit``.

    import genwidgets
    from genwidgets.callbacks import LiveLoss

    model.fit(x, y, epochs=10, validation_split=0.1, verbose=0, callbacks=[LiveLoss()])

Any Keras 3 model, no plugin. The view is a progress line (state, epoch, step, rate, ETA)
above a :class:`~genwidgets.widgets.loss_plot.LossPlot` with every number Keras logs
(smoothing, log scale, epoch lines, ``val_*`` as markers). ``LiveLoss(out="runs/x")`` also
writes a run folder (``config.json``, ``batches.jsonl``, ``history.jsonl``, ``model.keras``)
that :class:`~genwidgets.widgets.runs_table.RunsTable` lists beside plugin runs.

What a batch costs: Keras may call ``on_train_batch_end`` on its own threads (the callback
is ``async_safe``), where its logs are already Python floats; the callback only stores
them. Rows are made, in step order, on fit's thread at ``on_train_batch_begin`` at most
every :data:`STATUS_EVERY_S`, and at each epoch's end. The status line is redrawn at most
every :data:`STATUS_EVERY_S` and the plot every ``every_s``, and within a message budget:
a fit's redraws, its first status line and its last redraws (status and plot) included,
stay under :data:`UI_MESSAGES_PER_S` (a status line is one comm message, a plot redraw
:data:`PLOT_MESSAGES`), so a mid-fit redraw that would overdraw the budget waits. A fit of
under about a second still sends its first and last redraws. ``self.model`` is read
only at the start and the end of a fit: on JAX each read syncs every variable.

Keras logs running means over the epoch; for the numbers kept by a ``keras.metrics.Mean``
(the loss, accuracy and other mean metrics) a row holds each batch's own value, recovered
from two successive means as the plugin runs do (exact when the batches are the same
size; an epoch's short last batch is approximate). Other metrics (AUC, say) are shown as
Keras reports them.
"""

from __future__ import annotations

import math
import threading
import time
from pathlib import Path

import ipywidgets as W
import keras

from genwidgets.fit_folder import FitFolder
from genwidgets.widgets.loss_plot import LossPlot
from genwidgets.widgets.train_panel import status_html, step_rate

STATUS_EVERY_S = 0.4  # the status line and the folder's batch rows at most this often
UI_MESSAGES_PER_S = 8.0  # a fit's redraws stay under this rate (the goal: 10 a second)
PLOT_MESSAGES = 4  # comm messages a plot redraw sends (measured: restyle, relayout, ids)
END_MESSAGES = 1 + PLOT_MESSAGES  # the fit's last status line and plot, kept in reserve


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _mean_names(model) -> set[str]:
    """The log names of the model's ``keras.metrics.Mean`` trackers (loss, accuracy...)."""
    names, todo = set(), list(getattr(model, "metrics", None) or [])
    while todo:
        metric = todo.pop()
        if isinstance(metric, keras.metrics.Mean):
            names.add(metric.name)
        inner = getattr(metric, "metrics", None)  # compile_metrics holds the compiled ones
        if isinstance(inner, (list, tuple)):
            todo.extend(inner)
    return names


def _kernel():
    """The IPython shell when this runs in a Jupyter kernel, else None."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    return shell if shell is not None and getattr(shell, "kernel", None) is not None else None


class LiveLoss(keras.callbacks.Callback):
    """Show the losses of ``model.fit`` live under the cell; optionally write a run folder.

    ``out``: a new or empty folder for the run's files (``overwrite=True`` replaces a run
    there, removing only genwidgets' own files). ``data``: what the run table says the
    model was trained on. ``name``: the model's name there (default ``model.name``).
    ``save_model``: write ``model.keras`` at the end of each fit. ``every_s``: seconds
    between plot redraws. ``show``: display the view when fit starts (in a notebook).
    A second ``fit`` with the same callback goes on with the same plot and folder.
    """

    async_safe = True  # batch ends only store their logs: Keras may call them on its threads

    def __init__(self, out: str | Path | None = None, *, overwrite: bool = False,
                 data: str = "fit data", name: str | None = None, save_model: bool = True,
                 every_s: float = 1.0, max_points: int = 2000, title: str = "loss",
                 show: bool = True):
        super().__init__()
        if not _number(every_s) or not math.isfinite(every_s) or every_s <= 0:
            raise ValueError(f"Expected every_s= a number of seconds > 0. Received: "
                             f"every_s={every_s!r}")
        for label, value in (("data", data), ("title", title)):
            if not isinstance(value, str):
                raise TypeError(f"Expected {label}= a string. Received: {label}={value!r}")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"Expected name= a string or None. Received: name={name!r}")
        self.folder = FitFolder(out, overwrite=overwrite, data=data, name=name,
                                save_model=save_model) if out is not None else None
        self.every_s, self.show = float(every_s), bool(show)
        self.history: list[dict] = []  # every batch: step, epoch, t and each logged number
        self.epoch_history: list[dict] = []  # every epoch: epoch, step and Keras' epoch logs
        self.state, self.message = "idle", "ready"
        self.steps = 0  # batches trained, over every fit
        self._lock = threading.Lock()  # batch ends may come from Keras' threads
        self._ends: dict[int, tuple[float, dict]] = {}
        self._begun: list[int] = []
        self._shown, self._written, self._epochs_shown = 0, 0, 0
        self._displayed = False
        self._hook = None
        self._fit_rows = self._fit_start = 0  # this fit's first row, the steps before it
        self._total = 0
        self._epoch = self._epochs = self._first_epoch = self._epoch_no = 0
        self._steps_per_epoch = self._epoch_steps = None  # learnt / as Keras says
        self._due = self._last_plot = self._last_status = 0.0
        self._shown_state = "idle"
        self._fit_t0, self._sent = 0.0, 0  # this fit's start and the UI messages it sent
        self._reset_epoch()
        self.plot = LossPlot(max_points=max_points, title=title, arrays=True)  # fit's thread
        self.status = W.HTML(self._status_html())
        self.status.add_class("gw-liveloss-status")
        self.view = W.VBox([self.status, self.plot])
        self.view.add_class("gw-liveloss")

    def _ipython_display_(self):
        from IPython.display import display

        display(self.view)
        self._displayed = True

    # -- fit's loop -----------------------------------------------------------------
    def on_train_begin(self, logs=None):
        model = self.model  # one read (a sync on JAX) for the whole fit
        self._means = _mean_names(model)
        self._epochs = int(self.params.get("epochs") or 1)
        self._steps_per_epoch = self._epoch_steps = self.params.get("steps")
        self._first_epoch = None  # Keras' index of this fit's first epoch (initial_epoch)
        self._fit_rows, self._fit_start = len(self.history), self.steps
        self._total = self._epochs * (self._steps_per_epoch or 0)  # until initial_epoch is seen
        if self.folder is not None:
            self.folder.begin(model, self.params)
        self._fit_t0, self._sent = time.monotonic(), 0
        self._set_state("compiling", "compiling")
        self._refresh(force=True)
        shell = _kernel()
        if self.show and shell is not None and not self._displayed:
            self._ipython_display_()
        if shell is not None and threading.current_thread() is threading.main_thread():
            self._hook = shell  # an interrupted or failed fit never calls on_train_end
            shell.events.register("post_run_cell", self._after_cell)

    def on_epoch_begin(self, epoch, logs=None):
        if self._first_epoch is None:
            self._first_epoch = epoch
        self._epoch = epoch
        self._epoch_no = len(self.epoch_history) + 1  # over every fit, as a plugin run counts
        self._reset_epoch()
        spe = self._steps_per_epoch
        self._total = (self._epochs - self._first_epoch) * spe if spe else 0

    def on_train_batch_begin(self, batch, logs=None):
        self._begun.append(batch)
        if time.monotonic() >= self._due:
            self._refresh()

    def on_train_batch_end(self, batch, logs=None):
        with self._lock:
            self._ends[batch] = (time.time(), logs or {})

    def on_epoch_end(self, epoch, logs=None):
        self._collect()  # Keras has waited for every batch end of the epoch by now
        self._steps_per_epoch = self._steps_per_epoch or self._k
        self.steps, self._k = self.steps + self._k, 0
        row = {"epoch": self._epoch_no, "step": self.steps,
               **{k: float(v) for k, v in (logs or {}).items() if _number(v)}}
        self.epoch_history.append(row)
        if self.folder is not None:
            self._write_rows()
            self.folder.append_epoch(row)
        self._refresh()

    def on_train_end(self, logs=None):
        self._collect()
        self._unhook()
        if getattr(self.model, "stop_training", False):
            state, message = "stopped", (f"stopped at step {self._step}: the model was told "
                                         f"to stop (model.stop_training, say EarlyStopping)")
        else:
            state, message = "finished", (f"finished: {len(self.epoch_history)} epochs, "
                                          f"{self.steps} steps")
        if self.folder is not None:
            self._write_rows()
            note = self.folder.end(self.model)
            if note:
                message += f" ({note})"
        self._set_state(state, message)
        self._refresh(force=True)

    # -- rows -----------------------------------------------------------------------
    def _reset_epoch(self) -> None:
        with self._lock:
            self._ends = {}
        self._begun, self._chunk, self._k, self._last_means = [], 0, 0, {}

    @property
    def _step(self) -> int:
        return self.steps + self._k

    def _collect(self) -> None:
        """Turn the batch ends that have come into rows, in order: a batch's end is taken
        only once every earlier batch of the epoch has ended (Keras' threads may finish
        them out of order). With ``steps_per_execution`` one end stands for several
        batches (from its ``on_train_batch_begin`` to the next one's)."""
        rows = []
        with self._lock:
            while self._chunk < len(self._begun) and self._ends:
                end = min(self._ends)
                nxt = self._chunk + 1
                if nxt < len(self._begun) and end >= self._begun[nxt]:
                    break  # this chunk's end is still on a Keras thread
                t, logs = self._ends.pop(end)
                self._chunk += 1
                k = end + 1  # Keras may report a short last chunk as a full one
                rows.append(self._row(min(k, self._epoch_steps or k), t, logs))
        if rows:
            self.history.extend(rows)
            if self.state == "compiling":
                self._set_state("running", "running")

    def _row(self, k: int, t: float, logs: dict) -> dict:
        """The row of the batch ending with the epoch's ``k``-th."""
        before, self._k = self._k, k
        row = {"step": self.steps + k, "epoch": self._epoch_no, "t": t}
        for key, value in logs.items():
            if not _number(value):
                continue
            value = float(value)
            if key in self._means and before and math.isfinite(value):
                previous = self._last_means.get(key, value)
                self._last_means[key] = value
                value = (k * value - before * previous) / (k - before)
            else:
                self._last_means[key] = value
            row[key] = value
        return row

    def _write_rows(self) -> None:
        rows = self.history[self._written:]
        self._written = len(self.history)
        self.folder.append_batches(rows)

    # -- the view -------------------------------------------------------------------
    def _snapshot(self) -> dict:
        step = self._step - self._fit_start
        total = self._total or max(step, 1)
        first = self._first_epoch or 0
        return {"state": self.state, "message": self.message, "step": step,
                "total_steps": total, "epochs": max(self._epochs - first, 0),
                "epoch": self._epoch - first + 1 if self._first_epoch is not None
                else int(self.state != "idle")}

    def _status_html(self) -> str:
        recent = self.history[max(self._fit_rows, len(self.history) - 2000):]  # this fit's
        return status_html(self._snapshot(), step_rate(recent))

    def _set_state(self, state: str, message: str) -> None:
        self.state, self.message = state, message

    def _affords(self, messages: int, now: float) -> bool:
        """Whether a mid-fit redraw of ``messages`` keeps the fit under its message budget,
        the first status line (one message) and the last redraws kept in reserve."""
        allowed = 1 + UI_MESSAGES_PER_S * (now - self._fit_t0)
        return self._sent + messages + END_MESSAGES <= allowed

    def _refresh(self, force: bool = False) -> None:
        """Make rows of what has ended, write them, and redraw what is due and within the
        message budget (fit's thread); ``force``: the first and last redraws of a fit."""
        now = time.monotonic()
        self._due = now + STATUS_EVERY_S
        self._collect()
        if self.folder is not None:
            self._write_rows()
        if (force or now - self._last_status >= STATUS_EVERY_S
                or self.state != self._shown_state) and (force or self._affords(1, now)):
            value = self._status_html()
            if value != self.status.value:
                self.status.value = value
                self._sent += 1
                self._last_status, self._shown_state = now, self.state
        if (force or now - self._last_plot >= self.every_s) \
                and (force or self._affords(PLOT_MESSAGES, now)):
            rows, epochs = self.history[self._shown:], self.epoch_history[self._epochs_shown:]
            if rows or epochs:
                self._shown, self._epochs_shown = len(self.history), len(self.epoch_history)
                self.plot.add_rows(rows, epochs)
                self._sent += PLOT_MESSAGES
                self._last_plot = now

    def _after_cell(self, result=None) -> None:
        """After the cell that ran fit: a fit that never reached on_train_end was
        interrupted or failed; say so, keep its rows, and free the folder."""
        self._unhook()
        if self.state not in ("compiling", "running"):
            return
        self._collect()
        self.steps, self._k = self._step, 0  # the next fit's steps follow these
        error = getattr(result, "error_in_exec", None)
        if error is None or isinstance(error, KeyboardInterrupt):
            state, message = "stopped", f"stopped: interrupted at step {self._step}"
        else:
            state, message = "failed", f"failed: {type(error).__name__}: {error}"
        if self.folder is not None:
            self._write_rows()
            self.folder.end(None)
        self._set_state(state, message)
        self._refresh(force=True)

    def _unhook(self) -> None:
        if self._hook is not None:
            try:
                self._hook.events.unregister("post_run_cell", self._after_cell)
            except ValueError:
                pass
            self._hook = None

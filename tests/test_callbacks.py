"""``LiveLoss`` on plain Keras models: rows, the view, the run folder, a real kernel."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient

import genwidgets  # noqa: F401  (the JAX backend, before Keras)
import keras
from genwidgets.callbacks import (
    END_MESSAGES,
    PLOT_MESSAGES,
    STATUS_EVERY_S,
    UI_MESSAGES_PER_S,
    LiveLoss,
)
from genwidgets.fit_folder import FitFolderInUseError
from genwidgets.training.folder import FolderLockedError, read_jsonl, read_run

N, BATCH = 800, 32  # 25 full batches an epoch


def data(n: int = N, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 12)).astype("float32")
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype("int32")
    return x, y


def classifier(steps_per_execution: int = 1):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((12,)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(2, activation="softmax")], name="classifier")
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"],
                  steps_per_execution=steps_per_execution)
    return model


class ThreadsSeen(LiveLoss):
    """LiveLoss that notes which threads Keras called its batch ends on."""

    def on_train_batch_end(self, batch, logs=None):
        self.threads = getattr(self, "threads", set())
        self.threads.add(threading.current_thread() is threading.main_thread())
        super().on_train_batch_end(batch, logs)


def state_of(live: LiveLoss) -> str:
    return live.status.get_state()["value"].split('data-state="')[1].split('"')[0]


# -- rows ------------------------------------------------------------------------
@pytest.mark.parametrize("dispatch", ["keras threads", "fit's thread"])
@pytest.mark.parametrize("steps_per_execution", [1, 4])
def test_rows_are_each_batch_in_order_and_average_to_keras_epochs(dispatch,
                                                                  steps_per_execution):
    x, y = data()
    live = ThreadsSeen()
    callbacks = [live]
    if dispatch == "fit's thread":  # a user's batch-end callback: Keras calls all in order
        callbacks.append(keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: None))
    model = classifier(steps_per_execution)
    history = model.fit(x, y, batch_size=BATCH, epochs=3, validation_split=0.25, verbose=0,
                        callbacks=callbacks)
    spe = 600 // BATCH + 1  # 18 full batches and a short one (validation takes 200)
    assert live.steps == 3 * spe and state_of(live) == "finished"
    # one row per end Keras reports (every batch, or every 4th with steps_per_execution)
    per_epoch = -(-spe // steps_per_execution)
    assert len(live.history) == 3 * per_epoch
    steps = [r["step"] for r in live.history]
    assert steps == sorted(steps) and steps[-1] == 3 * spe
    if dispatch == "keras threads":
        assert False in live.threads  # Keras did call it off fit's thread: order was kept
    else:
        assert live.threads == {True}
    for epoch, keras_row in enumerate(live.epoch_history, 1):
        assert keras_row == {"epoch": epoch, "step": epoch * spe,
                             **{k: v[epoch - 1] for k, v in history.history.items()}}
        rows = [r for r in live.history if r["epoch"] == epoch]
        counts = np.diff([(epoch - 1) * spe] + [r["step"] for r in rows])
        # each row is its batches' own mean: weighted, they give Keras' epoch mean (the
        # short last batch is counted as a full one, hence the tolerance)
        mean = np.average([r["loss"] for r in rows], weights=counts)
        assert mean == pytest.approx(keras_row["loss"], rel=0.02)
        assert all(0 <= r["accuracy"] <= 1 for r in rows)
    names = sorted(t.name for t in live.plot.figure.data)
    assert names == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert len(live.plot.figure.layout.shapes) == 3  # an epoch line each
    val = next(t for t in live.plot.figure.data if t.name == "val_loss")
    assert val.mode == "markers" and len(val.x) == 3


def test_equal_batches_give_keras_epoch_means_exactly():
    x, y = data()
    live = LiveLoss()
    history = classifier().fit(x, y, batch_size=BATCH, epochs=2, verbose=0, callbacks=[live])
    for epoch in (1, 2):
        rows = [r for r in live.history if r["epoch"] == epoch]
        assert len(rows) == N // BATCH
        for key in ("loss", "accuracy"):
            assert np.mean([r[key] for r in rows]) == pytest.approx(
                history.history[key][epoch - 1], rel=1e-5)


def test_a_second_fit_goes_on_with_the_same_plot_and_steps():
    x, y = data()
    live, model = LiveLoss(), classifier()
    model.fit(x, y, batch_size=BATCH, epochs=2, verbose=0, callbacks=[live])
    model.fit(x, y, batch_size=BATCH, epochs=3, initial_epoch=2, verbose=0, callbacks=[live])
    assert [r["epoch"] for r in live.epoch_history] == [1, 2, 3]
    assert [r["step"] for r in live.epoch_history] == [25, 50, 75]
    assert [r["step"] for r in live.history] == list(range(1, 76))
    assert live.plot.point_counts["loss"] == 75
    status = live.status.get_state()["value"]
    assert "epoch 1/1 · step 25/25" in status and ": 3 epochs, 75 steps" in status


def test_early_stopping_reads_stopped():
    x, y = data()
    live = LiveLoss()
    stop = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: setattr(model, "stop_training", epoch == 1))
    model = classifier()
    model.fit(x, y, batch_size=BATCH, epochs=10, verbose=0, callbacks=[live, stop])
    assert state_of(live) == "stopped" and len(live.epoch_history) == 2
    assert "model.stop_training" in live.status.value


def test_the_view_is_throttled_whatever_the_step_rate():
    x, y = data(4000)
    live = LiveLoss(every_s=0.5)
    statuses, redraws = [], []
    live.status.observe(lambda change: statuses.append(change["new"]), "value")
    add_rows = live.plot.add_rows
    live.plot.add_rows = lambda *a: (redraws.append(1), add_rows(*a))[1]  # the real one runs
    t0 = time.monotonic()
    classifier().fit(x, y, batch_size=4, epochs=3, verbose=0, callbacks=[live])
    elapsed = time.monotonic() - t0
    assert live.steps == 3000
    # the plot: every every_s and once at the start and end; the status every 0.4 s, plus
    # a change of state and an epoch's end each
    assert len(redraws) <= elapsed / 0.5 + 3
    assert len(statuses) <= elapsed / STATUS_EVERY_S + 3 + 3
    assert live.steps > 20 * len(redraws)  # the throttle did something
    assert 1000 <= live.plot.point_counts["loss"] <= 2000  # decimated, as the panel's


@pytest.mark.parametrize("every_s", [1.0, 0.05])
def test_a_fit_of_a_second_or_two_stays_within_its_ui_message_budget(every_s):
    """Its first status, its redraws and its last status and plot, counted as messages
    (a status one, a plot redraw PLOT_MESSAGES), stay under UI_MESSAGES_PER_S a second,
    even when every_s asks for a plot 20 times a second; a fit of under about a second
    still sends its first and last ones."""
    x, y = data(2000)
    model = classifier()
    model.fit(x[:64], y[:64], batch_size=32, epochs=1, verbose=0)  # compiled before timing
    live = LiveLoss(every_s=every_s)
    statuses, redraws = [], []
    live.status.observe(lambda change: statuses.append(change["new"]), "value")
    add_rows = live.plot.add_rows
    live.plot.add_rows = lambda *a: (redraws.append(1), add_rows(*a))[1]  # the real one runs
    t0 = time.monotonic()
    model.fit(x, y, batch_size=8, epochs=4, verbose=0, callbacks=[live])
    elapsed = time.monotonic() - t0
    assert live.steps == 1000 and live.state == "finished"
    assert len(redraws) >= 1 and "finished" in live.status.value  # the last ones were sent
    messages = len(statuses) + PLOT_MESSAGES * len(redraws)
    # a fit that ends within a second still sends its first status and its last status
    # and plot (END_MESSAGES); any redraw between them keeps within the rate
    assert messages <= max(1 + END_MESSAGES, 1 + UI_MESSAGES_PER_S * elapsed), \
        (messages, elapsed)
    assert live.plot.point_counts["loss"] == 1000  # every row reached the plot at the end


# -- the run folder ------------------------------------------------------------------
def test_out_writes_a_run_folder_that_runs_table_overlays_beside_a_plugin_run(tmp_path):
    from genwidgets.training import train
    from genwidgets.widgets.runs_table import RunsTable

    x, y = data()
    train("ae", "digits", {"latent_dim": 2}, epochs=1, batch_size=64, out=tmp_path / "ae")
    live = LiveLoss(out=tmp_path / "clf", data="two blobs")
    classifier().fit(x, y, batch_size=BATCH, epochs=2, validation_split=0.25, verbose=0,
                     callbacks=[live])
    folder = tmp_path / "clf"
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == [
        "batches.jsonl", "config.json", "history.jsonl", "model.keras"]
    assert read_jsonl(folder / "batches.jsonl") == live.history
    assert read_jsonl(folder / "history.jsonl") == live.epoch_history
    record = read_run(folder)
    assert (record.error, record.model, record.data, record.epochs, record.steps,
            record.saved) == (None, "classifier", "two blobs", 2, 38, True)
    assert record.config["optimizer"] == "adam" and record.config["learning_rate"] == 0.001
    assert set(record.final) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    reloaded = keras.saving.load_model(folder / "model.keras")
    np.testing.assert_allclose(reloaded.predict(x[:5], verbose=0),
                               live.model.predict(x[:5], verbose=0), rtol=1e-5)

    table = RunsTable(tmp_path)
    assert sorted(r.name for r in table.records) == ["ae", "clf"]
    text = " ".join(c.value for c in table.table.children if hasattr(c, "value")
                    and isinstance(c.value, str))
    assert "two blobs" in text and "optimizer=adam" in text
    table.select("ae", "clf")
    assert sorted(t.name for t in table.figure.data) == ["ae (ae)", "clf (classifier)"]
    assert all(len(t.x) > 10 for t in table.figure.data)


def test_out_refuses_a_folder_holding_files_and_overwrite_keeps_others(tmp_path):
    x, y = data()
    folder = tmp_path / "run"
    classifier().fit(x, y, batch_size=BATCH, epochs=1, verbose=0,
                     callbacks=[LiveLoss(out=folder)])
    (folder / "notes.txt").write_text("mine")
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    with pytest.raises(FitFolderInUseError) as caught:
        LiveLoss(out=folder)
    message = str(caught.value)
    assert message.startswith(f"LiveLoss(out={str(folder)!r}): ")
    assert "a genwidgets run (model 'classifier'" in message and "notes.txt" in message
    assert "overwrite=True" in message and "Run.from_folder" not in message
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == before
    live = LiveLoss(out=folder, overwrite=True, save_model=False)
    classifier().fit(x, y, batch_size=BATCH, epochs=2, verbose=0, callbacks=[live])
    assert (folder / "notes.txt").read_text() == "mine"
    assert not (folder / "model.keras").exists()
    assert len(read_jsonl(folder / "history.jsonl")) == 2


def test_a_folder_another_fit_writes_is_refused(tmp_path):
    x, y = data()
    first = LiveLoss(out=tmp_path / "run")
    first.folder.begin(classifier(), {"epochs": 1})  # as fit's start does, lock held
    try:
        with pytest.raises(FolderLockedError, match="is in use: process"):
            LiveLoss(out=tmp_path / "run")
    finally:
        first.folder.end(None)


@pytest.mark.parametrize("kwargs, expected", [
    ({"every_s": 0}, "Expected every_s= a number of seconds > 0. Received: every_s=0"),
    ({"every_s": "1"}, "Received: every_s='1'"),
    ({"data": 3}, "Expected data= a string. Received: data=3"),
    ({"name": ["m"]}, "Expected name= a string or None. Received: name=['m']"),
])
def test_bad_arguments_say_what_was_expected(kwargs, expected):
    with pytest.raises((ValueError, TypeError)) as caught:
        LiveLoss(**kwargs)
    assert expected in str(caught.value)


def test_out_a_file_is_refused(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(ValueError, match="Expected a folder for the run. Received: "):
        LiveLoss(out=tmp_path / "f")


# -- a real kernel -----------------------------------------------------------------
KERNEL_CELLS = [
    """\
import genwidgets, keras, numpy as np
from genwidgets.callbacks import LiveLoss
rng = np.random.default_rng(0)
x = rng.normal(size=(2000, 12)).astype("float32"); y = (x[:, 0] > 0).astype("int32")
model = keras.Sequential([keras.Input((12,)), keras.layers.Dense(32, activation="relu"),
                          keras.layers.Dense(2, activation="softmax")])
model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
live = LiveLoss(out="runs/clf")
model.fit(x, y, batch_size=16, epochs=4, validation_split=0.2, verbose=0, callbacks=[live])""",
    """\
def boom(batch, logs):
    if batch == 5:
        raise RuntimeError("boom at batch 5")
broken = LiveLoss(out="runs/broken")
model.fit(x, y, batch_size=16, epochs=2, verbose=0,
          callbacks=[broken, keras.callbacks.LambdaCallback(on_train_batch_end=boom)])""",
    """\
import json
again = LiveLoss(out="runs/broken", overwrite=True)  # the failed fit freed its folder
late = live.plot.figure.get_state()  # what a page connecting now (a reload) is sent
size = lambda v: v["shape"][0] if isinstance(v, dict) else len(v)  # a binary array or a list
print(json.dumps({"live": live.state, "broken": broken.state, "message": broken.message,
                  "broken_rows": len(broken.history), "figure": live.plot.figure.model_id,
                  "traces": {t["name"]: size(t["x"]) for t in late["_widget_data"]},
                  "epoch_lines": len(late["_widget_layout"]["shapes"])}))""",
]


def widget_states(notebook) -> dict:
    return notebook.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]


def shown_view(notebook, cell: int, states: dict) -> dict:
    """The LiveLoss view a cell displayed, as the notebook's widget state holds it: its
    status line, and the model id of its figure."""
    views = [o["data"]["application/vnd.jupyter.widget-view+json"]["model_id"]
             for o in notebook.cells[cell].outputs if o.get("output_type") == "display_data"]
    assert len(views) == 1, notebook.cells[cell].outputs
    box = states[views[0]]["state"]
    assert "gw-liveloss" in box["_dom_classes"]
    status, plot = (states[c.removeprefix("IPY_MODEL_")]["state"] for c in box["children"])
    figures = [c.removeprefix("IPY_MODEL_") for c in plot["children"]
               if "gw-loss-figure" in states[c.removeprefix("IPY_MODEL_")]["state"]
               .get("_dom_classes", [])]
    return {"status": status["value"], "figure": figures[0]}


def test_liveloss_in_a_real_kernel_on_a_plain_classifier(tmp_path):
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(c) for c in KERNEL_CELLS])
    client = NotebookClient(notebook, timeout=300, kernel_name="python3", allow_errors=True,
                            store_widget_state=True,
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    errors = [o for o in notebook.cells[1].outputs if o.get("output_type") == "error"]
    assert [e["evalue"] for e in errors] == ["boom at batch 5"]
    report = json.loads(notebook.cells[2].outputs[-1]["text"].strip().splitlines()[-1])
    assert (report["live"], report["broken"], report["message"]) == (
        "finished", "failed", "failed: RuntimeError: boom at batch 5")
    assert 1 <= report["broken_rows"] <= 6
    states = widget_states(notebook)
    view = shown_view(notebook, 0, states)
    assert 'data-state="finished"' in view["status"]
    assert "epoch 4/4 · step 400/400" in view["status"]
    assert view["figure"] == report["figure"]
    assert report["traces"] == {"accuracy": 400, "loss": 400, "val_accuracy": 4,
                                "val_loss": 4}
    assert report["epoch_lines"] == 4
    failed = shown_view(notebook, 1, states)
    assert 'data-state="failed"' in failed["status"] and "boom at batch 5" in failed["status"]
    record = read_run(Path(tmp_path) / "runs" / "clf")
    assert (record.epochs, record.steps, record.saved) == (4, 400, True)

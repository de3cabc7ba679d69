"""TensorBoard logs of a run, read back with the ``tensorboard`` package's own reader.

A run trained with ``genwidgets train --tensorboard`` (written live by
``TensorBoardWriter``) and the same folder written again by ``genwidgets export
--tensorboard`` must both hold what ``batches.jsonl`` and ``history.jsonl`` hold, samples at
the epoch ends, and the latent snapshots for the projector.
"""

from __future__ import annotations

import csv
import json
import re

import numpy as np
import pytest
from PIL import Image

from tests.helpers import genwidgets

pytest.importorskip("tensorboardX")
event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")

CASES = {  # model, data, epochs, data options
    "image": ("vae", "digits", 2, "limit=256"),
    "text": ("vae", "sentences", 1, "limit=128"),
}


@pytest.fixture(scope="module", params=sorted(CASES))
def trained(request, tmp_path_factory):
    """A run trained with --tensorboard, then exported to another logdir."""
    model, data, epochs, option = CASES[request.param]
    base = tmp_path_factory.mktemp(f"tb-{request.param}")
    out = base / "run"
    proc = genwidgets("train", "--model", model, "--data", data, "--epochs", str(epochs),
                      "--batch-size", "32", "--out", str(out), "--set", "latent_dim=4",
                      "--data-opt", option, "--tensorboard", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert f"TensorBoard logs in {out / 'tensorboard'}" in proc.stderr
    exported = genwidgets("export", "--tensorboard", str(out), "--logdir", str(base / "tb"))
    assert exported.returncode == 0, exported.stderr
    assert f"to {base / 'tb'}" in exported.stdout
    return request.param, out, {"live": out / "tensorboard", "export": base / "tb"}


def rows(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def reader(logdir):
    acc = event_accumulator.EventAccumulator(
        str(logdir), size_guidance={"scalars": 0, "images": 0, "tensors": 0})
    return acc.Reload()


def parts(row):
    return {k: v for k, v in row.items() if k not in ("step", "epoch", "t")}


@pytest.mark.parametrize("way", ["live", "export"])
def test_scalars_are_the_rows_of_the_run(trained, way):
    _, out, logdirs = trained
    acc = reader(logdirs[way])
    batches, epochs = rows(out / "batches.jsonl"), rows(out / "history.jsonl")
    tags = set(acc.Tags()["scalars"])
    assert tags == {f"batch/{k}" for k in parts(batches[0])} | {
        f"epoch/{k}" for k in parts(epochs[0])}
    assert {"batch/loss", "batch/kl", "batch/reconstruction", "epoch/loss"} <= tags
    for prefix, table in (("batch", batches), ("epoch", epochs)):
        for key in parts(table[0]):
            events = acc.Scalars(f"{prefix}/{key}")
            assert [e.step for e in events] == [r["step"] for r in table]
            written = np.array([e.value for e in events])  # float32 in the event file
            np.testing.assert_allclose(written, np.float32([r[key] for r in table]),
                                       rtol=1e-5, atol=1e-6, err_msg=f"{prefix}/{key}")


@pytest.mark.parametrize("way", ["live", "export"])
def test_samples_at_epoch_ends(trained, way):
    kind, out, logdirs = trained
    acc = reader(logdirs[way])
    ends = [r["step"] for r in rows(out / "history.jsonl")]
    if kind == "image":
        images = acc.Images("samples")
        assert [e.step for e in images][-1] == ends[-1]
        assert set(e.step for e in images) <= set(ends)
        if way == "live":
            assert [e.step for e in images] == ends
        assert images[-1].width >= 4 * 8 and images[-1].height >= 8  # a grid of 8x8 digits
    else:
        (tag,) = [t for t in acc.Tags()["tensors"] if t.startswith("samples")]
        events = acc.Tensors(tag)
        assert [e.step for e in events][-1] == ends[-1]
        text = events[-1].tensor_proto.string_val[0].decode()
        lines = text.splitlines()
        assert len(lines) == 16 and lines[0].startswith("1. ")
        assert all(re.match(r"\d+\. \S", line) for line in lines)  # sentences, not ids


@pytest.mark.parametrize("way", ["live", "export"])
def test_projector_holds_the_latent_snapshots(trained, way):
    from genwidgets.registry import load_dataset
    from genwidgets.latent.snapshots import SnapshotStore

    kind, out, logdirs = trained
    logdir = logdirs[way]
    store = SnapshotStore(out / "latents")
    epochs = store.epochs()
    assert epochs == list(range(len(rows(out / "history.jsonl")) + 1))  # 0 and each epoch
    config = (logdir / "projector_config.pbtxt").read_text()
    names = re.findall(r'tensor_name: "([^"]+)"', config)
    assert names == [f"latents:{e:05d}" for e in epochs]
    name, limit = ("digits", 256) if kind == "image" else ("sentences", 128)
    data = load_dataset(name, limit=limit)
    for epoch in epochs:
        snap = store.load(epoch)
        folder = logdir / f"{epoch:05d}" / "latents"
        tensors = np.loadtxt(folder / "tensors.tsv", delimiter="\t", ndmin=2)
        np.testing.assert_allclose(tensors, snap.z, rtol=1e-6)
        meta = list(csv.reader((folder / "metadata.tsv").open(), delimiter="\t",
                               quoting=csv.QUOTE_NONE))
        if kind == "image":
            assert [m[0] for m in meta] == [data.info.label_names[data.y[i]] for i in snap.idx]
            sprite = np.asarray(Image.open(folder / "sprite.png").convert("L")) / 255.0
            per_row = int(np.ceil(np.sqrt(len(snap.idx))))  # row-major cells of 8x8
            assert sprite.shape[1] == per_row * 8
            for n, i in enumerate(snap.idx):  # each cell is its item's image
                r, c = divmod(n, per_row)
                cell = sprite[r * 8:(r + 1) * 8, c * 8:(c + 1) * 8]
                np.testing.assert_allclose(cell, data.x[i][..., 0], atol=1 / 255 + 1e-6)
            assert sprite.shape[0] == per_row * 8  # a full square of cells,
            after = sprite.reshape(per_row, 8, per_row, 8).transpose(0, 2, 1, 3)
            assert not after.reshape(-1, 8, 8)[len(snap.idx):].any()  # black after the items
            assert f"{epoch:05d}/latents/sprite.png" in config
            assert "single_image_dim: 8" in config
        else:
            assert meta == [[" ".join(s.split())] for s in data.tokenizer.decode(data.x[snap.idx])]
            assert not (folder / "sprite.png").exists() and "sprite" not in config


def test_export_refuses_what_it_cannot_write(tmp_path, trained):
    _, out, logdirs = trained
    again = genwidgets("export", "--tensorboard", str(out), "--logdir", str(logdirs["export"]))
    assert again.returncode == 2 and "Traceback" not in again.stderr
    assert "already holds TensorBoard files" in again.stderr and "Nothing was written" in \
        again.stderr
    (tmp_path / "notes.txt").write_text("hello")
    proc = genwidgets("export", "--tensorboard", str(tmp_path))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "config.json cannot be read" in proc.stderr and "Expected a run folder" in proc.stderr
    assert not (tmp_path / "tensorboard").exists()


def test_run_tensorboard_true_writes_the_logs_in_its_folder(tmp_path):
    from genwidgets.training import Run
    from genwidgets.training.headless import train_run

    out = tmp_path / "run"
    run = Run("ae", "digits", epochs=2, batch_size=32, out=out, tensorboard=True,
              data_options={"limit": 128})
    train_run(run, progress=False)
    assert run.state == "finished"
    acc = reader(out / "tensorboard")
    epochs = rows(out / "history.jsonl")
    assert [e.step for e in acc.Scalars("epoch/loss")] == [r["step"] for r in epochs]
    np.testing.assert_allclose([e.value for e in acc.Scalars("epoch/loss")],
                               np.float32([r["loss"] for r in epochs]), rtol=1e-5)
    assert (out / "tensorboard" / "projector_config.pbtxt").exists()  # the AE encodes

    elsewhere = tmp_path / "logs"
    run = Run("ae", "digits", epochs=1, batch_size=32, tensorboard=elsewhere,
              data_options={"limit": 64})
    train_run(run, progress=False)
    assert reader(elsewhere).Scalars("epoch/loss")


@pytest.mark.parametrize("out, value, message", [
    (None, True, "Expected out=..."), ("run", 3, "Expected tensorboard=True, False or a folder"),
    ("run", "", "Expected tensorboard=True, False or a folder")])
def test_run_refuses_a_tensorboard_it_cannot_write(tmp_path, out, value, message):
    from genwidgets.training import Run

    folder = tmp_path / out if out else None
    with pytest.raises(ValueError, match=re.escape(message)):
        Run("ae", "digits", epochs=1, out=folder, tensorboard=value, data_options={"limit": 64})
    assert list(tmp_path.iterdir()) == []  # refused before anything was written

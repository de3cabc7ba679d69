"""Your own images (the ``images`` dataset) from Python, the CLI and the Studio, and MNIST's
download: a real local mirror for the progress bar, and this machine's real lack of a
network for the offline message.

The images are real PNG and JPEG files written by Pillow; the runs train with a real
``fit``; the CLI runs as a subprocess.
"""

from __future__ import annotations

import datetime
import functools
import gzip
import http.server
import io
import json
import logging
import os
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from genwidgets.registry import load_dataset
from genwidgets.data.validate import DataError
from genwidgets.training import Run
from genwidgets.widgets import Studio
from genwidgets.widgets.data_fields import dataset_choices
from genwidgets.widgets.studio import saved_runs

TINY_AE = {"latent_dim": 2, "hidden": 16}


def pets(root: Path) -> Path:
    """pets/cats: 4 grey PNGs 20x30; pets/dogs: 4 RGB JPEGs 40x40 (labels cats, dogs)."""
    rng = np.random.default_rng(0)
    for label in ("cats", "dogs"):
        (root / "pets" / label).mkdir(parents=True)
    for i in range(4):
        Image.fromarray(rng.integers(0, 256, (30, 20), dtype=np.uint8)).save(
            root / "pets" / "cats" / f"{i}.png")
        Image.fromarray(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)).save(
            root / "pets" / "dogs" / f"{i}.jpg", quality=90)
    return root / "pets"


def greys(root: Path, n: int = 6, size=(12, 12)) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        Image.fromarray(np.full(size[::-1], 30 * i, np.uint8)).save(root / f"g{i}.png")
    return root


def zipped(folder: Path, target: Path, extra: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(target, "w") as z:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                z.write(path, Path(folder.name) / path.relative_to(folder))
        for name, content in (extra or {}).items():
            z.writestr(name, content)
    return target


# -- PNG/JPEG files ------------------------------------------------------------------------
def test_a_folder_gives_labels_from_sub_folders_and_the_default_size(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="genwidgets.data")
    data = load_dataset("images", path=pets(tmp_path))
    assert data.x.shape == (8, 28, 28, 3) and data.x.dtype == np.float32  # sizes differ: 28
    assert 0.0 <= data.x.min() and data.x.max() <= 1.0
    assert data.info.label_names == ("cats", "dogs") and data.y.tolist() == [0] * 4 + [1] * 4
    assert "their 2 sizes differ: the default 28" in caplog.text
    grey = load_dataset("images", path=tmp_path / "pets", size=16, color="gray")
    assert grey.x.shape == (8, 16, 16, 1)
    cats = load_dataset("images", path=tmp_path / "pets" / "cats")  # one size, all grey
    assert cats.x.shape == (4, 30, 20, 1) and cats.y is None  # their own size, H x W
    assert load_dataset("images", path=tmp_path / "pets" / "cats", color="rgb").x.shape == (
        4, 30, 20, 3)
    assert len(load_dataset("images", path=tmp_path / "pets", limit=3)) == 3


def test_a_zip_is_read_in_memory_and_its_names_are_only_labels(tmp_path):
    folder = pets(tmp_path / "src")
    before = sorted(p.name for p in tmp_path.rglob("*"))
    archive = zipped(folder, tmp_path / "pets.zip", {
        "../../escape/evil.png": (folder / "cats" / "0.png").read_bytes(),
        "/abs/cats/x.png": b"not a png",
        "__MACOSX/pets/._0.png": b"resource fork", "pets/readme.txt": b"hello"})
    data = load_dataset("images", path=archive)
    assert len(data) == 8 and data.info.label_names == ("cats", "dogs")  # junk skipped
    after = sorted(p.name for p in tmp_path.rglob("*"))
    assert after == sorted([*before, "pets.zip"])  # nothing extracted, nothing escaped
    np.testing.assert_allclose(data.x, load_dataset("images", path=folder).x, atol=1e-6)


def test_unreadable_files_are_named_while_most_load(tmp_path, caplog):
    folder = greys(tmp_path / "g", n=6)
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n cut short")
    (folder / "empty.jpg").write_bytes(b"")
    data = load_dataset("images", path=folder)
    assert len(data) == 6
    assert "skipped 2 unreadable image file(s) of 8" in caplog.text
    assert "broken.png" in caplog.text and "empty.jpg" in caplog.text
    for i in range(10):  # now most are unreadable: an error naming the first few
        (folder / f"bad{i}.png").write_bytes(b"junk")
    with pytest.raises(DataError, match=r"12 of 18 unreadable in .*: bad0\.png \(not a PNG "
                                        r"or JPEG image\); .* \.\.\."):
        load_dataset("images", path=folder)


def test_what_is_not_images_is_refused_clearly(tmp_path):
    with pytest.raises(DataError, match=r"Expected path= a \.npz file, a \.zip"):
        load_dataset("images")
    one = tmp_path / "one.png"
    Image.new("L", (4, 4)).save(one)
    with pytest.raises(DataError, match=r"One image\? Put it in a folder or a \.zip"):
        load_dataset("images", path=one)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"Expected PNG or JPEG files .* Found none"):
        load_dataset("images", path=tmp_path / "empty")
    notes = tmp_path / "notes.zip"
    with zipfile.ZipFile(notes, "w") as z:
        z.writestr("a.txt", "hi")
    with pytest.raises(DataError, match=r"in the zip .*notes\.zip'\. Found: \['a\.txt'\]"):
        load_dataset("images", path=notes)
    for bad, says in ((dict(size=2), r"size to be an integer from 4 to 512"),
                      (dict(size=True), r"size to be an integer"),
                      (dict(color="blue"), r"color to be one of \('gray', 'rgb'\)")):
        with pytest.raises(DataError, match=says):
            load_dataset("images", path=tmp_path / "empty", **bad)


# -- .npz ----------------------------------------------------------------------------------
def test_an_npz_with_labels_and_names(tmp_path):
    rng = np.random.default_rng(1)
    path = tmp_path / "mine.npz"
    np.savez(path, x=rng.integers(0, 256, (10, 9, 9)), y=np.arange(10) % 3,
             label_names=np.array(["a", "b", "c"]))  # int64 pixels in 0..255
    data = load_dataset("images", path=path)
    assert data.x.shape == (10, 9, 9, 1) and data.info.label_names == ("a", "b", "c")
    assert data.x.max() <= 1.0 and data.x.max() > 0.5  # 0..255, not 0/1
    assert load_dataset("images", path=path, size=16, color="rgb").x.shape == (10, 16, 16, 3)
    np.savez(path, x=rng.random((5, 8, 8, 3)).astype(np.float32))
    plain = load_dataset("images", path=path, limit=4)
    assert plain.x.shape == (4, 8, 8, 3) and plain.y is None


@pytest.mark.parametrize("arrays, says", [
    (dict(y=np.arange(3)), r"Expected an array named x \(the images\).*Found: \['y'\]"),
    (dict(x=np.zeros((3, 4))), r"Received: x with shape \(3, 4\)\. A single image\?"),
    (dict(x=np.zeros((3, 4, 4, 5))), r"Received: x with shape \(3, 4, 4, 5\)"),
    (dict(x=np.full((3, 4, 4), np.nan)), r"Expected finite pixel values.*48 NaN"),
    (dict(x=np.full((3, 4, 4), 1.5)), r"Expected float pixels in \[0, 1\].*\[1\.5, 1\.5\]"),
    (dict(x=np.full((3, 4, 4), 300)), r"Expected integer pixels in \[0, 255\].*\[300, 300\]"),
    (dict(x=np.full((3, 4, 4), -1)), r"Expected integer pixels in \[0, 255\].*\[-1, -1\]"),
    (dict(x=np.zeros((3, 4, 4)), y=np.arange(4)), r"one label per item: 3 labels\. "
                                                  r"Received: 4 labels"),
    (dict(x=np.zeros((3, 4, 4)), label_names=np.array(["a"])), r"Expected y with "
                                                                r"label_names"),
])
def test_a_bad_npz_says_what_is_wrong(arrays, says, tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    before = path.read_bytes()
    with pytest.raises(DataError, match=says):
        load_dataset("images", path=path)
    assert path.read_bytes() == before


# -- Python, CLI ---------------------------------------------------------------------------
def test_a_run_from_python_trains_on_a_folder(tmp_path):
    run = Run("ae", "images", TINY_AE, epochs=1, batch_size=4,
              data_options={"path": str(pets(tmp_path)), "size": 16})
    run.start()
    assert run.wait(300) and run.state == "finished", run.message
    assert run.dataset.info.shape == (16, 16, 3) and run.steps == 2


def genwidgets(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "genwidgets.cli", *args], capture_output=True,
                          text=True, timeout=600, env={**os.environ, **(env or {})})


def test_the_cli_trains_on_a_zip_and_refuses_a_bad_file(tmp_path):
    archive = zipped(pets(tmp_path / "src"), tmp_path / "pets.zip")
    out = tmp_path / "run"
    proc = genwidgets("train", "--model", "ae", "--data", "images", "--data-opt",
                      f"path={archive}", "--data-opt", "size=12", "--data-opt", "color=gray",
                      "--epochs", "1", "--batch-size", "4", "--set", "hidden=16",
                      "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "training ae on images (8 items, image (12, 12, 1))" in proc.stderr
    doc = json.loads((out / "config.json").read_text())
    assert doc["data"] == "images" and doc["data_options"]["path"] == str(archive)
    bad = tmp_path / "bad.npz"
    np.savez(bad, x=np.full((3, 4, 4), 2.0))
    proc = genwidgets("train", "--model", "ae", "--data", "images", "--data-opt",
                      f"path={bad}", "--out", str(tmp_path / "never"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert "error: Expected float pixels in [0, 1]" in proc.stderr
    assert not (tmp_path / "never").exists()


# -- the Studio ----------------------------------------------------------------------------
def upload(studio: Studio, *files: tuple[str, bytes]) -> None:
    """What ipywidgets 8 puts in a FileUpload's value when a person uploads files."""
    studio.data_fields.upload.value = tuple({
        "name": name, "type": "application/octet-stream", "size": len(content),
        "content": memoryview(content),
        "last_modified": datetime.datetime(2026, 1, 2, tzinfo=datetime.timezone.utc),
    } for name, content in files)


def image_studio(tmp_path, **kwargs) -> Studio:
    studio = Studio("ae", "images", runs=tmp_path / "runs", epochs=1, batch_size=4, **kwargs)
    for name, value in TINY_AE.items():
        studio.form.fields[name].value = value
    return studio


def test_the_studio_trains_on_an_uploaded_zip_and_keeps_it(tmp_path):
    studio = image_studio(tmp_path)
    fields = studio.data_fields
    assert fields.shown == ["upload", "path", "size", "color"]
    assert fields.upload.multiple and ".npz" in fields.upload.accept
    content = zipped(pets(tmp_path / "src"), tmp_path / "pets.zip").read_bytes()
    upload(studio, ("pets.zip", content))
    fields.size.value = 16
    run = studio.create_run()
    assert run is not None, studio.message.value
    folder = run.folder.path
    assert (folder / "data.zip").read_bytes() == content
    doc = json.loads((folder / "config.json").read_text())
    assert doc["data_options"] == {"size": 16, "path": str((folder / "data.zip").resolve())}
    assert "read 8 images from &#x27;pets.zip&#x27;" in fields.note.value
    assert run.dataset.info.label_names == ("cats", "dogs")
    run.start()
    assert run.wait(300) and run.state == "finished", run.message
    assert folder.name in saved_runs(studio.runs)
    again = Run.from_folder(folder)  # reopens from its own copy
    assert again.dataset.info.label_names == ("cats", "dogs") and len(again.dataset) == 8


def test_several_uploaded_pngs_become_one_zip(tmp_path):
    studio = image_studio(tmp_path)
    folder = greys(tmp_path / "g", n=4)
    files = [(p.name, p.read_bytes()) for p in sorted(folder.iterdir())]
    upload(studio, *files, ("../g0.png", files[0][1]))  # a clashing, odd name
    run = studio.create_run()
    assert run is not None, studio.message.value
    with zipfile.ZipFile(run.folder.path / "data.zip") as z:
        assert sorted(z.namelist()) == ["g0-2.png", "g0.png", "g1.png", "g2.png", "g3.png"]
    assert run.dataset.info.shape == (12, 12, 1) and len(run.dataset) == 5
    assert "from 5 uploaded images" in studio.message.value


@pytest.mark.parametrize("files, says", [
    ([("bad.npz", b"PK\x03\x04 not really")], "not a zip archive that can be read"),
    ([("a.npz", b"x"), ("b.png", b"y")], "Expected one .npz file, one .zip file, or PNG/JPEG"),
    ([("a.png", b"junk"), ("b.png", b"junk")], "2 of 2 unreadable in"),
])
def test_a_bad_upload_is_said_beside_create_run_and_nothing_is_written(files, says, tmp_path):
    studio = image_studio(tmp_path)
    upload(studio, *files)
    assert studio.create_run() is None and studio.run is None
    message = studio.message.value
    assert "color:#c62828" in message and "Traceback" not in message
    assert says in message.replace("&#x27;", "'"), message
    assert "/proc/" not in message
    runs = tmp_path / "runs"
    assert not runs.exists() or not any(runs.iterdir())


def test_the_app_offers_the_upload_but_no_path(tmp_path):
    studio = Studio("ae", "digits", runs=tmp_path / "runs", app=True)
    studio.data_choice.value = "images"
    assert studio.data_fields.shown == ["upload", "size", "color"]
    studio.create_run()
    assert "images needs your data here: upload your files above" in studio.message.value


# -- MNIST: the download, offline and through a mirror -------------------------------------
def offline_env(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.delenv("GENWIDGETS_DATA_MIRROR", raising=False)


def test_offline_mnist_says_which_url_and_where_to_put_it(tmp_path, monkeypatch):
    """No proxy, no mock: this machine has no network, as a user's offline laptop."""
    from genwidgets.data.download import reachable

    offline_env(monkeypatch, tmp_path)
    if reachable():
        pytest.skip("this machine reaches the download host: the offline path needs none")
    with pytest.raises(DataError) as caught:
        load_dataset("fashion_mnist", split="test")
    message = str(caught.value)
    assert "Could not download fashion_mnist from https://storage.googleapis.com/" in message
    assert "t10k-images-idx3-ubyte.gz" in message and "t10k-labels-idx1-ubyte.gz" in message
    assert str(tmp_path / "keras" / "datasets" / "fashion-mnist") in message
    assert "use the dataset digits (offline) or images" in message
    # nothing half-written is left (a download goes to a hidden temporary file first)
    assert not any(p.name.startswith(".") for p in (tmp_path / "keras").rglob("*"))


def test_the_studio_marks_mnist_when_it_cannot_load(tmp_path, monkeypatch):
    offline_env(monkeypatch, tmp_path)
    for name in ("HTTPS_PROXY", "https_proxy"):  # offline even where a network is
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    studio = Studio("vae", "digits", runs=tmp_path / "runs")
    labels = dict((name, label) for label, name in studio.data_choice.options)
    assert labels["mnist"] == "mnist (offline: not downloaded)"
    assert labels["digits"] == "digits" and labels["images"] == "images"
    studio.data_choice.value = "mnist"
    note = studio.data_fields.note.value
    assert "mnist cannot load here: this machine is offline" in note
    assert "mnist.npz" in note
    (tmp_path / "keras" / "datasets").mkdir(parents=True)
    (tmp_path / "keras" / "datasets" / "mnist.npz").write_bytes(b"")  # it is here now
    assert ("mnist", "mnist") in dataset_choices(studio.registry)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def idx(array: np.ndarray) -> bytes:
    head = b"\0\0\x08" + bytes([array.ndim]) + b"".join(
        d.to_bytes(4, "big") for d in array.shape)
    return gzip.compress(head + array.astype(np.uint8).tobytes())


def test_a_download_from_a_mirror_shows_progress_and_is_kept(tmp_path, monkeypatch):
    """A real HTTP server on 127.0.0.1 serving Fashion-MNIST-shaped files, as a mirror."""
    served = tmp_path / "mirror"
    served.mkdir()
    rng = np.random.default_rng(2)
    x, y = rng.integers(0, 256, (300, 28, 28)), rng.integers(0, 10, 300)
    (served / "t10k-images-idx3-ubyte.gz").write_bytes(idx(x))
    (served / "t10k-labels-idx1-ubyte.gz").write_bytes(idx(y))
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(served)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    env = {"KERAS_HOME": str(tmp_path / "keras"), "NO_PROXY": "127.0.0.1",
           "no_proxy": "127.0.0.1",
           "GENWIDGETS_DATA_MIRROR": f"http://127.0.0.1:{server.server_address[1]}/"}
    code = ("import genwidgets; from genwidgets.registry import load_dataset; "
            "d = load_dataset('fashion_mnist', split='test'); print(len(d), d.info.name)")
    kept = tmp_path / "keras" / "datasets" / "fashion-mnist"
    progress = []
    try:
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              timeout=120, env={**os.environ, **env})
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        from genwidgets.data.download import fetch, report_progress

        (kept / "t10k-labels-idx1-ubyte.gz").unlink()  # fetched again, for the Studio's bar
        with report_progress(lambda *a: progress.append(a)):
            fetch("fashion_mnist", ["test"])
    finally:
        server.shutdown()
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["300", "fashion_mnist"]
    assert "downloading t10k-images-idx3-ubyte.gz" in proc.stderr and "100%" in proc.stderr
    assert sorted(p.name for p in kept.iterdir()) == ["t10k-images-idx3-ubyte.gz",
                                                       "t10k-labels-idx1-ubyte.gz"]
    size = (served / "t10k-labels-idx1-ubyte.gz").stat().st_size
    assert progress[0] == ("t10k-labels-idx1-ubyte.gz", 0, size)
    assert progress[-1] == ("t10k-labels-idx1-ubyte.gz", size, size)
    data = load_dataset("fashion_mnist", split="test", limit=5)  # the server is gone
    np.testing.assert_array_equal(data.y, y[:5])


def test_an_uploaded_npz_reads_from_memory(tmp_path):
    buffer = io.BytesIO()
    np.savez(buffer, x=np.zeros((4, 6, 6), np.uint8), y=np.array([0, 1, 0, 1]))
    studio = image_studio(tmp_path)
    upload(studio, ("mine.npz", buffer.getvalue()))
    run = studio.create_run()
    assert run is not None, studio.message.value
    assert (run.folder.path / "data.npz").read_bytes() == buffer.getvalue()
    assert run.dataset.info.shape == (6, 6, 1)

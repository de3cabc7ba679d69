"""The Studio's data fields headless: an uploaded .txt file or a path, mode and tokens
from the dataset's options, refused files said beside Create run with nothing written;
the runs they make train, say their data in config.json and can be explored again."""

from __future__ import annotations

import datetime
import json

from genwidgets.widgets import Studio
from genwidgets.widgets.data_fields import UPLOAD_COPY
from genwidgets.widgets.studio import TABS, saved_runs

LINES = "a cat sat\nthe dog ran\nbig red sun\nwe swim\n"
TINY_AE = {"latent_dim": 2, "hidden": 16, "embed_dim": 8}


def upload(studio: Studio, name: str, content: bytes) -> None:
    """What ipywidgets 8 puts in a FileUpload's value when a person uploads one file."""
    studio.data_fields.upload.value = ({
        "name": name, "type": "text/plain", "size": len(content),
        "content": memoryview(content),
        "last_modified": datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
    },)


def text_studio(tmp_path, **kwargs) -> Studio:
    studio = Studio("ae", "text", runs=tmp_path / "runs", epochs=1, batch_size=4, **kwargs)
    for name, value in TINY_AE.items():
        studio.form.fields[name].value = value
    return studio


def shown(studio: Studio) -> list[str]:
    return studio.data_fields.shown


def refused(studio: Studio, tmp_path) -> str:
    """Create run refuses: the message beside it (red, no traceback), no run, no files."""
    assert studio.create_run() is None and studio.run is None
    message = studio.message.get_state()["value"]
    assert "color:#c62828" in message and "Traceback" not in message
    runs = tmp_path / "runs"
    assert not runs.exists() or not any(runs.iterdir())  # nothing written for it
    return message


def test_fields_follow_the_datasets_options(tmp_path):
    studio = Studio("vae", "digits", runs=tmp_path)
    assert shown(studio) == []  # digits takes none of them
    studio.data_choice.value = "text"
    assert shown(studio) == ["upload", "path", "mode", "tokens"]
    assert studio.data_fields.upload.accept == ".txt" and not studio.data_fields.upload.multiple
    studio.data_choice.value = "python_docs"
    assert shown(studio) == ["mode", "tokens"]
    studio.data_choice.value = "mnist"  # a path (a folder of IDX files), no text upload
    assert shown(studio) == ["path"]
    assert "IDX" in studio.data_fields.path.placeholder
    studio.data_choice.value = "sentences"
    assert shown(studio) == ["tokens"]
    assert "subword" in studio.data_fields.helps["tokens"].value  # the option's own help
    assert "word (whole words" in studio.data_fields.helps["tokens"].value
    assert studio.data_fields.tokens.options[1:] == ("char", "subword", "word")


def test_an_uploaded_file_makes_a_run_that_trains_and_can_be_explored_again(tmp_path):
    studio = text_studio(tmp_path)
    studio.data_fields.path.value = "/somewhere/else.txt"
    content = ("\ufeff" + LINES).encode("utf-8")  # a BOM, as some editors write
    upload(studio, "animals.txt", content)
    assert studio.data_fields.path.value == ""  # one source at a time
    assert "animals.txt" in studio.data_fields.upload_info.value
    studio.data_fields.mode.value = "line"
    run = studio.create_run()
    assert run is not None, studio.message.value
    assert "from animals.txt" in studio.message.value
    folder = run.folder.path
    assert (folder / UPLOAD_COPY).read_bytes() == content  # the copy is the upload
    doc = json.loads((folder / "config.json").read_text())
    assert doc["data"] == "text"
    assert doc["data_options"] == {"mode": "line", "path": str((folder / UPLOAD_COPY).resolve())}
    assert len(run.dataset.x) == 4
    run.start()  # one epoch of 4 lines in a batch of 4: one step
    assert run.wait(120) and run.state == "finished" and run.steps == 1, run.message
    assert folder.name in saved_runs(studio.runs)  # listed, and explored from its copy
    studio.tabs.selected_index = TABS.index("Explore")
    studio.saved.value = folder.name
    kinds = [type(w).__name__ for w in studio.explore_box.children]
    assert kinds == ["LatentMap", "TextPath", "AttributeStrip", "SampleList"], studio.explore_box.children
    latent_map = studio.explore_box.children[0]
    assert sorted(latent_map.source.items(latent_map.idx)) == sorted(LINES.split("\n")[:4])


def test_a_latin1_file_is_refused_with_the_utf8_message_and_nothing_is_written(tmp_path):
    studio = text_studio(tmp_path)
    upload(studio, "latin.txt", "first line\ncaf\xe9 au lait\n".encode("latin-1"))
    message = refused(studio, tmp_path)
    assert "Expected a UTF-8 text file" in message and "&#x27;latin.txt&#x27;" in message
    assert "byte 0xe9 at byte offset 14 (line 2" in message
    assert "/proc/" not in message and "tmp" not in message.split("Fix")[0]


def test_an_empty_file_or_one_line_is_refused(tmp_path):
    studio = text_studio(tmp_path)
    upload(studio, "empty.txt", b"")
    message = refused(studio, tmp_path)
    assert "Expected at least 2 non-blank lines" in message and "empty.txt" in message
    upload(studio, "one.txt", b"only one line here\n")
    message = refused(studio, tmp_path)
    assert "Received: 1 from the file &#x27;one.txt&#x27;" in message
    assert "mode=&#x27;sentence&#x27;" in message  # the data layer's fix


def test_a_path_that_does_not_exist_and_no_data_at_all(tmp_path):
    studio = text_studio(tmp_path)
    message = refused(studio, tmp_path)  # the text dataset, given nothing
    assert "text needs your data here: upload a .txt file or type the path of one" in message
    studio.data_fields.path.value = str(tmp_path / "nope.txt")
    message = refused(studio, tmp_path)
    assert "nope.txt" in message and "which does not exist" in message


def test_a_path_on_disk_is_recorded_as_an_absolute_path(tmp_path, monkeypatch):
    (tmp_path / "poems.txt").write_text("Roses are red. Violets are blue.\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    studio = text_studio(tmp_path)
    upload(studio, "other.txt", LINES.encode())
    studio.data_fields.path.value = "poems.txt"  # relative to the server's folder
    assert studio.data_fields.upload.value == ()  # the path replaces the upload
    studio.data_fields.mode.value = "sentence"
    studio.data_fields.tokens.value = "char"
    run = studio.create_run()
    assert run is not None, studio.message.value
    doc = json.loads((run.folder.path / "config.json").read_text())
    assert doc["data_options"] == {"path": str((tmp_path / "poems.txt").resolve()),
                                   "mode": "sentence", "tokens": "char"}
    assert not (run.folder.path / UPLOAD_COPY).exists() and len(run.dataset.x) == 2


def test_mnist_offline_says_where_to_give_its_files(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))  # no files downloaded, and
    for name in ("HTTPS_PROXY", "https_proxy"):  # offline for real (a refused proxy)
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    studio = Studio("vae", "mnist", runs=tmp_path / "runs")
    message = refused(studio, tmp_path)
    assert "mnist needs your data here: type the path of one (folder of IDX files or an " \
           ".npz) above" in message and "may be offline" in message


def test_saved_runs_lists_data_that_can_be_loaded_again(tmp_path):
    def folder(name, options):
        path = tmp_path / name
        path.mkdir()
        (path / "model.keras").write_bytes(b"")
        (path / "config.json").write_text(json.dumps({"model": "ae", "data": "text",
                                                      "data_options": options}))
        return path

    copy = folder("uploaded", {})
    (copy / UPLOAD_COPY).write_text(LINES)
    (copy / "config.json").write_text(json.dumps({
        "model": "ae", "data": "text", "data_options": {"path": str(copy / UPLOAD_COPY)}}))
    folder("plain", {})
    folder("options", {"mode": "sentence", "limit": 10})
    folder("gone", {"path": str(tmp_path / "deleted.txt")})
    folder("texts", {"texts": ["a", "b"]})
    assert sorted(saved_runs(tmp_path)) == ["options", "plain", "uploaded"]


def test_discarding_an_untrained_upload_run_takes_its_copy_too(tmp_path):
    from genwidgets.training.folder import BOOKKEEPING
    from genwidgets.widgets.studio import discard_untrained

    studio = text_studio(tmp_path)
    upload(studio, "animals.txt", LINES.encode())
    run = studio.create_run()
    names = {p.name for p in run.folder.path.iterdir()} - set(BOOKKEEPING)  # the lock
    assert sorted(names) == ["config.json", UPLOAD_COPY]
    assert discard_untrained(run) and not run.folder.path.exists()


def test_a_refused_upload_leaves_a_created_run_alone(tmp_path):
    studio = text_studio(tmp_path)
    upload(studio, "animals.txt", LINES.encode())
    first = studio.create_run()
    assert first is not None
    upload(studio, "latin.txt", "x\ncaf\xe9\n".encode("latin-1"))
    assert studio.create_run() is None and studio.run is first
    assert [p.name for p in (tmp_path / "runs").iterdir()] == [first.folder.path.name]
    assert "not UTF-8" in studio.message.value

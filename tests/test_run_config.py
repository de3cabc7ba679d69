"""A run folder's ``config.json`` through its one reader (RunConfig) and every file written
whole through the one writer (genwidgets.atomic)."""

from __future__ import annotations

import json
import os
import threading

import pytest

from genwidgets import atomic
from genwidgets.training.files import RunFolderError
from genwidgets.training.run_config import RunConfig, write_run_config


@pytest.mark.parametrize("text, says", [
    (None, "Received: no such file"),
    ("{", "cannot be read (JSONDecodeError"),
    ("[1, 2]", "a JSON object. Received: a JSON list"),
    ('{"model": "ae"}', "Expected 'data' in it (the data the run was trained on). "
                        "Received: the keys ['model']"),
    ('{"model": 3, "data": "digits"}', "Expected model to be text. Received: model=3"),
    ('{"model": "ae", "data": "digits", "config": "latent_dim=3"}',
     "Expected config to be a JSON object. Received: config='latent_dim=3'"),
    ('{"model": "ae", "data": "digits", "batch_size": true}',
     "Expected batch_size to be an integer. Received: batch_size=True"),
    ('{"model": "ae", "data": "digits", "epochs": 0}',
     "Expected epochs >= 1, an integer. Received: epochs=0"),
])
def test_a_config_json_that_does_not_read_says_which_file_and_what_is_wrong(
        tmp_path, text, says):
    if text is not None:
        (tmp_path / "config.json").write_text(text)
    with pytest.raises(RunFolderError) as caught:
        RunConfig.read(tmp_path)
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / 'config.json'} cannot be read"), message
    assert says in message and "Nothing was changed" in message


def test_a_folder_in_place_of_config_json_is_not_read(tmp_path):
    (tmp_path / "config.json").mkdir()
    with pytest.raises(RunFolderError, match="Received: not a regular file"):
        RunConfig.read(tmp_path)


def test_written_and_read_back_with_defaults_for_what_it_does_not_say(tmp_path):
    doc = {"model": "ae", "data": "digits", "config": {"latent_dim": 2},
           "data_options": {"limit": 64}, "batch_size": 32, "seed": None, "later": [1]}
    written = write_run_config(tmp_path, doc)
    read = RunConfig.read(tmp_path)
    assert read == written and read.doc == doc  # keys it does not know are kept
    assert (read.model, read.data, read.config, read.data_options) == (
        "ae", "digits", {"latent_dim": 2}, {"limit": 64})
    assert read.settings() == {"epochs": 10, "batch_size": 32, "distribution": "auto",
                               "precision": "float32", "seed": None}
    assert sorted(os.listdir(tmp_path)) == ["config.json"]  # no temporary left


def test_a_config_that_would_not_read_back_is_not_written(tmp_path):
    (tmp_path / "config.json").write_text('{"model": "ae", "data": "digits"}')
    with pytest.raises(RunFolderError, match="Expected data to be text"):
        write_run_config(tmp_path, {"model": "ae", "data": 5})
    assert json.loads((tmp_path / "config.json").read_text())["data"] == "digits"


def test_a_failed_write_leaves_the_previous_file_and_no_temporary(tmp_path):
    path = tmp_path / "model.keras"
    path.write_bytes(b"previous")
    with pytest.raises(RuntimeError, match="disk full"):
        with atomic.replacing(path, keep_suffix=True) as tmp:
            assert tmp.name == f".model.{os.getpid()}.tmp.keras"
            tmp.write_bytes(b"half")
            raise RuntimeError("disk full")
    assert path.read_bytes() == b"previous"
    assert sorted(os.listdir(tmp_path)) == ["model.keras"]


def test_a_writer_that_writes_nothing_leaves_the_previous_file(tmp_path):
    path = tmp_path / "sprite.png"
    path.write_bytes(b"previous")
    with pytest.raises(FileNotFoundError, match="Expected the writer of"):
        with atomic.replacing(path):
            pass
    assert path.read_bytes() == b"previous"


def test_writes_are_whole_and_temporaries_per_process_or_per_thread(tmp_path):
    path = tmp_path / "a.npz"
    atomic.write_bytes(path, b"\x00" * 10)
    atomic.write_text(path, "é")
    assert path.read_text(encoding="utf-8") == "é"
    assert atomic.temporary_path(path).name == f".a.npz.{os.getpid()}.tmp"
    ident = threading.get_ident()
    assert atomic.temporary_path(path, per_thread=True).name == \
        f".a.npz.{os.getpid()}.{ident}.tmp"
    assert sorted(os.listdir(tmp_path)) == ["a.npz"]

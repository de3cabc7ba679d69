"""Every demo notebook runs headless (nbclient) with ``GENWIDGETS_DEMO_SMALL=1``.

Each run appends one cell that reports, as JSON, what the demo must have produced
(the loss went down, the path has N items, the plugin was found ...); the test reads
it from the cell's output. The demos are committed without outputs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

DEMOS = Path(__file__).resolve().parents[1] / "demos"

# The last cell each run adds: what the demo holds at the end, as one JSON line.
REPORTS = {
    "01_quickstart.ipynb": """\
import json
print(json.dumps({"state": run.state, "epochs": len(run.epoch_history),
                  "first": run.epoch_history[0]["loss"], "last": run.epoch_history[-1]["loss"],
                  "path": len(strip.images), "a": latent_map.a.index, "b": latent_map.b.index,
                  "map_points": len(latent_map.z), "samples": len(run.preview(4)),
                  "epochs_saved": latent_map.epochs}))""",
    "02_text.ipynb": """\
import json
print(json.dumps({"vae": vae.state, "transformer": transformer.state,
                  "vae_path": len(text_path.lines), "tf_path": len(tf_path.lines),
                  "lines_are_text": all(isinstance(s, str) for s in tf_path.lines),
                  "a": text_path.sentence_a.value, "first": sentences[0]}))""",
    "03_gan.ipynb": """\
import json
print(json.dumps({"state": run.state, "paused_at": paused_at, "steps": run.steps,
                  "total": run.total_steps, "lr": run.model.gan_config.learning_rate,
                  "losses": sorted(run.history[-1])}))""",
    "04_write_a_plugin.ipynb": """\
import json
print(json.dumps({"plugins": [p.name for p in registry.plugins if p.status == "ok"],
                  "dist": [p.distribution for p in registry.plugins if p.name == "tinyae"],
                  "reload": report["reload"], "state": run.state,
                  "choices": list(studio.model_choice.options),
                  "explore": [type(v).__name__ for v in studio.explore_box.children]}))""",
}


def run_demo(name: str, tmp_path: Path, monkeypatch) -> tuple[nbformat.NotebookNode, dict]:
    monkeypatch.setenv("GENWIDGETS_DEMO_SMALL", "1")
    notebook = nbformat.read(DEMOS / name, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(REPORTS[name]))
    client = NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    stdout = "".join(out.get("text", "") for out in notebook.cells[-1].outputs
                     if out.get("name") == "stdout")
    return notebook, json.loads(stdout.strip().splitlines()[-1])


def test_demos_are_committed_without_outputs():
    names = sorted(p.name for p in DEMOS.glob("*.ipynb"))
    assert names == sorted(REPORTS)
    for name in names:
        notebook = nbformat.read(DEMOS / name, as_version=4)
        nbformat.validate(notebook)
        assert notebook.cells[1].source.startswith("import os"), name
        assert "GENWIDGETS_DEMO_SMALL" in notebook.cells[1].source, name
        for cell in notebook.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, name


def test_demo_generator_matches_the_notebooks(tmp_path):
    sys.path.insert(0, str(DEMOS))
    try:
        import _make
    finally:
        sys.path.remove(str(DEMOS))
    for name, cells in _make.DEMOS.items():
        fresh = _make.notebook(cells)
        committed = nbformat.read(DEMOS / name, as_version=4)
        assert [c.source for c in fresh.cells] == [c.source for c in committed.cells], (
            f"{name} differs from demos/_make.py: run .venv/bin/python demos/_make.py")


def _errors(notebook) -> list[str]:
    return [f"{out.ename}: {out.evalue}" for cell in notebook.cells
            if cell.cell_type == "code" for out in cell.outputs
            if out.output_type == "error"]


def _widget_views(notebook) -> int:
    return sum("application/vnd.jupyter.widget-view+json" in out.get("data", {})
               for cell in notebook.cells if cell.cell_type == "code"
               for out in cell.outputs)


@pytest.mark.slow
def test_quickstart_trains_and_walks_a_path(tmp_path, monkeypatch):
    notebook, got = run_demo("01_quickstart.ipynb", tmp_path, monkeypatch)
    assert not _errors(notebook)
    assert got["state"] == "finished" and got["epochs"] == 3
    assert got["last"] < got["first"], got
    assert got["path"] == 8 and got["a"] != got["b"]
    assert got["map_points"] == 1797 and got["samples"] == 4
    assert got["epochs_saved"] == [0, 1, 2, 3]  # the timeline: before training, each epoch
    assert (tmp_path / "runs" / "quickstart-vae" / "model.keras").is_file()
    assert _widget_views(notebook) == 3  # panel, map + strip, samples


@pytest.mark.slow
def test_text_demo_decodes_sentence_paths(tmp_path, monkeypatch):
    notebook, got = run_demo("02_text.ipynb", tmp_path, monkeypatch)
    assert not _errors(notebook)
    assert got["vae"] == got["transformer"] == "finished"
    assert got["vae_path"] == got["tf_path"] == 6
    assert got["lines_are_text"] and got["a"] == got["first"]
    assert _widget_views(notebook) == 4


@pytest.mark.slow
def test_gan_demo_pauses_steps_and_changes_the_rate(tmp_path, monkeypatch):
    notebook, got = run_demo("03_gan.ipynb", tmp_path, monkeypatch)
    assert not _errors(notebook)
    assert got["state"] == "finished"
    assert got["paused_at"] == 10  # step(10) from idle pauses after exactly ten
    assert got["steps"] == got["total"] == 3 * (1797 // 32)
    assert got["lr"] == pytest.approx(5e-5)
    assert {"d_loss", "g_loss"} <= set(got["losses"])
    stepped = [out.text for cell in notebook.cells for out in cell.get("outputs", [])
               if out.get("name") == "stdout" and "stepped from" in out.text]
    assert stepped == [f"stepped from {got['paused_at']} to {got['paused_at'] + 5}\n"]


@pytest.mark.slow
def test_plugin_demo_declares_checks_and_shows_a_third_party_model(tmp_path, monkeypatch):
    notebook, got = run_demo("04_write_a_plugin.ipynb", tmp_path, monkeypatch)
    assert not _errors(notebook)
    assert "tinyae" in got["plugins"] and got["dist"] == ["tinyae"]
    assert got["reload"] == "same decode"
    assert "linear_ae" in got["choices"] and got["state"] == "finished"
    # no samples: the plugin does not claim them
    assert got["explore"] == ["LatentMap", "InterpolationStrip", "AttributeStrip"]

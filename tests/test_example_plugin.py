"""The example plugin to copy (examples/tinyae, its own pyproject.toml) installs with pip,
is discovered through its entry point and passes the contract check, reload included,
from the command line as its author would run it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "tinyae"


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    target = tmp_path_factory.mktemp("site")
    source = shutil.copytree(EXAMPLE, tmp_path_factory.mktemp("src") / "tinyae")  # builds there
    done = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                           "--no-build-isolation", "--target", str(target), str(source)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (target / "tinyae" / "model.py").is_file()
    assert list(target.glob("tinyae-0.1.0.dist-info/entry_points.txt"))
    return {**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [str(target), os.environ.get("PYTHONPATH")]))}


def genwidgets(env, *args):
    return subprocess.run([sys.executable, "-m", "genwidgets.cli", *args], env=env,
                          capture_output=True, text=True, timeout=600)


def test_the_installed_example_is_listed_with_its_distribution(installed):
    rows = json.loads(genwidgets(installed, "plugins", "--json").stdout)
    row = next(r for r in rows if r["name"] == "linear_ae")
    assert (row["distribution"], row["version"], row["status"]) == ("tinyae", "0.1.0", "ok")
    assert {r["name"] for r in rows} >= {"ae", "vae", "gan", "transformer", "linear_ae"}


def test_the_installed_example_passes_the_contract_check(installed):
    done = genwidgets(installed, "plugins", "--check", "linear_ae", "--reload")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "linear_ae" in done.stdout and "failed" not in done.stdout


def test_the_example_is_the_code_the_plugin_demo_writes():
    demo = json.loads((Path(__file__).resolve().parents[1] / "demos"
                       / "04_write_a_plugin.ipynb").read_text())
    sources = ["".join(c["source"]) for c in demo["cells"] if c["cell_type"] == "code"]
    for name in ("__init__.py", "model.py"):
        code = (EXAMPLE / "tinyae" / name).read_text().rstrip("\n")
        assert any(s.endswith(code) and f"tinyae/{name}" in s.splitlines()[0]
                   for s in sources), name

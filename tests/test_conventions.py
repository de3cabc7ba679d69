"""Packaging conventions: ``genwidgets --version``, ``python -m genwidgets``, one version,
and a ``pyproject.toml`` that says what it is (classifiers, SPDX licence, extras by use)
and bounds the libraries whose private parts genwidgets uses."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.licenses import canonicalize_license_expression
from packaging.requirements import Requirement

import genwidgets

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT = PYPROJECT["project"]
BIN = Path(sys.executable).parent

# genwidgets' reach into a library's private parts: a pattern in its own source, the
# distribution that must then carry an upper bound in pyproject.toml
PRIVATE_USES = {
    "keras": re.compile(r"\bkeras\.src\b"),
    "plotly": re.compile(r"\b(?:figure|fig)\.(?:_data|_layout_obj|_widget_data|_widget_layout)"
                         r"\b|\bfigure\._trait_values\b"),
}


def run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("command", [[str(BIN / "genwidgets")],
                                     [sys.executable, "-m", "genwidgets"]],
                         ids=["genwidgets", "python -m genwidgets"])
def test_version_is_printed_by_both_commands(command):
    proc = run(*command, "--version")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"genwidgets {genwidgets.__version__}"


def test_python_m_genwidgets_is_the_command():
    proc = run(sys.executable, "-m", "genwidgets", "plugins")
    assert proc.returncode == 0, proc.stderr
    assert any(line.split()[:2] == ["ae", "model"] for line in proc.stdout.splitlines())
    bare = run(sys.executable, "-m", "genwidgets")
    assert bare.returncode == 2
    assert bare.stderr.startswith("usage: genwidgets ") and "{plugins,train" in bare.stderr


def test_the_version_is_written_in_one_place():
    from setuptools.config.expand import read_attr

    assert "version" not in PROJECT and "version" in PROJECT["dynamic"]
    attr = PYPROJECT["tool"]["setuptools"]["dynamic"]["version"]["attr"]
    assert attr == "genwidgets.__version__"
    assert read_attr(attr, root_dir=ROOT) == genwidgets.__version__  # what a build reads
    assert re.fullmatch(r"\d+\.\d+\.\d+(\.dev\d+|rc\d+)?", genwidgets.__version__)
    written = [str(p.relative_to(ROOT)) for p in (ROOT / "genwidgets").rglob("*.py")
               if re.search(r"^__version__\s*=", p.read_text(encoding="utf-8"), re.M)]
    assert written == ["genwidgets/__init__.py"]


def test_licence_is_an_spdx_expression_with_its_files():
    expression = PROJECT["license"]
    assert isinstance(expression, str)  # PEP 639, not the old table
    assert canonicalize_license_expression(expression) == expression
    for path in PROJECT["license-files"]:
        assert (ROOT / path).is_file(), path
    assert "WordNet" in expression  # the shipped sentences keep their licence


def test_classifiers_are_known_and_say_no_licence():
    from trove_classifiers import classifiers as known

    listed = PROJECT["classifiers"]
    assert listed and not set(listed) - known, set(listed) - known
    assert not [c for c in listed if c.startswith("License ::")]  # the expression says it
    oldest = PROJECT["requires-python"].removeprefix(">=")  # the oldest Python it takes
    assert f"Programming Language :: Python :: {oldest}" in listed


def test_extras_are_split_by_use_and_dev_is_all_of_them():
    extras = PROJECT["optional-dependencies"]
    assert {"app", "test", "browser", "docs", "dev"} <= set(extras)
    names = {extra: {Requirement(r).name for r in reqs} for extra, reqs in extras.items()}
    assert {"voila"} <= names["app"]
    assert {"pytest", "hypothesis", "nbclient"} <= names["test"]
    assert {"playwright", "jupyterlab"} <= names["browser"]
    assert {"playwright", "jupyterlab"} <= names["docs"]
    (dev,) = extras["dev"]
    assert Requirement(dev).name == "genwidgets"
    assert Requirement(dev).extras == set(extras) - {"dev"}
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert 'pip install -q -e ".[dev]"' in makefile


def private_users(distribution: str) -> list[str]:
    pattern = PRIVATE_USES[distribution]
    return sorted(str(p.relative_to(ROOT)) for folder in ("genwidgets", "plugins")
                  for p in (ROOT / folder).rglob("*.py")
                  if pattern.search(p.read_text(encoding="utf-8")))


@pytest.mark.parametrize("distribution", sorted(PRIVATE_USES))
def test_libraries_used_privately_have_an_upper_bound_that_admits_this_one(distribution):
    requirement = next(Requirement(r) for r in PROJECT["dependencies"]
                       if Requirement(r).name == distribution)
    users = private_users(distribution)
    if not users:
        pytest.skip(f"nothing in genwidgets uses {distribution}'s private parts now")
    assert any(s.operator in ("<", "<=", "~=", "==") for s in requirement.specifier), (
        f"{users} use private parts of {distribution}: bound it in pyproject.toml "
        f"(Received: {requirement})")
    installed = importlib.metadata.version(distribution)
    assert requirement.specifier.contains(installed, prereleases=True), (requirement, installed)


def test_the_private_parts_used_are_there_in_the_installed_versions():
    """Fails first when an upgrade within the bounds moves what genwidgets reaches into."""
    import plotly.graph_objects as go
    from keras.src.backend.jax.distribution_lib import initialize_rng
    from keras.src.utils.python_utils import pythonify_logs

    assert callable(initialize_rng) and pythonify_logs({"a": 1}) == {"a": 1}
    figure = go.FigureWidget(data=[go.Scatter(x=[1], y=[2])])
    assert figure._data[0]["x"] == [1] and isinstance(figure._layout_obj._props, dict)
    assert "_widget_data" in figure._trait_values and "_widget_layout" in figure._trait_values


def test_ruff_finds_no_unused_or_undefined_name():
    """pyflakes' checks over the package, the plugins, the tests and the benchmarks (the
    rules in pyproject.toml's [tool.ruff]; ruff is in the test extra)."""
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "--output-format", "concise",
                           "genwidgets", "plugins", "tests", "benchmarks", "demos", "docs", "examples"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_plugin_contract_type_checks():
    """mypy over the modules a plugin author reads and calls ([tool.mypy] files; mypy is
    in the test extra)."""
    done = subprocess.run([sys.executable, "-m", "mypy", "--no-error-summary"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr

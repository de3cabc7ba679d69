"""docs/reliability.md: every test it names exists, every promise names a test or says it has
none, and the promises it must cover are there. Also the static check behind its "no pickle,
safe_mode" promise: no code under genwidgets/ or plugins/ unpickles a file."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "reliability.md"
REF = re.compile(r"(tests/[\w/]+\.py)::(\w+)")
UNTESTED = "not yet tested"
WORDS = ["checkpoint", "resume", "SIGKILL", "NaN", "plugin", "safe_mode", "127.0.0.1", "soak"]


def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


def references(text: str) -> list[tuple[str, str]]:
    return sorted(set(REF.findall(text)))


def promise_lines(text: str) -> list[str]:
    """The bullet lines under the ``##`` sections (the title and intro carry no promise)."""
    lines, in_sections = [], False
    for line in text.splitlines():
        if line.startswith("## "):
            in_sections = True
        elif in_sections and line.startswith("- "):
            lines.append(line)
    return lines


@cache
def defined_functions(path: str) -> frozenset[str]:
    """Names of the test functions a file defines, read with ``ast`` (never imported)."""
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"), filename=path)
    bodies = [tree.body] + [node.body for node in tree.body if isinstance(node, ast.ClassDef)]
    return frozenset(node.name for body in bodies for node in body
                     if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)))


def test_the_doc_names_enough_tests():
    refs = references(doc_text())
    assert len(refs) >= 30, refs  # guards against a pattern that silently matches nothing
    assert len({path for path, _ in refs}) >= 8


@pytest.mark.parametrize("path, name", references(doc_text()),
                         ids=[f"{p}::{n}" for p, n in references(doc_text())])
def test_each_named_test_exists(path, name):
    assert (ROOT / path).is_file(), f"{path} named in docs/reliability.md does not exist"
    assert name.startswith("test_"), f"{path}::{name} is not a test function"
    assert name in defined_functions(path), (
        f"{path} defines no function {name!r}, yet docs/reliability.md names it")


def test_every_promise_names_a_test_or_says_it_has_none():
    lines = promise_lines(doc_text())
    assert len(lines) >= 30, lines
    bare = [line for line in lines if not REF.search(line) and UNTESTED not in line]
    assert not bare, "promises naming no test and not marked 'not yet tested':\n" + \
        "\n".join(bare)


@pytest.mark.parametrize("word", WORDS)
def test_the_doc_covers(word):
    assert word in doc_text(), f"docs/reliability.md never mentions {word!r}"


PICKLERS = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "joblib", "shelve"}


def _sources():
    for folder in ("genwidgets", "plugins"):
        yield from sorted((ROOT / folder).rglob("*.py"))


def _is_np_load(func: ast.expr) -> bool:
    return (isinstance(func, ast.Attribute) and func.attr == "load"
            and isinstance(func.value, ast.Name) and func.value.id in ("np", "numpy"))


def _keyword(call: ast.Call, name: str):
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    return None


def test_no_user_file_is_unpickled_and_models_load_in_safe_mode():
    problems, keras_loads = [], 0
    for path in _sources():
        where = path.relative_to(ROOT)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                problems += [f"{where}:{node.lineno} imports {a.name}" for a in node.names
                             if a.name.split(".")[0] in PICKLERS]
            elif isinstance(node, ast.ImportFrom) and node.module:
                if node.module.split(".")[0] in PICKLERS:
                    problems.append(f"{where}:{node.lineno} imports from {node.module}")
            elif isinstance(node, ast.Call):
                if _is_np_load(node.func):
                    flag = _keyword(node, "allow_pickle")
                    if flag is not None and not (isinstance(flag, ast.Constant)
                                                 and flag.value is False):
                        problems.append(f"{where}:{node.lineno} np.load may allow pickle")
                elif isinstance(node.func, ast.Attribute) and node.func.attr == "load_model":
                    keras_loads += 1
                    safe = _keyword(node, "safe_mode")
                    if not (isinstance(safe, ast.Constant) and safe.value is True):
                        problems.append(f"{where}:{node.lineno} load_model without "
                                        "safe_mode=True")
                elif isinstance(node.func, ast.Attribute) and node.func.attr == "read_pickle":
                    problems.append(f"{where}:{node.lineno} calls read_pickle")
    assert not problems, "\n".join(problems)
    assert keras_loads >= 2  # the checkpoint loader and the saved-run loader were seen

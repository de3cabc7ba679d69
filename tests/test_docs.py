"""Every hook is documented with its signature in docs/plugin-guide.md, and tested."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from genwidgets import hookspecs

ROOT = Path(__file__).resolve().parents[1]
HOOKS = sorted(name for name, fn in vars(hookspecs).items()
               if callable(fn) and hasattr(fn, f"{hookspecs.PROJECT}_spec"))


def test_there_are_hooks():
    assert {"register_models", "register_datasets"} <= set(HOOKS)


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_documented_with_its_signature(hook):
    guide = (ROOT / "docs" / "plugin-guide.md").read_text(encoding="utf-8")
    signature = f"### `{hook}{inspect.signature(getattr(hookspecs, hook))}`"
    assert signature in guide, f"docs/plugin-guide.md needs a section {signature!r}"


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_tested_through_a_plugin(hook):
    tests = [p for p in (ROOT / "tests").glob("test_*.py") if p.name != "test_docs.py"]
    using = [p.name for p in tests if f"def {hook}(" in p.read_text(encoding="utf-8")]
    assert using, f"no test implements the hook {hook!r} in a plugin"

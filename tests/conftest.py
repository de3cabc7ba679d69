"""Fixtures many test modules share."""

from __future__ import annotations

import textwrap
import uuid

import pytest


@pytest.fixture
def make_dist(tmp_path, monkeypatch):
    """Install a distribution by writing its dist-info and module onto sys.path."""
    monkeypatch.syspath_prepend(str(tmp_path))

    def make(body: str, *, entry: str | None = None, dist: str = "toyplug", version="1.2.3"):
        module = f"toy_{uuid.uuid4().hex[:8]}"
        (tmp_path / f"{module}.py").write_text(textwrap.dedent(body))
        info = tmp_path / f"{dist}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        (info / "entry_points.txt").write_text(f"[genwidgets]\n{entry or module} = {module}\n")
        return entry or module

    return make

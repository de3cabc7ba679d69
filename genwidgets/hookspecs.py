"""The hooks a genwidgets plugin may implement (keyword arguments only)."""

from __future__ import annotations

import pluggy

PROJECT = "genwidgets"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def register_models():
    """Return a list of ``ModelSpec`` subclasses this plugin provides."""


@hookspec
def register_datasets():
    """Return a list of ``DatasetSpec`` instances this plugin provides."""

"""ipywidgets and Plotly views over the registry, runs and latents.

Importing this package imports neither Keras, JAX nor Plotly: each view is loaded when
first named, and the views meet models only through a :class:`genwidgets.training.Run`
and the registry.
"""

from __future__ import annotations

import importlib

_VIEWS = {
    "AttributeStrip": "genwidgets.widgets.attribute_strip",
    "ConfigForm": "genwidgets.widgets.config_form",
    "InterpolationStrip": "genwidgets.widgets.interpolation_strip",
    "LatentMap": "genwidgets.widgets.latent_map",
    "LossPlot": "genwidgets.widgets.loss_plot",
    "PluginBrowser": "genwidgets.widgets.plugin_browser",
    "RunsTable": "genwidgets.widgets.runs_table",
    "SampleGrid": "genwidgets.widgets.samples",
    "SampleList": "genwidgets.widgets.samples",
    "Studio": "genwidgets.widgets.studio",
    "TextPath": "genwidgets.widgets.text_path",
    "TrainPanel": "genwidgets.widgets.train_panel",
}

__all__ = sorted(_VIEWS)


def __getattr__(name: str):
    if name in _VIEWS:
        value = getattr(importlib.import_module(_VIEWS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'genwidgets.widgets' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)

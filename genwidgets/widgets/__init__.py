"""ipywidgets and Plotly views over the registry, runs and latents."""

from genwidgets.widgets.plugin_browser import PluginBrowser

__all__ = ["PluginBrowser"]

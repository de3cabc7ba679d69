"""PluginBrowser, headless: the widget tree and its state over a real Registry."""

from __future__ import annotations

import subprocess
import sys
import types

import genwidgets  # noqa: F401  (sets the backend before anything else)
import ipywidgets as widgets
import pytest

from genwidgets import DatasetSpec, ModelSpec, hookimpl
from genwidgets.registry import Registry
from genwidgets.widgets import PluginBrowser
from tests.helpers import walk, with_class


class ToySpec(ModelSpec):
    name = "toy_ae"
    family = "ae"
    modalities = ("image", "text")


def _good_plugin() -> types.ModuleType:
    module = types.ModuleType("toy_plugin")

    @hookimpl
    def register_models():
        return [ToySpec]

    @hookimpl
    def register_datasets():
        return [DatasetSpec("toy_images", "image", lambda **_: None, "three tiny images")]

    module.register_models = register_models
    module.register_datasets = register_datasets
    return module


def _broken_plugin() -> types.ModuleType:
    module = types.ModuleType("broken_plugin")

    @hookimpl
    def register_models():
        raise ValueError("weights file <missing> & unreadable")

    module.register_models = register_models
    return module


def _registry(*plugins) -> Registry:
    registry = Registry(strict=False, blocked=set())
    for name, load, dist, version in plugins:
        registry.add_plugin(name, load, dist, version)
    return registry


def _html(widget: widgets.Widget) -> str:
    """All HTML values under ``widget``, read through ``get_state()`` like the front end."""
    return "\n".join(
        w.get_state()["value"] for w in walk(widget) if isinstance(w, widgets.HTML)
    )


@pytest.fixture
def browser() -> PluginBrowser:
    registry = _registry(
        ("toy", _good_plugin, "toy-dist", "1.2.3"),
        ("broken", _broken_plugin, "broken-dist", "0.0.1"),
    )
    return PluginBrowser(registry)


def test_root_is_a_box_with_the_browser_class(browser):
    assert isinstance(browser, widgets.VBox)
    assert "gw-plugin-browser" in browser.get_state()["_dom_classes"]


def test_model_row_shows_name_family_modalities_distribution_version_status(browser):
    (row,) = with_class(browser, "gw-plugin-row")
    cells = {
        cls.removeprefix("gw-plugin-"): w.get_state()["value"]
        for w in row.children
        for cls in w.get_state()["_dom_classes"]
    }
    assert cells == {
        "name": "toy_ae",
        "family": "ae",
        "modalities": "image, text",
        "distribution": "toy-dist",
        "version": "1.2.3",
        "status": "ok",
    }


def test_dataset_row_is_listed(browser):
    (row,) = with_class(browser, "gw-dataset-row")
    assert "toy_images" in _html(row)
    assert "toy_images" not in _html(with_class(browser, "gw-plugin-row")[0])


def test_failed_plugin_shows_error_hook_and_collapsed_traceback(browser):
    (block,) = with_class(browser, "gw-plugin-failed")
    text = _html(block)
    assert "broken" in text and "broken-dist" in text and "0.0.1" in text
    assert "register_models" in text
    assert "ValueError: weights file &lt;missing&gt; &amp; unreadable" in text
    assert "<missing>" not in text  # plugin-provided text is escaped
    assert "<details><summary>Traceback</summary>" in text
    assert "Traceback (most recent call last)" in text
    assert "#b00020" in text  # drawn in red
    summary = _html(with_class(browser, "gw-plugin-summary")[0])
    assert "1 models" in summary.replace("<b>", "").replace("</b>", "")
    assert "1 failed plugin" in summary


def test_import_failure_is_reported_with_hook_import():
    def load():
        raise ImportError("No module named 'torch_but_not_here'")

    view = PluginBrowser(_registry(("needs_torch", load, "needs-torch", "2.0")))
    (block,) = with_class(view, "gw-plugin-failed")
    text = _html(block)
    assert "needs_torch" in text
    assert "<code>import</code>" in text
    assert "ImportError: No module named &#x27;torch_but_not_here&#x27;" in text
    assert with_class(view, "gw-plugin-row") == []
    assert "No models are registered." in _html(view)


def test_healthy_registry_has_no_failure_section():
    view = PluginBrowser(_registry(("toy", _good_plugin, "toy-dist", "1.2.3")))
    assert with_class(view, "gw-plugin-failed") == []
    assert "Failed plugins" not in _html(view)


def test_blocked_plugin_is_named():
    registry = Registry(strict=False, blocked={"toy"})
    registry.add_plugin("toy", _good_plugin, "toy-dist", "1.2.3")
    view = PluginBrowser(registry)
    assert "Blocked by GENWIDGETS_DISABLE_PLUGINS: toy" in _html(view)
    assert with_class(view, "gw-plugin-row") == []


def test_refresh_shows_plugins_added_later():
    registry = _registry()
    view = PluginBrowser(registry)
    assert with_class(view, "gw-plugin-row") == []
    registry.add_plugin("toy", _good_plugin, "toy-dist", "1.2.3")
    view.refresh()
    assert len(with_class(view, "gw-plugin-row")) == 1


def test_rejects_a_registry_of_the_wrong_type():
    with pytest.raises(TypeError, match="Expected `registry` to be a genwidgets.registry.Registry"):
        PluginBrowser(registry={"ae": None})


def test_default_registry_lists_ae_and_digits_without_importing_keras():
    code = (
        "import sys, genwidgets\n"
        "from genwidgets.widgets import PluginBrowser\n"
        "def walk(w):\n"
        "    yield w\n"
        "    for c in getattr(w, 'children', ()):\n"
        "        yield from walk(c)\n"
        "view = PluginBrowser()\n"
        "print(' '.join(w.value for w in walk(view) if 'gw-plugin-name' in w._dom_classes))\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('keras', 'jax', 'plotly')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    ).stdout.splitlines()
    assert {"ae", "digits"} <= set(out[0].split())
    assert out[1] == "[]"

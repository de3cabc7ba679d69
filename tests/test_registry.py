"""Plugin discovery through real entry points: a fake ``*.dist-info`` on ``sys.path``."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import uuid

import pytest

from genwidgets.plugins import PluginError, Registry, UnknownNameError

BUILTIN_MODELS = {"ae", "vae", "gan", "transformer"}

GOOD = """
import dataclasses
from genwidgets import hookimpl, ModelSpec, DatasetSpec

class ToySpec(ModelSpec):
    name = "{model}"
    family = "toy"
    modalities = ("image",)

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Config:
        width: int = 3

@hookimpl
def register_models():
    return [ToySpec]

@hookimpl
def register_datasets():
    return [DatasetSpec("{model}_data", "image", lambda: None, "toy data")]
"""


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


def discover(**kwargs) -> Registry:
    return Registry(**{"strict": False, "blocked": set(), **kwargs}).discover()


def test_builtin_plugins_register_through_entry_points():
    reg = discover()
    assert BUILTIN_MODELS <= set(reg.models), reg.failures
    assert {"digits", "mnist", "fashion_mnist", "text", "python_docs"} <= set(reg.datasets)
    assert not reg.failures, [f.error for f in reg.failures]
    ae = next(p for p in reg.plugins if p.name == "ae")
    assert (ae.distribution, ae.status, ae.models) == ("genwidgets", "ok", ["ae"])


def test_good_third_party_plugin_is_found_with_its_distribution(make_dist):
    name = make_dist(GOOD.format(model="toy"), dist="toyplug", version="1.2.3")
    reg = discover()
    assert reg.model("toy").family == "toy"
    assert "toy_data" in reg.datasets
    row = next(r for r in reg.rows() if r["name"] == "toy")
    assert (row["plugin"], row["distribution"], row["version"], row["status"]) == (
        name, "toyplug", "1.2.3", "ok")


def test_plugin_broken_on_import_is_recorded_and_the_rest_work(make_dist):
    name = make_dist("import not_a_module_anywhere\n")
    reg = discover()
    assert BUILTIN_MODELS <= set(reg.models)
    (failure,) = reg.failures
    assert failure.plugin == name and failure.hook is None
    assert "ModuleNotFoundError" in failure.error and "not_a_module_anywhere" in failure.error
    assert "Traceback" in failure.traceback
    assert failure.distribution == "toyplug" and failure.version == "1.2.3"


def test_raising_hook_is_recorded(make_dist):
    make_dist("""
        from genwidgets import hookimpl
        @hookimpl
        def register_models():
            raise RuntimeError("model zoo on fire")
    """)
    reg = discover()
    (failure,) = reg.failures
    assert failure.hook == "register_models"
    assert "RuntimeError: model zoo on fire" in failure.error
    assert BUILTIN_MODELS <= set(reg.models)


@pytest.mark.parametrize("returned, message", [
    ("{'a': 1}", "must return a list"),
    ("[object]", "ModelSpec subclasses"),
    ("[BadName]", "lowercase identifier"),
])
def test_wrong_return_is_recorded(make_dist, returned, message):
    make_dist(f"""
        from genwidgets import hookimpl, ModelSpec
        class BadName(ModelSpec):
            name = "Bad Name"
            family = "x"
        @hookimpl
        def register_models():
            return {returned}
    """)
    reg = discover()
    (failure,) = reg.failures
    assert message in failure.error
    assert failure.hook == "register_models"


def test_duplicate_model_name_is_recorded_and_first_wins(make_dist):
    make_dist(GOOD.format(model="ae"))
    reg = discover()
    assert reg.model("ae").family == "ae"  # the built-in one stays
    (failure,) = reg.failures
    assert "'ae' is already registered by plugin 'ae'" in failure.error


def test_blocked_plugins_and_models(make_dist, monkeypatch):
    name = make_dist(GOOD.format(model="toy"))
    monkeypatch.setenv("GENWIDGETS_DISABLE_PLUGINS", f"{name}, gan")
    reg = Registry(strict=False).discover()
    assert "toy" not in reg.models and "gan" not in reg.models
    assert "ae" in reg.models
    assert any(r["status"] == "blocked" and r["name"] == name for r in reg.rows())


def test_strict_mode_raises_naming_plugin_and_hook(make_dist, monkeypatch):
    name = make_dist("""
        from genwidgets import hookimpl
        @hookimpl
        def register_models():
            return "nope"
    """)
    monkeypatch.setenv("GENWIDGETS_STRICT_PLUGINS", "1")
    with pytest.raises(PluginError, match=rf"plugin '{name}' in hook register_models .*"
                                          r"must return a list"):
        Registry().discover()


def test_unknown_name_suggests_the_closest():
    reg = discover()
    with pytest.raises(UnknownNameError, match="Unknown model 'vea'.*Did you mean 'vae'"):
        reg.model("vea")
    with pytest.raises(UnknownNameError, match="Unknown dataset 'digit'"):
        reg.dataset("digit")


def test_listing_plugins_imports_neither_keras_nor_jax():
    code = ("import sys, json; from genwidgets.plugins import get_registry; r = get_registry(); "
            "print(json.dumps([sorted(r.models), 'keras' in sys.modules, 'jax' in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    models, keras_loaded, jax_loaded = json.loads(out.stdout)
    assert BUILTIN_MODELS <= set(models)
    assert not keras_loaded and not jax_loaded

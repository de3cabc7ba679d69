"""Plugin discovery through real entry points: a fake ``*.dist-info`` on ``sys.path``."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from genwidgets.registry import PluginError, Registry, UnknownNameError
from tests.helpers import html_of
from tests.plugin_fixtures import BROKEN_MODELS, BUILTIN_MODELS, GOOD, discover

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
    code = ("import sys, json; from genwidgets.registry import get_registry; r = get_registry(); "
            "print(json.dumps([sorted(r.models), 'keras' in sys.modules, 'jax' in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    models, keras_loaded, jax_loaded = json.loads(out.stdout)
    assert BUILTIN_MODELS <= set(models)
    assert not keras_loaded and not jax_loaded


def test_allow_list_loads_only_the_named_plugins_and_never_imports_others(make_dist,
                                                                          monkeypatch):
    name = make_dist("raise SystemExit('imported although not allowed')\n")
    monkeypatch.setenv("GENWIDGETS_ALLOW_PLUGINS", "ae, vae")
    reg = Registry(strict=False, blocked=set()).discover()
    assert set(reg.models) == {"ae", "vae"} and not reg.failures
    assert "digits" in reg.datasets  # the built-in datasets always load
    blocked = {r["name"]: r["error"] for r in reg.rows() if r["status"] == "blocked"}
    assert blocked == {n: "not in GENWIDGETS_ALLOW_PLUGINS"
                       for n in ("gan", "transformer", "cvae", "cgan", name)}


def test_deny_list_wins_over_the_allow_list(monkeypatch):
    monkeypatch.setenv("GENWIDGETS_ALLOW_PLUGINS", "ae,vae")
    monkeypatch.setenv("GENWIDGETS_DISABLE_PLUGINS", "vae")
    reg = Registry(strict=False).discover()
    assert set(reg.models) == {"ae"}
    row = next(r for r in reg.rows() if r["name"] == "vae")
    assert (row["status"], row["error"]) == ("blocked", "GENWIDGETS_DISABLE_PLUGINS")


def test_check_names_a_raising_build_and_a_wrong_encode_and_the_rest_pass(make_dist):
    name = make_dist(BROKEN_MODELS)
    reg = discover()
    results = {r.model: r for r in reg.check(["broken_build", "wrong_encode", "ae"])}
    assert results["ae"].ok
    assert (results["broken_build"].stage, results["broken_build"].error) == (
        "build()", "RuntimeError: no weights for you")
    assert results["wrong_encode"].stage == "encode"
    assert results["wrong_encode"].error == (
        "AssertionError: encode: expected shape (5, 2). Received: (5, 3)")
    rows = {r["name"]: r for r in reg.rows() if r["kind"] == "model"}
    assert rows["broken_build"]["status"] == "failed" and rows["broken_build"]["plugin"] == name
    assert rows["broken_build"]["error"] == "build() failed: RuntimeError: no weights for you"
    assert "Traceback" in rows["wrong_encode"]["traceback"]
    assert (rows["ae"]["status"], rows["ae"]["check"]) == ("ok", "passed")
    assert rows["vae"].get("check") is None  # not checked: nothing said


def test_cli_check_prints_the_failing_stage_and_fails(make_dist, tmp_path):
    make_dist(BROKEN_MODELS)
    env = {**os.environ,
           "PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    proc = subprocess.run([sys.executable, "-m", "genwidgets.cli", "plugins", "--check",
                           "broken_build", "wrong_encode", "ae"], capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 1, proc.stderr
    assert ("checked broken_build (image) in" in proc.stderr
            and "FAILED in build(): RuntimeError: no weights for you" in proc.stderr)
    assert "FAILED in encode: AssertionError: encode: expected shape (5, 2)" in proc.stderr
    assert "checked ae (image)" in proc.stderr and ": ok" in proc.stderr
    line = next(x for x in proc.stdout.splitlines() if x.startswith("broken_build"))
    assert "failed" in line and "build() failed: RuntimeError: no weights for you" in line
    listing = subprocess.run([sys.executable, "-m", "genwidgets.cli", "plugins"], env=env,
                             capture_output=True, text=True, timeout=120)
    assert listing.returncode == 0  # listing alone builds nothing, so it cannot tell


def test_plugin_browser_check_button_shows_failed_checks(make_dist):
    from genwidgets.widgets import PluginBrowser

    make_dist(BROKEN_MODELS)
    reg = discover()
    view = PluginBrowser(reg)
    assert "Failed checks" not in html_of(view)
    reg.check = lambda names=None, **kw: Registry.check(reg, ["broken_build", "wrong_encode"],
                                                        **kw)
    view.check_button.click()
    text = html_of(view)
    assert "Failed checks" in text and "2 failed checks" in text.replace("<b>", "")
    assert "broken_build</b>" in text and "check failed in <code>build()</code>" in text
    assert "encode: expected shape (5, 2). Received: (5, 3)" in text
    assert "2 models checked" in view.check_status.value
    assert view.check_button.description == "Check models" and not view.check_button.disabled


def test_studio_says_which_model_failed_to_build_instead_of_a_traceback(make_dist, tmp_path):
    from genwidgets.widgets.studio import Studio

    name = make_dist(BROKEN_MODELS)
    studio = Studio("broken_build", "digits", runs=tmp_path, registry=discover())
    assert studio.create_run() is None
    message = studio.message.value
    assert (f"Model &#x27;broken_build&#x27; (plugin &#x27;{name}&#x27;) failed to build: "
            f"RuntimeError: no weights for you.") in message
    assert "Traceback" not in message
    studio.model_choice.value = "ae"  # the others keep working
    assert studio.create_run() is not None



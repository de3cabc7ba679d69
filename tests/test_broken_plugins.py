"""Broken plugins in every surface, and a NaN in one part of a multi-part loss.

Each kind of broken plugin (an import error, a raising hook, a wrong return type, a
duplicate name, a raising ``build()``, an ``encode`` of the wrong shape) is installed as a
real distribution with the ``make_dist`` fixture of ``tests/conftest.py``, then looked
at through each surface: ``genwidgets plugins`` (in-process, with ``--check`` for the kinds
only a check can find), the ``PluginBrowser`` (its Check button for those) and the
``Studio`` (its Plugins tab, or the message beside Create run). Each must name the plugin,
the failing stage and the error, and the built-in models must stay listed and usable.
"""

from __future__ import annotations

import dataclasses
import html
import re

import pytest

import genwidgets  # noqa: F401  (sets the Keras backend before keras is imported)
from genwidgets import ModelSpec
from tests.helpers import html_of, with_class
from tests.plugin_fixtures import BROKEN_MODELS, BUILTIN_MODELS, GOOD, discover

HOOK_RAISES = """
from genwidgets import hookimpl

@hookimpl
def register_models():
    raise RuntimeError("model zoo on fire")
"""

WRONG_RETURN = """
from genwidgets import hookimpl

@hookimpl
def register_models():
    return "nope"
"""


@dataclasses.dataclass(frozen=True)
class Kind:
    body: str
    stage: str  # the hook or check stage the message must name
    error: str  # what the message must say (unescaped)
    model: str | None = None  # a model that only a check (build, one fit step...) finds broken


KINDS = {
    "import_error": Kind("import not_a_module_anywhere\n", "import",
                         "ModuleNotFoundError: No module named 'not_a_module_anywhere'"),
    "raising_hook": Kind(HOOK_RAISES, "register_models", "RuntimeError: model zoo on fire"),
    "wrong_return": Kind(WRONG_RETURN, "register_models",
                         "TypeError: register_models must return a list. Received: str"),
    "duplicate_name": Kind(GOOD.format(model="ae"), "register_models",
                           "ValueError: model name 'ae' is already registered by plugin 'ae'"),
    "raising_build": Kind(BROKEN_MODELS, "build", "RuntimeError: no weights for you",
                          model="broken_build"),
    "wrong_encode": Kind(BROKEN_MODELS, "encode",
                         "encode: expected shape (5, 2). Received: (5, 3)", model="wrong_encode"),
}


def _cli(kind: Kind, plugin: str, tmp_path, monkeypatch, capsys) -> str:
    """``genwidgets plugins`` (``--check MODEL ae`` when only a check finds the fault)."""
    import genwidgets.registry
    from genwidgets.cli import main

    for variable in ("GENWIDGETS_STRICT_PLUGINS", "GENWIDGETS_DISABLE_PLUGINS",
                     "GENWIDGETS_ALLOW_PLUGINS"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setattr(genwidgets.registry, "_REGISTRY", None)  # discover with the new dist
    capsys.readouterr()
    argv = ["plugins"] if kind.model is None else ["plugins", "--check", kind.model, "ae"]
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == (0 if kind.model is None else 1), err
    table = {line.split()[0]: line.split() for line in out.splitlines()[2:] if line.strip()}
    for name in BUILTIN_MODELS:  # still listed, from the built-in distribution, ok
        assert table[name][1:2] == ["model"] and "genwidgets" in table[name], out
        assert "ok" in table[name] and "failed" not in table[name], out
    broken = table[kind.model or plugin]
    assert "failed" in broken, out
    if kind.model is not None:
        assert "checked ae (image) in" in err and "s: ok" in err  # the rest pass
        assert f"checked {kind.model} (image)" in err and f"FAILED in {kind.stage}" in err
    return out + err


def _browser(kind: Kind, plugin: str, tmp_path, monkeypatch, capsys) -> str:
    from genwidgets.widgets import PluginBrowser

    view = PluginBrowser(discover())
    if kind.model is not None:
        view.check([kind.model, "ae"])  # what the Check models button does
        assert "2 models checked" in view.check_status.value
    cells = {}
    for row in with_class(view, "gw-plugin-row"):
        state = {cls.removeprefix("gw-plugin-"): w.value for w in row.children
                 for cls in w._dom_classes}
        cells[state["name"]] = state
    for name in BUILTIN_MODELS:
        assert (cells[name]["distribution"], cells[name]["status"]) == ("genwidgets", "ok")
    blocks = with_class(view, "gw-plugin-failed")
    assert len(blocks) == 1, [b.value for b in blocks]  # the broken one, and only it
    assert "#b00020" in blocks[0].value  # drawn in red
    return html.unescape(html_of(blocks[0]))


def _studio(kind: Kind, plugin: str, tmp_path, monkeypatch, capsys) -> str:
    from genwidgets.widgets.studio import TABS, Studio

    studio = Studio("ae", "digits", runs=tmp_path / "runs", registry=discover())
    plugins_tab = studio.tabs.children[TABS.index("Plugins")]
    assert BUILTIN_MODELS <= set(studio.model_choice.options)
    if kind.stage == "build":  # said beside Create run, without a traceback
        studio.model_choice.value = kind.model
        assert studio.create_run() is None and studio.run is None
        text = html.unescape(studio.message.value)
        assert "Traceback" not in text
    else:
        if kind.model is not None:
            plugins_tab.check([kind.model])  # the Plugins tab's Check models button
        text = html.unescape(html_of(plugins_tab))
    studio.model_choice.value = "ae"  # a built-in model still makes a run
    assert studio.create_run() is not None, studio.message.value
    assert studio.run.spec.name == "ae" and studio.run.spec.family == "ae"
    return text


SURFACES = {"cli": _cli, "plugin_browser": _browser, "studio": _studio}


@pytest.mark.parametrize("surface", SURFACES)
@pytest.mark.parametrize("kind", KINDS)
def test_each_broken_plugin_is_named_in_each_surface(kind, surface, make_dist, tmp_path,
                                                     monkeypatch, capsys):
    what = KINDS[kind]
    plugin = make_dist(what.body)
    text = SURFACES[surface](what, plugin, tmp_path, monkeypatch, capsys)
    # the plugin is named (in the message, not only in a traceback's file path)
    assert re.search(rf"(?<![/\\]){plugin}(?!\.py)", text), text
    assert what.error in text, text
    assert what.stage in text, text
    if what.model is not None:
        assert what.model in text, text


# -- a NaN in one part of a multi-part loss ----------------------------------------------

class _PartsSpec(ModelSpec):
    """A loss of several named parts, each tracked as a metric like the VAE's and GAN's.

    The ``bad`` part is ``log(w)`` while SGD shrinks ``w``: NaN at the fourth step (as
    ``tests/test_run.py``'s ``_ExplodingSpec``); the other parts stay finite.
    """

    name = "parts"
    family = "test"

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Config:
        parts: tuple = ("reconstruction", "kl")
        bad: str = "kl"
        learning_rate: float = 0.3

    def build(self, config, data_info):
        import keras

        class Parts(keras.Model):
            def __init__(self):
                super().__init__()
                self.w = self.add_weight((), initializer="ones")
                self.latent_dim = 1
                self.trackers = {p: keras.metrics.Mean(name=p) for p in config.parts}

            def call(self, x):
                return x

            def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None,
                             training=True):
                finite = 0.5 + 0.0 * keras.ops.mean(y_pred)
                loss = 0.0
                for part, tracker in self.trackers.items():
                    value = keras.ops.log(self.w) if part == config.bad else finite
                    tracker.update_state(value)
                    loss = loss + value
                return loss

        model = Parts()
        model.compile(optimizer=keras.optimizers.SGD(config.learning_rate))
        return model


@pytest.mark.parametrize("parts, bad", [
    pytest.param(("reconstruction", "kl"), "kl", id="vae-kl"),
    pytest.param(("d_loss", "g_loss"), "d_loss", id="gan-d_loss"),
    pytest.param(("reconstruction", "kl"), "reconstruction", id="vae-reconstruction"),
])
def test_a_nan_in_one_part_is_named_by_that_part(parts, bad, tmp_path):
    from genwidgets.training import Run
    from genwidgets.training.checkpoint import load_latest
    from tests.helpers import digits

    spec = _PartsSpec()
    run = Run(spec, digits(16), {"parts": parts, "bad": bad}, epochs=50, batch_size=8,
              out=tmp_path / "nan", checkpoint_every_s=0)  # two steps an epoch
    run.start()
    assert run.wait(60)
    assert run.state == "stopped"
    assert run.message == f"stopped: nan in {bad} at step 4"
    row = run.history[-1]
    assert row["step"] == 4 and all(row[p] == 0.5 for p in parts if p != bad)
    assert load_latest(tmp_path / "nan", spec, load=False).step == 2  # the last good one
    assert not (tmp_path / "nan" / "model.keras").exists()

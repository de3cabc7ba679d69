"""The Studio's screens and messages (issue 17, items 2-7), driven as a person would: real
runs of real models, the buttons clicked, the widgets' state read back."""

from __future__ import annotations

import dataclasses
import html

import pytest

from genwidgets.config import applies, field_help, settings_for
from genwidgets.registry import get_registry
from genwidgets.widgets import Studio
from genwidgets.widgets.config_form import ConfigForm
from genwidgets.widgets.studio import TABS, default_epochs
from genwidgets.widgets.train_panel import status_html, step_rate
from tests.helpers import wait_for

TINY_VAE = {"latent_dim": 2, "hidden": 16, "depth": 1}
TINY_GAN = {"latent_dim": 4, "architecture": "dense", "hidden": 16}


def fill(studio: Studio, values: dict) -> None:
    for name, value in values.items():
        studio.form.fields[name].value = value


def html_of(widget) -> str:
    return widget.get_state()["value"]


# -- item 4: settings that apply to the data, each with its help --------------------------
@pytest.mark.parametrize("name", ["ae", "vae", "gan", "transformer"])
def test_every_builtin_setting_has_help_and_the_form_shows_what_applies(name):
    spec = get_registry().model(name)
    for modality in spec.modalities:
        form = ConfigForm(spec, modality)
        assert list(form.fields) == settings_for(spec.Config, modality)
        for field, widget in form.fields.items():
            text = field_help(spec.Config, field)
            assert text and "\n" not in text, field  # one line each, from the plugin
            assert widget.tooltip == text  # as a tooltip ...
        shown = [html_of(w) for w in form.grid.children if "gw-field-help" in w._dom_classes]
        assert len(shown) == len(form.fields)  # ... and as visible text
        assert all(html.escape(field_help(spec.Config, f)) in h
                   for f, h in zip(form.fields, shown))


def test_the_image_vae_hides_text_settings_and_the_text_vae_image_ones(tmp_path):
    studio = Studio("vae", "digits", runs=tmp_path)
    assert not {"rnn_units", "embed_dim", "word_dropout", "free_bits"} & set(studio.form.fields)
    assert {"architecture", "hidden", "dropout"} <= set(studio.form.fields)
    studio.data_choice.value = "sentences"
    assert {"rnn_units", "embed_dim", "word_dropout"} <= set(studio.form.fields)
    assert not {"architecture", "hidden", "dropout"} & set(studio.form.fields)
    assert not applies(studio.form.spec.Config, "hidden", "text")
    config = studio.form.value()  # a hidden setting keeps its default for the data
    assert config.hidden == 512 and config.latent_dim == 384


def test_settings_while_training_apply_to_the_data_and_say_what_they_do(tmp_path):
    studio = Studio("vae", "digits", runs=tmp_path, epochs=1)
    fill(studio, TINY_VAE)
    studio.create_run()
    widgets = studio.panel.setting_widgets
    assert set(widgets) == {"learning_rate", "beta", "kl_anneal_steps"}  # no text ones
    helps = [w.value for w in studio.panel.settings.children
             if "gw-setting-help" in getattr(w, "value", "")]
    assert any("KL term" in h for h in helps) and widgets["beta"].tooltip


# -- item 3: the GAN's own learning rates say "same as learning_rate" ------------------------
def test_gan_rates_of_zero_say_same_as_learning_rate(tmp_path):
    studio = Studio("gan", "digits", runs=tmp_path, epochs=1)
    fill(studio, TINY_GAN)
    run = studio.create_run()
    panel = studio.panel
    d_rate, box = panel.setting_widgets["d_learning_rate"], panel.same_as["d_learning_rate"]
    assert box.value and box.description == "same as learning_rate" and d_rate.disabled
    assert d_rate.value == pytest.approx(2e-4)  # shows the rate it follows, not 1e-6
    panel.setting_widgets["learning_rate"].value = 1e-3
    assert d_rate.value == pytest.approx(1e-3) and run.config.d_learning_rate == 0
    box.value = False  # its own rate now, starting at learning_rate's
    assert not d_rate.disabled
    d_rate.value = 1e-5
    box.value = True
    assert d_rate.disabled and d_rate.value == pytest.approx(1e-3)


# -- item 3: the status says the state in words, the rate apart ---------------------------
def test_step_rate_measures_slow_runs_and_the_status_names_the_state():
    slow = [{"step": i + 1, "t": 100.0 + 2.0 * i} for i in range(6)]  # 0.5 steps/s
    assert step_rate(slow) == pytest.approx(0.5)  # fewer than 2 rows in 5 s: not 0.0
    assert step_rate(slow[:1]) is None
    snap = {"state": "running", "message": "3.0 steps/s", "step": 6, "total_steps": 60,
            "epoch": 1, "epochs": 10, "rate": 0.0, "eta_s": None}
    line = status_html(snap, step_rate(slow))
    assert ">running</b>" in line and "0.5 steps/s" in line and "0.0 steps/s" not in line
    paused = status_html({**snap, "state": "paused", "message": "paused at step 6"}, 0.5)
    assert ">paused</b>" in paused and "at step 6" in paused and "steps/s" not in paused


def test_a_paused_run_is_named_paused_and_stop_and_create_makes_the_next(tmp_path):
    studio = Studio("vae", "digits", runs=tmp_path, epochs=50, batch_size=32)
    fill(studio, TINY_VAE)
    first = studio.create_run()
    studio.panel.buttons["train"].click()
    wait_for(lambda: first.steps > 5, timeout=120, what="steps")
    studio.panel.buttons["pause"].click()
    wait_for(lambda: first.state == "paused", timeout=60, what="the pause")
    wait_for(lambda: 'data-state="paused"' in html_of(studio.panel.status), timeout=10,
             what="the status line")
    assert studio.create_run() is None
    message = html_of(studio.message)
    assert "is paused" in message and "is training" not in message
    assert studio.stop_create.layout.display is None  # offered beside Create run
    studio.stop_create.click()
    second = studio.run
    assert second is not first and first.state == "stopped"
    assert studio.stop_create.layout.display == "none" and "run created" in html_of(studio.message)


# -- item 2: Explore never shows the previous run ------------------------------------------
def test_explore_shows_a_building_state_for_a_new_run_never_the_old_one(tmp_path):
    studio = Studio("vae", "digits", runs=tmp_path, epochs=1, batch_size=64)
    fill(studio, TINY_VAE)
    first = studio.create_run()
    first.start()
    assert first.wait(120)
    studio.tabs.selected_index = TABS.index("Explore")
    old_map = studio.explore_box.children[0]
    assert type(old_map).__name__ == "LatentMap"
    assert first.folder.path.name in html_of(studio.explore_heading)
    studio.tabs.selected_index = TABS.index("Data & Model")
    second = studio.create_run()
    # at once: the new run's name, a building state, and none of the old views
    heading = html_of(studio.explore_heading)
    assert second.folder.path.name in heading and 'data-state="building"' in heading
    assert first.folder.path.name not in heading
    assert [type(w).__name__ for w in studio.explore_box.children] == ["HTML"]
    assert "gw-explore-building" in html_of(studio.explore_box.children[0])
    assert old_map.comm is None  # closed: no click decodes with the old model
    studio.tabs.selected_index = TABS.index("Explore")
    assert studio.explore_box.children[0].source.run is second
    assert 'data-state="ready"' in html_of(studio.explore_heading)


# -- item 5: the GAN's Explore says why there is no map ------------------------------------
def test_gan_explore_has_a_heading_a_note_and_a_path_between_random_vectors(tmp_path):
    studio = Studio("gan", "digits", runs=tmp_path, epochs=1)
    fill(studio, TINY_GAN)
    run = studio.create_run()
    studio.tabs.selected_index = TABS.index("Explore")
    heading = html_of(studio.explore_heading)
    assert "gan on digits" in heading and "no encoder" in heading and "no map" in heading
    kinds = [type(w).__name__ for w in studio.explore_box.children]
    assert kinds == ["InterpolationStrip", "SampleGrid"]
    strip = studio.explore_box.children[0]
    assert strip.images.shape[0] == strip.steps.value
    before = strip.images.copy()
    strip._view_count = 1  # what a page showing it reports: the follower works only then
    run.start()
    assert run.wait(120)
    wait_for(lambda: not (strip.images == before).all(), timeout=30,
             what="the strip to follow the training")


# -- item 7: a first run long enough to try things; Train on a finished run goes on --------
def test_default_epochs_follow_the_data_and_train_goes_on_after_the_end(tmp_path):
    studio = Studio("vae", "digits", runs=tmp_path)
    assert studio.epochs.value == default_epochs("digits") >= 200  # about a minute here
    studio.data_choice.value = "sentences"
    assert studio.epochs.value == default_epochs("sentences") < 100
    studio.data_choice.value = "digits"
    studio.epochs.value = 1  # typed by a person: kept from now on
    fill(studio, TINY_VAE)
    run = studio.create_run()
    panel = studio.panel
    panel.buttons["train"].click()
    wait_for(lambda: run.state == "finished", timeout=120, what="the run to finish")
    steps = run.steps
    wait_for(lambda: not panel.buttons["train"].disabled, timeout=10, what="Train enabled")
    panel.buttons["train"].click()  # more epochs, not nothing
    wait_for(lambda: run.state == "finished" and run.steps == 2 * steps, timeout=120,
             what="a second epoch")


def test_hidden_settings_keep_their_modality_defaults():
    spec = get_registry().model("vae")
    form = ConfigForm(spec, "text")
    assert dataclasses.asdict(form.value()) == dataclasses.asdict(spec.config_for("text"))

"""The Studio headless: the form comes from the plugin's Config, Create run trains, Explore."""

from __future__ import annotations

from genwidgets.widgets import Studio
from genwidgets.widgets.studio import TABS
from tests.helpers import wait_for


def kinds(box) -> list[str]:
    return [type(w).__name__ for w in box.children]


def test_form_follows_the_model_and_bad_values_are_shown(tmp_path):
    studio = Studio(runs=tmp_path)
    assert studio.model_choice.value == "vae" and studio.data_choice.value == "digits"
    assert {"latent_dim", "beta", "learning_rate"} <= set(studio.form.fields)
    studio.model_choice.value = "gan"
    assert {"d_learning_rate", "g_learning_rate"} <= set(studio.form.fields)
    assert type(studio.form.fields["architecture"]).__name__ == "Dropdown"
    studio.form.fields["latent_dim"].value = -1
    assert studio.create_run() is None
    assert "latent_dim must be &gt;= 1" in studio.message.value and studio.run is None
    studio.form.fields["latent_dim"].value = 8
    studio.data_choice.value = "python_docs"  # a GAN takes images only
    assert studio.create_run() is None
    assert "takes [&#x27;image&#x27;] data" in studio.message.value


def test_create_train_and_explore(tmp_path):
    studio = Studio(runs=tmp_path, epochs=2, batch_size=32)
    studio.form.fields["latent_dim"].value = 2
    studio.create_button.click()
    run = studio.run
    assert run is not None and studio.tabs.selected_index == TABS.index("Train")
    assert run.folder.path.parent == tmp_path and run.config.latent_dim == 2
    assert kinds(studio.train_box) == ["TrainPanel"]
    assert "1 device: cpu:0" in studio.panel.devices.value  # what the panel says it runs on
    studio.panel.buttons["train"].click()
    wait_for(lambda: run.state == "finished", timeout=120, what="the run to finish")
    studio.tabs.selected_index = TABS.index("Explore")
    assert kinds(studio.explore_box) == ["LatentMap", "InterpolationStrip", "AttributeStrip",
                                          "SampleGrid"]
    first = studio.explore_box.children[0]
    studio.tabs.selected_index = TABS.index("Plugins")
    studio.tabs.selected_index = TABS.index("Explore")
    assert studio.explore_box.children[0] is first  # not rebuilt for the same run
    assert (run.folder.path / "model.keras").exists()

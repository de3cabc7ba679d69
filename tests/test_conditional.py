"""Conditional models (the "condition" capability): labels checked, fed to training,
checked by the contract test, offered by the sample views; data without labels refused."""

from __future__ import annotations

import io
import subprocess
import sys

import numpy as np
import pytest

from genwidgets.data.arrays import from_arrays
from genwidgets.data.images import load_digits
from genwidgets.decoding import model_labels
from genwidgets.registry import get_registry
from genwidgets.testing import check_model, tiny_dataset
from genwidgets.training import Run

CONDITIONAL = sorted(name for name, spec in get_registry().models.items()
                     if "condition" in spec.capabilities)
SMALL = {"cvae": {"architecture": "dense", "hidden": 32, "depth": 1, "latent_dim": 4},
         "cgan": {"architecture": "dense", "hidden": 32, "latent_dim": 4}}


def test_the_builtin_conditional_models_claim_the_capability():
    assert {"cvae", "cgan"} <= set(CONDITIONAL)
    assert "condition" not in get_registry().model("vae").capabilities


@pytest.mark.parametrize("labels, expected", [
    (3, [3, 3, 3, 3]), ([0, 1, 2, 9], [0, 1, 2, 9]), (np.array([1.0, 2.0, 3.0, 4.0]),
                                                      [1, 2, 3, 4])])
def test_model_labels_takes_an_int_or_one_per_item(labels, expected):
    assert model_labels(labels, 4, 10).tolist() == expected


def test_model_labels_none_is_a_fixed_draw():
    drawn = model_labels(None, 50, 10, seed=3)
    assert np.array_equal(drawn, model_labels(None, 50, 10, seed=3))
    assert len(set(drawn.tolist())) > 3 and drawn.min() >= 0 and drawn.max() < 10
    assert len(set(model_labels(None, 50, 10, one_label=True).tolist())) == 1


@pytest.mark.parametrize("name", CONDITIONAL)
def test_decode_without_labels_draws_one_class_for_the_whole_call(name):
    source = _source(name)  # a path decoded with "any" label stays one class
    z = source_z(source, 6, 0)
    plain = source.decode(z)
    same = [c for c in range(10) if np.allclose(plain, source.decode(z, labels=c), atol=1e-5)]
    assert len(same) == 1


@pytest.mark.parametrize("labels, says", [
    (10, "Expected labels in [0, 10)"), (-1, "Received: a label -1"),
    ([0, 1], "shape (4,)"), (0.5, "integer class indices"), ("7", "class indices"),
    (True, "class indices"), ([[0, 1, 2, 3]], "shape (4,)")])
def test_model_labels_refuses_bad_labels_clearly(labels, says):
    with pytest.raises(ValueError, match="Expected") as info:
        model_labels(labels, 4, 10)
    assert says in str(info.value) and "Received" in str(info.value)


@pytest.mark.parametrize("name", CONDITIONAL)
def test_a_run_trains_on_items_with_their_labels(name):
    data = load_digits(limit=160)
    run = Run(name, data, SMALL[name], epochs=1, batch_size=32, seed=0, validation=0.2)
    ((x, y),) = next(run._worker.batches(0, 0))  # what fit gets: the pair
    assert x.shape == (32, 8, 8, 1) and y.dtype == np.int32
    for item, label in zip(x, y):  # each item with its own label
        match = np.flatnonzero(np.all(data.x == item, axis=(1, 2, 3)))
        assert label in np.asarray(data.y)[match]
    ((_, y_val),) = next(run._worker.held_out_batches())
    assert len(y_val) == 32
    run.start()
    assert run.wait(120) and run.state == "finished", run.message
    assert np.isfinite(run.epoch_history[-1]["val_loss"])
    images = run.call(lambda model: model.sample(4, seed=0, labels=[0, 1, 2, 3]))
    assert images.shape == (4, 8, 8, 1)


@pytest.mark.parametrize("name", CONDITIONAL)
@pytest.mark.parametrize("data, says", [
    (lambda: from_arrays(load_digits(limit=64).x, None), "without labels"),
    (lambda: tiny_dataset("text"), "takes ['image'] data"),
    (lambda: from_arrays(load_digits(limit=64).x, np.zeros(64, "int64")),
     "at least two classes")], ids=["no-y", "text", "one-class"])
def test_data_a_conditional_model_cannot_learn_from_is_refused(name, data, says, tmp_path):
    with pytest.raises(ValueError) as info:
        Run(name, data(), epochs=1, out=tmp_path / "run")
    assert says in str(info.value)
    assert not (tmp_path / "run").exists()  # nothing written


def test_train_says_so_for_data_without_labels(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "genwidgets", "train", "--model", "cvae", "--data",
         "sentences", "--out", str(tmp_path / "run"), "--quiet"],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr
    assert "takes ['image'] data" in proc.stderr and "Traceback" not in proc.stderr


def _deaf(model):
    """The model's decode, but every label drawn as class 0."""
    own = type(model).decode
    model.decode = lambda z, labels=None, batch_size=256: own(model, z, labels=0)
    return model


def _lenient(model):
    """The model's decode, but labels out of range wrapped round instead of refused."""
    own, k = type(model).decode, model.num_classes
    model.decode = lambda z, labels=None, batch_size=256: own(
        model, z, labels=None if labels is None else np.mod(np.asarray(labels, "int64"), k))
    return model


@pytest.mark.parametrize("broken, says", [(_deaf, "gave the same output"),
                                          (_lenient, "was accepted")])
def test_check_model_catches_a_model_that_ignores_or_bends_labels(broken, says):
    from genwidgets_cvae.spec import CVAESpec

    class Broken(CVAESpec):
        name = "broken_cvae"

        def build(self, config, data_info):
            return broken(super().build(config, data_info))

    with pytest.raises(AssertionError, match=says) as info:
        check_model(Broken(), "image", config=Broken().config(**SMALL["cvae"]), reload=False)
    assert info.value.check_stage == "condition"


# -- the views --------------------------------------------------------------------------

def _source(name):
    from genwidgets.latent import LatentSource

    spec, data = get_registry().model(name), load_digits(limit=64)
    return LatentSource(spec, spec.build(spec.config_for("image", **SMALL.get(name, {
        "latent_dim": 4, "hidden": 32, "depth": 1, "architecture": "dense"})), data.info),
        data)


@pytest.mark.parametrize("name", CONDITIONAL)
def test_sample_grid_offers_a_label_and_every_label_for_a_conditional_model(name):
    from PIL import Image

    from genwidgets.latent import every_label
    from genwidgets.widgets import SampleGrid

    source = _source(name)
    grid = SampleGrid(source, n=6, seed=1)
    assert grid.label.layout.display is None and grid.every_label.layout.display is None
    assert [label for label, _ in grid.label.options] == ["any", *map(str, range(10))]
    grid.label.value = 3
    three = grid.samples
    assert three.shape == (6, 8, 8, 1) and not grid.error.value
    grid.label.value = 4
    assert not np.array_equal(grid.samples, three)  # the label changes what is drawn
    grid.every_label.value = True
    assert grid.label.disabled and grid.samples.shape == (10, 6, 8, 8, 1)
    width, height = Image.open(io.BytesIO(grid.view.value)).size
    assert abs(width / height - 6 / 10) < 0.05  # six columns of z, a row per label
    sheet = every_label(source, 6, seed=1)
    np.testing.assert_allclose(grid.samples, sheet, atol=1e-5)
    rows = source.decode(np.repeat(source_z(source, 6, 1)[:1], 10, 0), np.arange(10))
    np.testing.assert_allclose(sheet[:, 0], rows, atol=1e-5)  # column 0: one z, each label


def source_z(source, n, seed):
    return np.random.default_rng(seed).standard_normal((n, source.latent_dim)).astype(
        "float32")


def test_sample_grid_hides_the_label_controls_for_other_models():
    from genwidgets.latent import every_label
    from genwidgets.widgets import SampleGrid

    source = _source("vae")
    grid = SampleGrid(source, n=4)
    assert grid.label.layout.display == "none" and grid.every_label.layout.display == "none"
    assert [label for label, _ in grid.label.options] == ["any"]
    with pytest.raises(ValueError, match="capabilities include 'condition'"):
        every_label(source, 4)
    with pytest.raises(ValueError, match="capabilities include 'condition'"):
        source.sample(2, labels=1)


def test_studio_offers_label_and_every_label_for_a_conditional_run(tmp_path):
    from genwidgets.widgets import Studio
    from genwidgets.widgets.studio import TABS
    from tests.helpers import wait_for

    studio = Studio(model="cgan", runs=tmp_path, epochs=1, batch_size=64)
    for key, value in SMALL["cgan"].items():
        studio.form.fields[key].value = value
    studio.create_button.click()
    run = studio.run
    assert run is not None, studio.message.value
    studio.panel.buttons["train"].click()
    wait_for(lambda: run.state == "finished", timeout=180, what="the run to finish")
    studio.tabs.selected_index = TABS.index("Explore")
    grid = next(w for w in studio.explore_box.children if type(w).__name__ == "SampleGrid")
    assert grid.label.layout.display is None and grid.every_label.layout.display is None
    grid.every_label.value = True
    assert grid.samples.shape[:2] == (10, min(grid.count.value, 32)), grid.error.value


def test_the_cvae_conv_networks_meet_the_contract():
    """What "auto" picks on an accelerator (the contract test runs the dense ones on CPU)."""
    spec = get_registry().model("cvae")
    report = check_model(spec, "image", config=spec.config_for(
        "image", architecture="conv", filters=8, hidden=32))
    assert report["reload"] == "same decode" and "condition" in report


def test_the_map_decodes_a_conditional_model_with_the_label_of_the_clicked_item(tmp_path):
    """A click on a 3 of a cvae's map decodes as a 3 (the label of the nearest item), and
    the AttributeStrip keeps the picked point's class along its strip."""
    from genwidgets.widgets import AttributeStrip, LatentMap
    from tests.helpers import click_item

    run = Run("cvae", load_digits(limit=300), SMALL["cvae"], epochs=1, batch_size=32,
              seed=0, out=tmp_path / "run")
    run.start().wait()
    m = LatentMap(run, max_items=300)
    strip = AttributeStrip(m)
    asked = []
    decode = m.source.decode
    m.source.decode = lambda zs, labels=None: (asked.append(labels), decode(zs, labels))[1]
    y = np.asarray(m.source.labels)
    three = int(m.idx[np.flatnonzero(y[m.idx] == 3)[0]])
    click_item(m, three)
    assert asked[-1].tolist() == [3] and m.label_near(m.z[m.rows[three]]) == 3
    strip.make_direction("0", "1")
    assert asked[-1].tolist() == [3] * 9  # the strip; alpha 1 is on it: no second decode
    strip.alpha.value = 0.25  # between the strip's images: decoded alone, the same class
    assert asked[-1].tolist() == [3]

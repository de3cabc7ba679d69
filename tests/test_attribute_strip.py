"""Attribute vectors: ``genwidgets.latent.attributes`` and the ``AttributeStrip`` on a map.

Tiny real models (a VAE on the digits, a small sentence VAE). Box selections go in as
the same points message Plotly's front end sends when a user drags a box; state is read
through the widgets' values and the figure's data.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

import genwidgets  # noqa: F401  (sets the Keras backend first)
from genwidgets.latent import LatentSource
from genwidgets.latent.attributes import ALPHAS, along, direction, transfer
from genwidgets.training import train
from genwidgets.widgets import AttributeStrip, LatentMap
from tests.helpers import click_item


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "vae-digits"
    run = train("vae", "digits", {"latent_dim": 4, "hidden": 64}, epochs=3, batch_size=64,
                out=out)
    return LatentSource.from_run(run)


@pytest.fixture(scope="module")
def texts(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "vae-text"
    run = train("vae", "python_docs", {"latent_dim": 8, "rnn_units": 32, "embed_dim": 16},
                epochs=1, batch_size=32, out=out, data_options={"seq_len": 40})
    return LatentSource.from_run(run)


def select(m: LatentMap, rows, lasso: bool = False) -> None:
    """Send what the page sends when a user drags a box (or a lasso) around the points
    ``rows`` of the map (``m.xy`` rows): the selection it records in the layout."""
    xy = m.xy[np.asarray(rows)]
    (x0, y0), (x1, y1) = xy.min(0) - 1e-4, xy.max(0) + 1e-4
    if lasso:  # the same box, drawn as a lasso's path
        shape = {"type": "path", "xref": "x", "yref": "y",
                 "path": f"M{x0},{y0}L{x1},{y0}L{x1},{y1}L{x0},{y1}Z"}
    else:
        shape = {"type": "rect", "xref": "x", "yref": "y", "x0": float(x0),
                 "x1": float(x1), "y0": float(y1), "y1": float(y0)}
    m.figure._js2py_relayout = {"relayout_data": {"selections": [shape]},
                                "source_view_id": "page"}


def deselect(m: LatentMap) -> None:
    m.figure._js2py_relayout = {"relayout_data": {"selections": []},
                                "source_view_id": "page"}


def cells(png: bytes, n: int) -> list[np.ndarray]:
    """The ``n`` images side by side in a strip PNG (cut at equal widths)."""
    picture = np.asarray(Image.open(io.BytesIO(bytes(png))), dtype="float32")
    width = picture.shape[1] // n
    return [picture[:, k * width:(k + 1) * width] for k in range(n)]


# -- the maths ------------------------------------------------------------------------
def test_a_direction_is_the_difference_of_the_groups_means():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(30, 5)), rng.normal(loc=2.0, size=(20, 5))
    d = direction(a, b, start="thin", to="bold")
    np.testing.assert_allclose(d.vector, b.mean(0) - a.mean(0), rtol=1e-5)
    assert (d.name, d.n_start, d.n_to) == ("thin → bold", 30, 20)
    zs = along(a[0], d.vector)
    assert zs.shape == (len(ALPHAS), 5) and ALPHAS[0] == -2.0 and ALPHAS[-1] == 2.0
    np.testing.assert_allclose(zs[len(ALPHAS) // 2], a[0], rtol=1e-6)  # alpha 0: the point
    labels = np.array([0] * 30 + [1] * 20)
    moved = transfer(np.concatenate([a, b]), labels, 0, 1)
    np.testing.assert_allclose(moved.mean(0), b.mean(0), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("start, to, expected", [
    (np.zeros((0, 3)), np.ones((2, 3)), "at least one latent vector"),
    (np.full((2, 3), np.nan), np.ones((2, 3)), "Expected finite latent vectors"),
    (np.ones((2, 3)), np.ones((2, 4)), "same latent space"),
])
def test_bad_groups_say_what_was_expected(start, to, expected):
    with pytest.raises(ValueError, match=expected):
        direction(start, to)


# -- the strip on a map ------------------------------------------------------------------
def test_two_labels_make_a_direction_that_moves_a_clicked_digit(images):
    m = LatentMap(images, max_items=400)
    strip = AttributeStrip(m)
    labels = [v for _, v in strip.start.options]
    assert labels == list(dict.fromkeys(m.labels.tolist()))  # every label of the map
    strip.start.value, strip.to.value = "0", "1"
    strip.make.click()
    assert strip.error.value == ""
    made = strip.directions[-1]
    want = m.z[m.labels == "1"].mean(0) - m.z[m.labels == "0"].mean(0)
    np.testing.assert_allclose(made.vector, want, rtol=1e-4, atol=1e-6)
    assert 'data-count="1"' in strip.saved.value and "0 → 1" in strip.saved.value

    zero = int(m.idx[np.flatnonzero(m.labels == "0")[0]])
    click_item(m, zero)  # a person clicks a 0 on the map
    np.testing.assert_array_equal(strip.point, m.z[m.rows[zero]])
    shown = cells(strip.strip.value, len(ALPHAS))
    assert len({c.tobytes() for c in shown}) >= 5  # the digit changes along the strip
    strip.alpha.value = 0.0  # the point itself, decoded
    alone = np.asarray(images.decode(m.z[m.rows[zero]][None]))
    at_zero = np.asarray(Image.open(io.BytesIO(bytes(strip.large.value))), "float32")
    assert at_zero.std() > 0 and 'data-alpha="0"' in strip.caption.value
    strip.alpha.value = 2.0
    at_two = np.asarray(Image.open(io.BytesIO(bytes(strip.large.value))), "float32")
    assert not np.array_equal(at_zero, at_two) and 'data-alpha="2"' in strip.caption.value
    assert alone.shape[1:] == images.info.shape

    first = strip.strip.value  # the saved direction, reused on another point
    one = int(m.idx[np.flatnonzero(m.labels == "1")[0]])
    click_item(m, one)
    assert strip.direction.value == 0 and strip.strip.value != first


def test_two_box_selections_make_a_direction(images):
    m = LatentMap(images, max_items=400)
    strip = AttributeStrip(m)
    assert strip.keep.disabled  # nothing selected yet
    order = np.argsort(m.xy[:, 0])
    left = order[:25]  # the 25 leftmost points: a box around them holds just those
    select(m, left)
    assert m.selection == tuple(sorted(m.idx[left].tolist()))  # a traitlet, sorted
    assert not strip.keep.disabled and "(25)" in strip.keep.description
    strip.keep.click()
    right = np.flatnonzero(m.xy[:, 0] >= m.xy[order[-40], 0])  # a lasso round the rightmost
    select(m, right, lasso=True)
    strip.keep.click()
    names = [v for _, v in strip.start.options]
    assert names[-2:] == ["selection 1 (25)", f"selection 2 ({len(right)})"]
    strip.start.value, strip.to.value = names[-2:]
    strip.make.click()
    made = strip.directions[-1]
    np.testing.assert_allclose(made.vector, m.z[right].mean(0) - m.z[left].mean(0),
                               rtol=1e-4, atol=1e-6)
    assert made.vector @ (m.z[right].mean(0) - m.z[left].mean(0)) > 0
    deselect(m)
    assert strip.keep.disabled and not len(m.selection)


def test_mistakes_are_said_beside_the_strip_not_raised(images):
    m = LatentMap(images, max_items=200)
    strip = AttributeStrip(m)
    strip.start.value = strip.to.value = "3"
    strip.make.click()
    assert "Expected two different groups" in strip.error.value and not strip.directions
    strip.keep.disabled = False  # as if the button were pressed with nothing selected
    strip.keep.click()
    assert "Nothing is selected on the map" in strip.error.value
    with pytest.raises(ValueError, match="not among its"):
        m.latents_of([10 ** 6])


def test_text_directions_move_a_sentence(texts):
    m = LatentMap(texts, max_items=200)
    strip = AttributeStrip(m)
    assert strip.start.options == ()  # no labels: groups come from selections
    order = np.argsort(m.xy[:, 0])
    select(m, order[:20])
    strip.keep.click()
    select(m, order[-20:])
    strip.keep.click()
    strip.make.click()
    assert strip.error.value == ""
    click_item(m, int(m.idx[order[len(order) // 2]]))
    assert strip.strip.value.count("<li data-alpha=") == len(ALPHAS)
    assert 'class="gw-attr-line"' in strip.large.value


def test_the_map_state_is_traitlets_to_observe(images):
    m = LatentMap(images, max_items=200)
    seen = []
    m.observe(lambda change: seen.append((change["name"], change["new"])),
              ["a", "b", "selected", "selection", "epoch"])
    m.click_mode.value = "a"
    first = int(m.idx[0])
    click_item(m, first)  # A, then the mode moves on to "set B"
    click_item(m, int(m.idx[1]))
    names = [name for name, _ in seen]
    assert names == ["a", "selected", "b", "selected"], names
    assert seen[0][1] is m.a and m.a.index == first and m.b.index == int(m.idx[1])
    select(m, np.argsort(m.xy[:, 0])[:5])  # a box round the five leftmost points
    assert seen[-1] == ("selection", m.selection) and len(m.selection) == 5


def test_code_names_groups_as_the_legend_does(images):
    m = LatentMap(images, max_items=200)
    strip = AttributeStrip(m)
    made = strip.make_direction("2", "5")
    assert made.name == "2 → 5" and strip.direction.value == 0
    with pytest.raises(ValueError, match=r"Expected a label of the map \(\['.*\]\) or a kept"):
        strip.make_direction("label 2", "5")

"""LatentMap, InterpolationStrip, TextPath, SampleGrid and SampleList headless.

Tiny real models (a 2-D VAE on digits, a small sentence VAE); clicks on the map go in
as the same points message Plotly's front end sends, and state is read through
``get_state()`` and the figure's data.
"""

from __future__ import annotations

import html
import io
import re

import numpy as np
import pytest
from PIL import Image

import genwidgets  # noqa: F401  (sets the Keras backend first)
from genwidgets.latent import LatentSource, Projection
from genwidgets.training import Run, train
from genwidgets.widgets import InterpolationStrip, LatentMap, SampleGrid, SampleList, TextPath
from genwidgets.widgets.render import image_grid_png
from genwidgets.widgets.text_path import diff_html, word_edits
from tests.helpers import click, click_item, wait_for

PNG = b"\x89PNG\r\n\x1a\n"
TEXT_DATA = {"seq_len": 40}
FOUR_LINES = ["a cat sat", "the dog ran", "big red sun", "we swim"]


@pytest.fixture(scope="module")
def image_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "vae-2d"
    return train("vae", "digits", {"latent_dim": 2, "hidden": 64}, epochs=2, batch_size=64,
                 out=out)


@pytest.fixture(scope="module")
def images(image_run):
    return LatentSource.from_run(image_run)


@pytest.fixture(scope="module")
def texts(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "vae-text"
    run = train("vae", "python_docs", {"latent_dim": 8, "rnn_units": 32, "embed_dim": 16},
                epochs=1, batch_size=32, out=out, data_options=TEXT_DATA)
    return LatentSource.from_run(run)


def png_array(data: bytes) -> np.ndarray:
    assert bytes(data[:8]) == PNG
    return np.asarray(Image.open(io.BytesIO(bytes(data))))


def test_map_draws_every_encoded_point_coloured_by_label(images):
    m = LatentMap(images)
    names = [t.name for t in m.figure.data]
    assert names[0] == "space" and names[-2:] == ["path", "selected"]
    assert sorted(names[1:-2]) == [str(i) for i in range(10)]
    assert sum(len(t.x) for t in m.figure.data[1:-2]) == len(m.idx) == len(images.dataset.x)
    assert len({t.marker.color for t in m.figure.data[1:-2]}) == 10
    labels = np.asarray(images.dataset.y)
    for trace in m.figure.data[1:-2]:  # each point sits in its label's trace
        assert set(labels[np.asarray(trace.customdata)].astype(str)) == {trace.name}
    grid = m.figure.data[0]
    assert grid.x0 - grid.dx / 2 < m.xy[:, 0].min() and grid.y0 - grid.dy / 2 < m.xy[:, 1].min()
    assert grid.x0 + grid.dx * 79.5 > m.xy[:, 0].max()
    assert 'data-points="1797"' in m.info.get_state()["value"]


def test_hover_shows_the_item_and_a_click_decodes_it(images):
    m = LatentMap(images, max_items=300)
    index = int(m.idx[3])
    click_item(m, index, event="plotly_hover")
    item = images.items(np.array([index]))
    assert f'data-index="{index}"' in m.details.get_state()["value"]
    assert png_array(m.item_view.value).shape == png_array(image_grid_png(item, scale=14)).shape
    assert m.selected is None  # hovering picks nothing
    click_item(m, index)
    assert m.selected.index == index
    decoded = images.decode(m.z[m.idx == index])
    assert bytes(m.decoded_view.value) == image_grid_png(decoded, scale=14)
    sel = m.figure.data[m._selected_trace]
    assert (sel.x[0], sel.y[0]) == pytest.approx(tuple(m.xy[m.idx == index][0]))


def test_the_decoder_is_compiled_before_the_first_click(image_run):
    source = LatentSource.from_run(image_run)  # a source no other test has decoded with
    m = LatentMap(source, max_items=300)
    traces = source._decoder.traces  # compiled while the map was built
    assert traces >= 1
    click_item(m, int(m.idx[0]))
    assert m.selected is not None and source._decoder.traces == traces  # none at the click


def test_click_on_empty_space_decodes_the_inverse_projection(images):
    m = LatentMap(images, max_items=300)
    grid = m.figure.data[0]
    x, y = grid.x0 + 2 * grid.dx, grid.y0 + 77 * grid.dy  # a corner cell, away from points
    click(m.figure, 0, [77, 2], x, y)
    assert m.selected.index is None and m.selected.xy == pytest.approx((x, y))
    decoded = images.decode(m.projection.inverse(np.array([[x, y]])))
    assert bytes(m.decoded_view.value) == image_grid_png(decoded, scale=14)
    assert 'data-kind="space"' in m.details.value
    assert m.item_view.layout.display == "none"  # no data item here: no picture
    click_item(m, int(m.idx[0]), event="plotly_hover")
    assert m.item_view.layout.display is None


def test_mode_picks_a_then_b_and_the_strip_decodes_the_path(images):
    m = LatentMap(images, max_items=300)
    strip = InterpolationStrip(images, latent_map=m, steps=7)
    assert strip.images is None and "pick A and B" in strip.caption.value
    m.click_mode.value = "a"
    click_item(m, int(m.idx[0]))
    assert m.click_mode.get_state()["index"] == 2  # on to "set B"
    grid = m.figure.data[0]
    sent = []
    m.figure.observe(lambda change: sent.append(change), "_widget_data")
    click(m.figure, 0, [40, 40], grid.x0 + 40 * grid.dx, grid.y0 + 40 * grid.dy)
    assert sent == []  # the full state is stored for late viewers, never sent: only deltas
    assert m.click_mode.value == "decode"
    assert m.a.index == int(m.idx[0]) and m.b.index is None
    assert strip.images.shape == (7, 8, 8, 1)
    np.testing.assert_allclose(strip.images[0], images.decode(m.a.z[None])[0], atol=1e-5)
    np.testing.assert_allclose(strip.images[-1], images.decode(m.b.z[None])[0], atol=1e-5)
    strip_png = png_array(strip.strip.value)
    scale = strip_png.shape[1] // (7 * 9 + 1)
    assert strip_png.shape[:2] == (10 * scale, (7 * 9 + 1) * scale)  # one row of 7
    path = m.figure.data[m._path_trace]
    assert len(path.x) == 7 and list(path.text) == ["A", "", "", "", "", "", "B"]
    first = bytes(strip.large.value)
    assert strip.position.min == 1 and strip.position.max == 7  # counts as the caption does
    strip.position.value = 5
    assert bytes(strip.large.value) != first
    caption = strip.caption.get_state()["value"]
    assert 'data-position="4"' in caption and "step 5 of 7" in caption  # the 5th image
    assert list(m.figure.data[m._path_trace].marker.size) == [7, 7, 7, 7, 13, 7, 7]
    assert len(m.figure._widget_data[m._path_trace]["x"]) == 7  # for a late viewer too


def test_use_as_buttons_steps_and_spherical_mode(images):
    m = LatentMap(images, max_items=300)
    m.use_b.click()  # nothing selected yet: said beside the map, not raised
    assert "Nothing is selected yet" in m.error.value
    strip = InterpolationStrip(images, latent_map=m, steps=8)
    m.select_item(int(m.idx[10]))
    m.use_a.click()
    m.select_xy(1.5, -1.0)
    m.use_b.click()
    assert m.error.value == "" and strip.images.shape[0] == 8
    linear = strip.zs.copy()
    strip.position.value = 8
    strip.steps.value = 4  # fewer steps: decoded again, the position clipped to the end
    assert strip.images.shape[0] == 4 and strip.position.value == 4
    assert "step 4 of 4 (B)" in strip.caption.value
    assert 'data-steps="4"' in strip.caption.value
    strip.steps.value = 8
    strip.mode.value = "spherical"
    assert np.allclose(strip.zs[[0, -1]], linear[[0, -1]])
    assert not np.allclose(strip.zs[1:-1], linear[1:-1])
    a_strip = InterpolationStrip(images, m.a.z, m.b.z, steps=8, mode="spherical")
    np.testing.assert_allclose(a_strip.images, strip.images, atol=1e-5)  # no map needed


def test_refresh_follows_a_live_run_in_the_same_basis():
    run = Run("vae", "digits", {"latent_dim": 3, "hidden": 32}, epochs=10_000, batch_size=32)
    source = LatentSource.from_run(run)
    m = LatentMap(source, max_items=200)
    strip = InterpolationStrip(source, latent_map=m, steps=5)
    m.select_item(int(m.idx[0]))
    m.set_a()
    m.select_item(int(m.idx[1]))
    m.set_b()
    probe = np.eye(3, dtype="float32")
    basis, before, images_before = m.projection.transform(probe), m.xy.copy(), strip.images
    run.start()
    try:
        wait_for(lambda: run.steps > 60, what="60 steps")
        m.refresh()  # through run.call, between two batches
        assert run.alive
    finally:
        run.stop()
        run.wait(30)
    np.testing.assert_allclose(m.projection.transform(probe), basis)  # basis kept
    assert not np.allclose(m.xy, before)  # the points moved with the model
    trace = m.figure.data[1]
    np.testing.assert_allclose(trace.x, m.xy[m._groups[0], 0])
    np.testing.assert_allclose(m.figure._widget_data[1]["x"], trace.x)  # late viewers too
    assert m.a.xy == pytest.approx(tuple(m.xy[0]))  # A is a data item: it moved with it
    assert not np.allclose(strip.images, images_before)  # the strip decoded again


def test_views_open_a_saved_run_folder(image_run, images):
    folder = image_run.folder.path
    m = LatentMap(str(folder), max_items=100)
    assert m.source.spec.name == "vae" and len(m.idx) == 100
    a, b = m.z[0], m.z[1]
    strip = InterpolationStrip(folder, a, b, steps=3)
    np.testing.assert_allclose(strip.images, np.asarray(images.decode(strip.zs)), atol=1e-4)
    grid = SampleGrid(folder, n=4)
    assert grid.samples.shape == (4, 8, 8, 1)


# -- the timeline, the health line and live samples ------------------------------------
@pytest.fixture(scope="module")
def snapshot_run(tmp_path_factory):
    """A 3-D VAE on digits that saved its latents at epochs 0 to 3."""
    from genwidgets.latent import LatentSnapshots

    run = Run("vae", "digits", {"latent_dim": 3, "hidden": 32}, epochs=3, batch_size=64,
              out=tmp_path_factory.mktemp("runs") / "vae-snapshots")
    LatentSnapshots.attach(run, max_points=300)
    run.start()
    assert run.wait(120) and run.state == "finished", run.message
    return run


def fits(m: LatentMap) -> None:
    """The map's axes hold every point shown, and the cloud fills them (a margin only)."""
    for k, (lo, hi) in enumerate((m.figure.layout.xaxis.range, m.figure.layout.yaxis.range)):
        span = m.xy[:, k].max() - m.xy[:, k].min()
        assert lo < m.xy[:, k].min() and m.xy[:, k].max() < hi
        assert span >= 0.8 * (hi - lo)


def test_timeline_replays_saved_epochs_in_the_same_basis(snapshot_run):
    m = LatentMap(snapshot_run.folder.path, max_items=300)
    assert m.epochs == [0, 1, 2, 3] and m.timeline.layout.display is None
    assert m.timeline.slider.get_state()["max"] == 4 and m.timeline.slider.value == 4  # now
    store = m.snapshots
    np.testing.assert_allclose(m.projection.transform(store.load(3).z),
                               Projection().fit(store.load(3).z).transform(store.load(3).z),
                               atol=1e-5)  # the basis: the latest snapshot's
    now_xy, now_idx = m.xy.copy(), m.idx.copy()
    basis = m.projection.transform(np.eye(3, dtype="float32"))
    health_now = m.health.value
    fits(m)
    m.timeline.slider.value = 0  # what a person's drag sends
    fits(m)  # the axes follow the cloud of the epoch shown
    assert m.epoch == 0 and 'data-epoch="0"' in m.timeline.label.value
    np.testing.assert_array_equal(m.idx, now_idx)  # the same points ...
    assert not np.allclose(m.xy, now_xy, atol=1e-2)  # ... where they were at epoch 0
    np.testing.assert_allclose(m.xy, m.projection.transform(store.load(0).z))
    np.testing.assert_allclose(m.projection.transform(np.eye(3, dtype="float32")), basis)
    drawn = np.concatenate([t.x for t in m.figure.data[1:-2]])
    assert len(drawn) == 300 and "epoch 0 (saved" in m.info.value
    np.testing.assert_allclose(m.figure._widget_data[1]["x"], m.figure.data[1].x)  # resent
    assert m.health.value != health_now  # the health of epoch 0
    m.timeline.slider.value = 3
    np.testing.assert_allclose(m.xy, now_xy, atol=1e-4)  # the last epoch is the model now
    m.timeline.slider.value = 4
    assert m.epoch is None and 'data-epoch="now"' in m.timeline.label.value
    m.show_epoch(1)
    assert m.timeline.slider.value == 1
    m.refresh()  # encodes again: back to now
    assert m.epoch is None and m.timeline.slider.value == 4
    with pytest.raises(ValueError, match="No latent snapshot of epoch 9"):
        m.show_epoch(9)


def test_no_snapshots_no_timeline(images):
    m = LatentMap(images, max_items=50)
    assert m.snapshots is None and m.epochs == []
    assert m.timeline.layout.display == "none"


def test_health_line_shows_active_units_kl_bars_and_a_collapse_warning(snapshot_run):
    source = LatentSource.from_folder(snapshot_run.folder.path)
    m = LatentMap(source, max_items=200)
    line = m.health.get_state()["value"]
    assert 'data-dim="3"' in line and 'data-warning="0"' in line
    assert 'data-bars="3"' in line and "KL <b>" in line
    _collapse(source._model)  # every item gets the same posterior mean, the prior's
    source._encoder = None  # the model's own encode (the compiled one checked old weights)
    m.refresh()
    line = m.health.get_state()["value"]
    assert 'data-active="0"' in line and 'data-warning="1"' in line
    assert "gw-health-warning" in line and "Posterior collapse" in line


def test_collapse_warning_only_when_the_figures_say_so():
    from genwidgets.latent.health import HELD_KL, UNTRAINED, posterior_health

    rng = np.random.default_rng(0)
    faint = rng.standard_normal((400, 4)) * np.sqrt(0.015)  # every unit active, KL tiny
    report = posterior_health(faint, np.zeros((400, 4)))
    assert report["active_units"] == 4 and max(report["kl_per_dim"]) < 0.01
    assert report["warning"] is None  # the line says 4/4 active: no collapse box
    far = np.ones((400, 4))  # no unit active, but a KL that holds more than HELD_KL
    report = posterior_health(far, np.zeros((400, 4)))
    assert report["active_units"] == 0 and sum(report["kl_per_dim"]) >= HELD_KL
    assert report["warning"] is None
    dead = posterior_health(np.zeros((400, 4)), np.zeros((400, 4)))
    assert dead["warning"].startswith("Posterior collapse: none of the 4")
    assert "0.00 nats an item" in dead["warning"]
    assert posterior_health(np.zeros((400, 4)))["warning"] is not None  # no KL known
    untrained = posterior_health(np.zeros((400, 4)), np.zeros((400, 4)), trained=False)
    assert untrained["warning"] is None and untrained["note"] == UNTRAINED


def _collapse(model) -> None:
    """What a collapsed VAE learns: the prior N(0, 1) as every item's posterior."""
    for name in ("mean", "log_var"):
        layer = model.encoder.get_layer(name)
        layer.kernel.assign(np.zeros(layer.kernel.shape, "float32"))
        layer.bias.assign(np.zeros(layer.bias.shape, "float32"))


@pytest.mark.filterwarnings("ignore:invalid value encountered in divide")  # PCA of 1 point
def test_no_collapse_warning_for_an_untrained_model():
    from genwidgets.latent.health import is_collapsed

    run = Run("vae", "digits", {"latent_dim": 3, "hidden": 16}, epochs=1, batch_size=64)
    _collapse(run.model)
    m = LatentMap(run, max_items=100)
    line = m.health.get_state()["value"]
    assert is_collapsed(m.health_report)  # the figures alone would say collapse ...
    assert 'data-active="0"' in line and 'data-warning="0"' in line
    assert "gw-health-warning" not in line and "untrained" in line  # ... untrained: no box


def test_no_collapse_warning_at_epoch_0_of_the_timeline(snapshot_run, tmp_path):
    import shutil

    from genwidgets.latent.health import is_collapsed

    folder = tmp_path / "copy"
    shutil.copytree(snapshot_run.folder.path, folder)
    for epoch in (0, 1):  # saved encodings that say collapse, before and after training
        path = folder / "latents" / f"epoch_{epoch:04d}.npz"
        with np.load(path) as saved:
            arrays = {k: np.zeros_like(saved[k]) if k != "idx" else saved[k] for k in saved}
        np.savez(path, **arrays)
    m = LatentMap(folder, max_items=300)
    assert 'data-warning="0"' in m.health.value  # now: a trained, healthy model
    m.show_epoch(0)
    line = m.health.get_state()["value"]
    assert is_collapsed(m.health_report)
    assert 'data-active="0"' in line and 'data-warning="0"' in line and "untrained" in line
    m.show_epoch(1)
    line = m.health.get_state()["value"]
    assert 'data-warning="1"' in line and "Posterior collapse" in line
    assert "untrained" not in line
    m.show_epoch(None)
    assert 'data-warning="0"' in m.health.value


def test_samples_follow_a_training_run_only_while_shown():
    run = Run("vae", "digits", {"latent_dim": 2, "hidden": 16}, epochs=10_000, batch_size=64)
    grid = SampleGrid(run, n=4, live_every_s=0.3)
    first = bytes(grid.view.value)
    assert grid.get_state()["_view_count"] == 0  # the front end counts its views
    run.start()
    try:
        wait_for(lambda: len(run.epoch_history) >= 2, what="2 epochs")
        assert grid.follower.calls == 0 and bytes(grid.view.value) == first  # nobody looks
        grid._view_count = 1  # what the front end sends when it displays the grid
        wait_for(lambda: grid.follower.calls >= 2, what="two draws while shown")
        assert bytes(grid.view.value) != first  # the model moved on
        grid._view_count = 0
        calls, seen = grid.follower.calls, len(run.epoch_history)
        wait_for(lambda: len(run.epoch_history) >= seen + 2, what="2 more epochs")
        assert grid.follower.calls <= calls + 1  # at most one already under way
    finally:
        run.stop()
        run.wait(30)
        grid.close()
    grid.follower._thread.join(2)
    assert not grid.follower._thread.is_alive()  # closing the view ends its thread


def test_a_live_map_timeline_grows_with_each_saved_epoch():
    from genwidgets.latent import LatentSnapshots

    run = Run("vae", "digits", {"latent_dim": 3, "hidden": 16}, epochs=10_000, batch_size=64)
    LatentSnapshots.attach(run, max_points=100)
    m = LatentMap(run, max_items=100)
    assert m.epochs == [] and m.timeline.layout.display == "none"
    run.start()
    try:
        wait_for(lambda: len(m.epochs) >= 3, what="3 saved epochs on the timeline")
        assert m.timeline.layout.display is None and m.epoch is None
        assert m.timeline.slider.value == m.timeline.slider.max == len(m.epochs)
    finally:
        run.stop()
        run.wait(30)
        m.close()
    m.show_epoch(m.epochs[1])
    np.testing.assert_array_equal(m.idx, m.snapshots.load(m.epochs[1]).idx)


def test_a_studio_run_saves_snapshots_for_the_explore_timeline(tmp_path):
    from genwidgets.widgets import Studio

    studio = Studio("vae", "digits", runs=tmp_path, epochs=2, batch_size=128)
    run = studio.create_run()
    run.start()
    assert run.wait(120) and run.state == "finished", run.message
    studio.tabs.selected_index = 2  # Explore: built when opened
    m = next(v for v in studio.explore_box.children if isinstance(v, LatentMap))
    assert m.epochs == [0, 1, 2] and m.timeline.layout.display is None
    assert sorted(p.name for p in (run.folder.path / "latents").iterdir()) == [
        "epoch_0000.npz", "epoch_0001.npz", "epoch_0002.npz"]


def test_diff_marks_what_changed_from_the_line_before():
    assert diff_html(None, "a <b> c") == "a &lt;b&gt; c"
    assert diff_html("the cat sat", "the dog sat") == "the <mark>dog</mark> sat"
    assert diff_html("the cat", "the cat sat down") == "the cat<mark> sat down</mark>"
    assert diff_html("the cat sat", "the sat") == "the sat"  # a deletion marks nothing
    assert diff_html("cat", "cut", by="characters") == "c<mark>u</mark>t"
    with pytest.raises(ValueError, match="Expected by to be one of"):
        diff_html("a", "b", by="lines")


def test_text_path_from_typed_sentences(texts):
    a, b = "The list is sorted in place.", "A new object is returned."
    tp = TextPath(texts, a, b, steps=5)
    assert len(tp.lines) == 5 and all(isinstance(s, str) for s in tp.lines)
    lines = tp.lines_view.get_state()["value"]
    assert lines.count('class="gw-path-line"') == 5 and "<b>A</b>" in lines
    assert "different sentence" in tp.note.value
    ids = texts.tokenizer.encode([a, b], texts.info.seq_len)
    np.testing.assert_allclose(tp.zs[[0, -1]], texts.encode(ids), atol=1e-5)
    tp.sentence_b.value = "Some other sentence entirely."  # typed, then Enter
    assert not np.allclose(tp.zs[-1], texts.encode(ids)[1])
    tp.steps.value = 3
    assert tp.lines_view.value.count('class="gw-path-line"') == 3
    tp.sentence_a.value = "x" * 60 + "\u2603"
    assert "cut to its first 39 characters" in tp.note.value
    tp.steps.value = 4  # decoded again: what became of the typed sentence is still said
    assert "cut to its first 39 characters" in tp.note.value
    tp.sentence_a.value = "snow \u2603 man"
    assert "never saw" in tp.note.value and "\u2603" in tp.note.value
    tp.sentence_a.value = ""
    assert "type sentence A and sentence B" in tp.note.value and tp.error.value == ""


@pytest.fixture(scope="module")
def tiny_text_ae(tmp_path_factory):
    """An AE trained on four short lines until it gives them back (about 150 steps)."""
    run = train("ae", "text", {"latent_dim": 4, "hidden": 64, "embed_dim": 16,
                               "learning_rate": 0.01},
                epochs=150, batch_size=4, seed=0, data_options={"texts": FOUR_LINES},
                out=tmp_path_factory.mktemp("runs") / "ae-four-lines")
    return LatentSource.from_run(run)


def test_text_path_marks_whether_a_and_b_decode_to_themselves(tiny_text_ae):
    source = tiny_text_ae
    assert source.decode(source.encode(source.dataset.x)) == FOUR_LINES  # it learnt them
    tp = TextPath(source, FOUR_LINES[0], "zq xv", steps=5)
    end_a, end_b = tp.end_a.get_state()["value"], tp.end_b.get_state()["value"]
    assert 'data-exact="1"' in end_a and "✓ A decodes to itself" in end_a
    assert tp.lines[-1] != "\ufffd" * 2 + " " + "\ufffd" * 2  # unseen letters: no way back
    assert 'data-exact="0"' in end_b and "✗ B decodes to: <code>" in end_b
    assert html.escape(tp.lines[-1]) in end_b
    lines = tp.lines_view.get_state()["value"]
    edits = [int(n) for n in re.findall(r'data-edits="(\d+)"', lines)]
    assert edits == [word_edits(p, c) for p, c in zip(tp.lines, tp.lines[1:])]
    assert "overflow-wrap:anywhere" in lines and "pre-wrap" in lines  # long lines wrap
    m = LatentMap(source, max_items=4)  # from the map: an item, then a spot of space
    tp = TextPath(source, latent_map=m, steps=4)
    m.click_mode.value = "a"
    click_item(m, int(m.idx[1]))
    grid = m.figure.data[0]
    click(m.figure, 0, [1, 1], grid.x0 + grid.dx, grid.y0 + grid.dy)
    assert m.b.index is None and tp.lines is not None
    assert "✓ A decodes to itself" in tp.end_a.value  # a data item it learnt
    assert 'data-exact=""' in tp.end_b.value and "spot of the map" in tp.end_b.value


def test_word_edits_count_words_changed_from_the_line_before():
    assert word_edits("the cat sat", "the cat sat") == 0
    assert word_edits("the cat sat", "the dog sat") == 1
    assert word_edits("the cat sat", "the dog sat down") == 2
    assert word_edits("a b c", "") == 3


def test_text_map_picks_fill_the_text_path(texts):
    m = LatentMap(texts, max_items=80)
    assert [t.name for t in m.figure.data] == ["space", "data", "path", "selected"]
    items = texts.items(m.idx)
    hover = [html.unescape(h.replace("<br>", " ")) for h in m.figure.data[1].hovertext]
    assert hover == [" ".join(item.split()) for item in items]
    assert m.figure.layout.xaxis.title.text == "PC 1"  # an 8-D latent, projected
    tp = TextPath(texts, latent_map=m, steps=6)
    m.click_mode.value = "a"
    click_item(m, int(m.idx[0]))
    click_item(m, int(m.idx[5]))
    assert (tp.sentence_a.value, tp.sentence_b.value) == (items[0], items[5])
    assert len(tp.lines) == 6 and len(m.figure.data[m._path_trace].x) == 6
    np.testing.assert_allclose(tp.zs[0], m.z[0], atol=1e-6)  # the map's vector, kept
    assert m.decoded_view.value.startswith("<code>")


def test_sample_grid_seed_and_resample(images):
    grid = SampleGrid(images, n=9, seed=3)
    first = bytes(grid.view.value)
    assert png_array(first).ndim == 2 and grid.samples.shape == (9, 8, 8, 1)
    assert bytes(SampleGrid(images, n=9, seed=3).view.value) == first  # same seed, same draw
    grid.resample.click()
    assert grid.seed.get_state()["value"] == 4 and bytes(grid.view.value) != first
    grid.count.value = 4
    assert grid.samples.shape == (4, 8, 8, 1)


def test_sample_list_temperature(texts):
    samples = SampleList(texts, n=6, temperature=1.0)
    assert samples.view.value.count("<li>") == 6
    hot = list(samples.samples)
    samples.temperature.value = 0.05
    assert samples.temperature.get_state()["value"] == 0.05
    assert list(samples.samples) != hot and samples.error.value == ""


def test_wrong_sources_and_inputs_say_what_was_expected(images, texts):
    with pytest.raises(ValueError, match="use TextPath for text"):
        InterpolationStrip(texts)
    with pytest.raises(ValueError, match="use SampleGrid for image"):
        SampleList(images)
    with pytest.raises(TypeError, match="Expected a genwidgets.latent.LatentSource"):
        LatentMap(42)
    with pytest.raises(ValueError, match=r"Expected a to be a finite latent vector of shape"):
        InterpolationStrip(images, [0.0, 1.0, 2.0], [0.0, 1.0])
    with pytest.raises(ValueError, match="Expected mode to be one of"):
        InterpolationStrip(images, mode="cubic")
    with pytest.raises(ValueError, match="Item -1 is not on the map"):
        LatentMap(images, max_items=50).select_item(-1)
    gan = Run("gan", "digits", {"latent_dim": 2}, epochs=1)
    with pytest.raises(ValueError, match="cannot encode"):
        LatentMap(LatentSource.from_run(gan))

"""``MapState``, the latent map's state, driven with no widget.

Small real models built (not trained) on the digits: a dense VAE with a 3-D latent (a PCA
map) and a dense CVAE (conditioned on labels); saved epochs are real snapshot files in a
run folder.
"""

from __future__ import annotations

import numpy as np
import pytest

import genwidgets  # noqa: F401  (sets the Keras backend first)
from genwidgets.data.images import load_digits
from genwidgets.latent import LatentSource, MapState
from genwidgets.latent.map_state import Pick, inside
from genwidgets.latent.snapshots import FOLDER, Snapshot, SnapshotStore
from genwidgets.registry import get_registry

DENSE = {"architecture": "dense", "hidden": 32, "latent_dim": 3}


def built(name: str, config: dict, n: int = 300) -> LatentSource:
    spec, data = get_registry().model(name), load_digits(limit=n)
    return LatentSource(spec, spec.build(spec.config_for("image", **config), data.info), data)


@pytest.fixture(scope="module")
def vae():
    return built("vae", DENSE)


@pytest.fixture(scope="module")
def cvae():
    return built("cvae", {**DENSE, "depth": 1, "latent_dim": 4})


def test_the_state_holds_the_encoded_items_where_the_map_draws_them(vae):
    state = MapState(vae, max_items=200, seed=1)
    assert len(state.idx) == 200 and state.epoch is None and state.epochs == []
    np.testing.assert_array_equal(state.idx, vae.subset(200, 1))
    np.testing.assert_allclose(state.z, vae.encode(vae.dataset.x[state.idx]), atol=1e-5)
    np.testing.assert_allclose(state.xy, state.projection.transform(state.z), atol=1e-6)
    assert state.xy.shape == (200, 2) and state.basis == "the first encoding"
    assert all(state.idx[state.rows[int(i)]] == i for i in state.idx)
    assert state.labels.tolist() == [str(v) for v in vae.labels[state.idx]]
    assert state.log_var.shape == (200, 3)  # a VAE's posterior
    report = state.health()
    assert report["latent_dim"] == 3 and len(report["kl_per_dim"]) == 3
    assert state.read_epochs() is False  # no run folder: no saved epochs


def test_an_item_a_spot_and_the_item_nearest_a_vector(vae):
    state = MapState(vae, max_items=200)
    i = int(state.idx[7])
    pick = state.item(i)
    assert isinstance(pick, Pick) and pick.index == i
    np.testing.assert_array_equal(pick.z, state.z[7])
    assert pick.xy == pytest.approx(tuple(state.xy[7]))
    assert state.nearest(pick.z) == i and state.nearest(pick.z + 1e-4) == i
    far = state.z[np.argmax(((state.z - pick.z) ** 2).sum(1))]
    assert state.nearest(far) != i
    spot = state.spot(0.25, -0.5)  # the projection's inverse: back to the same spot
    assert spot.index is None and spot.xy == (0.25, -0.5) and spot.z.shape == (3,)
    np.testing.assert_allclose(state.projection.transform(spot.z[None])[0], [0.25, -0.5],
                               atol=1e-5)
    np.testing.assert_array_equal(state.latents_of([i, int(state.idx[0])]),
                                  state.z[[7, 0]])
    with pytest.raises(ValueError, match="Item -1 is not on the map"):
        state.item(-1)
    with pytest.raises(ValueError, match="not among its 200 items"):
        state.latents_of([10 ** 6])
    item, label = state.data_of(i)
    np.testing.assert_array_equal(item, vae.dataset.x[[i]])
    assert label == str(vae.labels[i])


def test_a_and_b_are_the_ends_of_the_path(vae):
    state = MapState(vae, max_items=100)
    with pytest.raises(ValueError, match="Nothing is selected yet"):
        state.set_a()
    assert state.path_to_ends() == [] and state.path_z is None
    state.selected = state.item(int(state.idx[3]))
    a = state.set_a()  # by default the selected pick
    assert a is state.selected is state.a
    assert state.path_to_ends() == [a]
    b = state.set_b(state.spot(1.0, 1.0))
    assert state.path_to_ends() == [a, b]
    np.testing.assert_array_equal(state.path_z, np.stack([a.z, b.z]))
    steps = np.linspace(a.z, b.z, 5).astype("float32")  # what a linked view draws
    assert state.set_path(steps) is True and state.set_path(steps.copy()) is False
    np.testing.assert_array_equal(state.path_z[[0, -1]], [a.z, b.z])
    state.a = None
    assert state.path_to_ends() == [b]


def test_a_box_or_a_lasso_selects_the_items_inside(vae):
    state = MapState(vae, max_items=200)
    left = np.argsort(state.xy[:, 0])[:12]
    (x0, y0), (x1, y1) = state.xy[left].min(0) - 1e-4, state.xy[left].max(0) + 1e-4
    box = {"type": "rect", "x0": float(x1), "x1": float(x0), "y0": float(y0), "y1": float(y1)}
    expected = tuple(sorted(int(i) for i in state.idx[inside(state.xy, [box])]))
    assert set(state.idx[left].tolist()) <= set(expected)
    assert state.select([box]) == expected == state.selection
    lasso = {"type": "path", "path": f"M{x0},{y0}L{x1},{y0}L{x1},{y1}L{x0},{y1}Z"}
    assert state.select([lasso]) == expected
    assert state.select([]) == () == state.selection
    assert state.select([{"type": "path", "path": "M0,0L1,1Z"}]) == ()  # no area


def test_a_conditional_model_decodes_with_the_label_of_the_nearest_item(cvae):
    state = MapState(cvae, max_items=300)
    y = np.asarray(cvae.labels)
    three = int(state.idx[np.flatnonzero(y[state.idx] == 3)[0]])
    z3 = state.item(three).z
    assert state.label_near(z3) == 3 and state.nearest(z3) == three
    zs = state.z[:4]
    own = [int(y[state.nearest(z)]) for z in zs]
    np.testing.assert_allclose(state.decode(zs), cvae.decode(zs, labels=np.array(own)),
                               atol=1e-6)
    np.testing.assert_allclose(state.decode(zs, near=z3), cvae.decode(zs, labels=[3] * 4),
                               atol=1e-6)


def test_an_unconditional_model_decodes_without_labels(vae):
    state = MapState(vae, max_items=100)
    assert state.label_near(state.z[0]) is None
    np.testing.assert_allclose(state.decode(state.z[:3]), vae.decode(state.z[:3]), atol=1e-6)


def test_saved_epochs_share_the_latest_snapshots_basis(tmp_path):
    source = built("vae", DENSE)
    source.folder = tmp_path  # a run folder: its snapshots are read from latents/
    store = SnapshotStore(tmp_path / FOLDER)
    idx, z = source.encode_dataset(max_items=100)
    store.save(Snapshot(0, np.asarray(idx), np.zeros_like(z), np.zeros_like(z)))
    store.save(Snapshot(1, np.asarray(idx), 2 * z, None))
    state = MapState(source, max_items=100)
    assert state.basis == "the latest snapshot" and state.read_epochs() is True
    assert state.epochs == [0, 1] and state.read_epochs() is False
    live_xy = state.xy.copy()
    state.a = state.item(int(idx[5]))
    state.show_epoch(1)
    assert state.epoch == 1 and state.log_var is None
    np.testing.assert_allclose(state.z, 2 * z)
    assert state.a.xy == pytest.approx(tuple(live_xy[5]))  # until it follows its item
    state.follow_items()
    assert state.a.xy == pytest.approx(tuple(state.xy[5]))
    np.testing.assert_allclose(state.a.z, 2 * z[5])
    state.show_epoch(0)  # before training: the figures say nothing of collapse
    assert state.health()["warning"] is None and state.health()["note"]
    with pytest.raises(ValueError, match="No latent snapshot of epoch 7"):
        state.show_epoch(7)
    state.show_epoch(None)
    assert state.epoch is None
    np.testing.assert_allclose(state.xy, live_xy)


def test_a_model_that_cannot_encode_is_refused():
    gan = built("gan", {"latent_dim": 2})
    with pytest.raises(ValueError, match="cannot encode"):
        MapState(gan)

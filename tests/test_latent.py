"""The latent engine on tiny real models: paths, projections, grids, compiled calls, health."""

from __future__ import annotations


import numpy as np
import pytest

from genwidgets import Dataset
from tests.helpers import digits, wait_for
from genwidgets.latent import (
    LatentSource,
    Projection,
    latent_health,
    lerp,
    manifold_grid,
    path,
    plane_grid,
    slerp,
)
from genwidgets.registry import get_registry

TINY = {
    "vae": dict(latent_dim=3, hidden=16, depth=1, architecture="dense", dropout=0.0,
                kl_anneal_steps=0),
    "ae": dict(latent_dim=2, hidden=16, architecture="dense"),
    "gan": dict(latent_dim=4, hidden=16, architecture="dense"),
    "text_vae": dict(latent_dim=2, rnn_units=8, embed_dim=4),
}
SENTENCES = ["a cat sat.", "the dog ran.", "a bird flew.", "fish swim.", "cows eat grass."]


def build(name: str, dataset: Dataset, steps: int = 4, **config):
    spec = get_registry().model(name.removeprefix("text_"))
    model = spec.build(spec.config(**{**TINY[name], **config}), dataset.info)
    if steps:
        model.fit(dataset.x[:32 * steps], batch_size=32, epochs=1, verbose=0)
    return spec, model


@pytest.fixture(scope="module")
def data():
    return digits(256, labels=True)


@pytest.fixture(scope="module")
def vae(data):
    spec, model = build("vae", data)
    return LatentSource(spec, model, data)


@pytest.fixture(scope="module")
def text_data():
    from genwidgets.data import load_text

    return load_text(texts=SENTENCES * 8)


# -- interpolation -----------------------------------------------------------------------
def test_lerp_and_slerp_start_and_end_exactly_at_a_and_b():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal(5).astype("float32"), rng.standard_normal(5).astype("float32")
    for fn in (lerp, slerp):
        zs = fn(a, b, 7)
        assert zs.shape == (7, 5) and zs.dtype == np.float32
        np.testing.assert_array_equal(zs[0], a)
        np.testing.assert_array_equal(zs[-1], b)
    np.testing.assert_allclose(lerp(a, b, 3)[1], (a + b) / 2, rtol=1e-6)


def test_slerp_keeps_norms_and_turns_at_a_constant_angle():
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal(8), rng.standard_normal(8)
    b = b / np.linalg.norm(b) * np.linalg.norm(a)  # equal norms: the norm stays put
    zs = slerp(a, b, 9)
    np.testing.assert_allclose(np.linalg.norm(zs, axis=1), np.linalg.norm(a), rtol=1e-5)
    unit = zs / np.linalg.norm(zs, axis=1, keepdims=True)
    steps = np.arccos(np.clip(np.sum(unit[1:] * unit[:-1], axis=1), -1, 1))
    np.testing.assert_allclose(steps, steps[0], rtol=1e-3)
    # unequal norms: the norm moves linearly from |a| to |b|
    zs = slerp(a, 3 * b, 5)
    np.testing.assert_allclose(np.linalg.norm(zs, axis=1),
                               np.linspace(1, 3, 5) * np.linalg.norm(a), rtol=1e-5)
    # the straight line cuts through the middle, the sphere does not
    assert np.linalg.norm(lerp(a, b, 9), axis=1).min() < np.linalg.norm(a) * 0.999


def test_slerp_between_opposite_points_goes_round_not_through_zero():
    a = np.array([1.0, 0.0, 0.0])
    zs = slerp(a, -a, 5)
    np.testing.assert_allclose(np.linalg.norm(zs, axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(zs[-1], -a)
    np.testing.assert_array_equal(slerp(a, 2 * a, 3), lerp(a, 2 * a, 3))  # same direction


def test_path_checks_its_arguments():
    a, b = np.zeros(3), np.ones(3)
    np.testing.assert_array_equal(path(a, b, 4, mode="linear"), lerp(a, b, 4))
    with pytest.raises(ValueError, match="Expected mode to be one of"):
        path(a, b, 4, mode="curvy")
    with pytest.raises(ValueError, match="Expected n >= 2"):
        path(a, b, 1)
    with pytest.raises(ValueError, match="same length"):
        path(a, np.ones(4), 4)


# -- projection --------------------------------------------------------------------------
def test_projection_is_the_identity_for_a_2d_latent():
    z = np.random.default_rng(0).standard_normal((50, 2))
    proj = Projection()
    assert not proj.fitted
    np.testing.assert_allclose(proj.fit(z).transform(z), z, rtol=1e-6)
    np.testing.assert_allclose(proj.inverse(z[:3]), z[:3], rtol=1e-6)
    assert proj.fitted


def test_projection_pca_plane_and_its_inverse():
    rng = np.random.default_rng(0)
    z = rng.standard_normal((200, 2)) @ np.array([[3.0, 0, 1, 0, 0], [0, 2.0, 0, 1, 0]])
    z += 0.01 * rng.standard_normal(z.shape)
    proj = Projection().fit(z)
    p = proj.transform(z)
    assert p.shape == (200, 2)
    assert proj.explained_variance_ratio.sum() > 0.99
    np.testing.assert_allclose(proj.inverse(p), z, atol=0.05)  # z lies on the plane
    with pytest.raises(ValueError, match=r"Expected z of shape \(n, 5\)"):
        proj.transform(z[:, :4])
    with pytest.raises(RuntimeError, match="not fitted"):
        Projection().transform(z)


def test_projection_basis_stays_fixed_while_the_model_trains(vae, data):
    _, z1 = vae.encode_dataset(max_items=200)
    proj = Projection().fit(z1)
    basis, centre = proj.components.copy(), proj.mean.copy()
    vae._model.fit(data.x[:128], batch_size=32, epochs=2, verbose=0)  # more training
    _, z2 = vae.encode_dataset(max_items=200)
    assert not np.allclose(z1, z2)  # the encodings moved...
    p2 = proj.transform(z2)
    np.testing.assert_array_equal(proj.components, basis)  # ...the axes did not
    np.testing.assert_allclose(p2, (z2 - centre) @ basis.T, rtol=1e-5, atol=1e-6)
    refit = Projection().fit(z2)
    assert not np.allclose(refit.components, basis)  # a refit would have moved them


# -- grids ---------------------------------------------------------------------------------
def test_manifold_grid_covers_the_latent_quantiles_up_is_up():
    z = np.random.default_rng(0).standard_normal((1000, 2)) * [1.0, 4.0]
    grid = manifold_grid(z, 5)
    assert grid.shape == (25, 2)
    cells = grid.reshape(5, 5, 2)
    np.testing.assert_allclose(cells[0, :, 0], np.quantile(z[:, 0], np.linspace(.05, .95, 5)),
                               rtol=1e-5)
    assert np.all(np.diff(cells[0, :, 0]) > 0) and np.all(np.diff(cells[:, 0, 1]) < 0)
    with pytest.raises(ValueError, match="Use plane_grid"):
        manifold_grid(np.zeros((10, 3)), 4)


def test_plane_grid_through_three_points_has_them_at_its_corners():
    rng = np.random.default_rng(0)
    p = rng.standard_normal((3, 6))
    grid = plane_grid(p, 4).reshape(4, 4, 6)
    np.testing.assert_allclose(grid[0, 0], p[0], rtol=1e-6)
    np.testing.assert_allclose(grid[0, -1], p[1], rtol=1e-6)
    np.testing.assert_allclose(grid[-1, 0], p[2], rtol=1e-6)
    np.testing.assert_allclose(grid[-1, -1], p[1] + p[2] - p[0], rtol=1e-5, atol=1e-6)
    # every point lies on the plane through the three
    basis = np.linalg.qr((p[1:] - p[0]).T)[0]
    off = grid.reshape(-1, 6) - p[0]
    np.testing.assert_allclose(off - off @ basis @ basis.T, 0.0, atol=1e-5)


def test_plane_grid_through_two_points_has_their_path_as_top_row():
    a, b = np.array([1.0, 2.0, 0.5]), np.array([2.0, 1.0, 0.5])
    grid = plane_grid(np.stack([a, b]), 5).reshape(5, 5, 3)
    np.testing.assert_allclose(grid[0], lerp(a, b, 5), rtol=1e-6)
    side = grid[-1, 0] - a
    assert abs(side @ (b - a)) < 1e-5  # a right angle
    np.testing.assert_allclose(np.linalg.norm(side), np.linalg.norm(b - a), rtol=1e-5)
    assert np.linalg.norm(grid[-1, 2]) < np.linalg.norm(grid[0, 2])  # towards the origin
    with pytest.raises(ValueError, match="2 or 3 latent points"):
        plane_grid(np.zeros((4, 3)), 3)


# -- the source and its compiled calls ---------------------------------------------------
def test_source_describes_the_model_and_its_data(vae, data):
    assert (vae.modality, vae.latent_dim, vae.info.name) == ("image", 3, "digits")
    assert vae.capabilities == {"encode", "decode", "sample"}
    assert vae.label_names == [str(i) for i in range(10)]
    np.testing.assert_array_equal(vae.labels, data.y)
    idx, z = vae.encode_dataset(max_items=100, seed=3)
    idx2, _ = vae.encode_dataset(max_items=100, seed=3)
    np.testing.assert_array_equal(idx, idx2)  # the same subset every call
    assert z.shape == (100, 3) and len(set(idx.tolist())) == 100
    np.testing.assert_array_equal(vae.items(idx[:4]), data.x[idx[:4]])
    assert vae.sample(5, seed=1).shape == (5, 8, 8, 1)
    with pytest.raises(ValueError, match=r"Expected latent vectors of shape \(N, 3\)"):
        vae.decode(np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"Expected items of shape \(N, 8, 8, 1\)"):
        vae.encode(np.zeros((2, 28, 28, 1)))


def test_compiled_calls_match_the_model_and_never_retrace(vae, data):
    model = vae._model
    z = np.random.default_rng(0).standard_normal((37, 3)).astype("float32")
    np.testing.assert_allclose(vae.decode(z), model.decode(z), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(vae.encode(data.x[:50]), model.encode(data.x[:50]),
                               rtol=1e-4, atol=1e-5)
    assert vae.compiled == {"encode": True, "decode": True}
    decoder = vae._decoder
    for n in (1, 5, 16, 9, 2):  # one batch size (16): one trace
        vae.decode(z[:n])
    traces = decoder.traces
    model.fit(data.x[:64], batch_size=32, epochs=1, verbose=0)  # new weights
    before = model.decode(z[:5])
    np.testing.assert_allclose(vae.decode(z[:5]), before, rtol=1e-4, atol=1e-5)
    assert decoder.traces == traces  # new weights are arguments, not a new trace


def test_a_path_decodes_to_a_and_b_at_its_ends(vae):
    a, b = np.array([-1.5, 0.5, 1.0]), np.array([1.0, -0.5, 2.0])
    ends = vae.decode(np.stack([a, b]))
    for mode in ("linear", "spherical"):
        images = vae.decode(path(a, b, 16, mode=mode))
        assert images.shape == (16, 8, 8, 1)
        assert images.min() >= 0.0 and images.max() <= 1.0
        np.testing.assert_allclose(images[0], ends[0], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(images[-1], ends[1], rtol=1e-5, atol=1e-6)


# -- health ------------------------------------------------------------------------------
def _collapse_encoder(model):
    """Zero the layer giving the posterior mean: every item gets the same posterior."""
    layer = model.encoder.get_layer("mean")
    layer.kernel.assign(np.zeros(layer.kernel.shape, "float32"))
    layer.bias.assign(np.full(layer.bias.shape, 0.3, "float32"))


def test_health_of_a_working_vae_and_of_a_collapsed_one(data):
    spec, model = build("vae", data, steps=6)
    healthy = latent_health(LatentSource(spec, model, data), max_items=256)
    assert healthy["active_units"] >= 1 and healthy["warning"] is None
    assert len(healthy["kl_per_dim"]) == 3  # from the VAE's posterior(x)
    assert max(healthy["kl_per_dim"]) > 0.01
    assert 0 < healthy["diversity"]
    _collapse_encoder(model)
    sick = latent_health(LatentSource(spec, model, data), max_items=256)
    assert sick["active_units"] == 0
    assert sick["warning"].startswith("Posterior collapse")


def test_kl_per_dim_from_a_model_that_offers_its_posterior(data):
    spec, model = build("vae", data, steps=2)
    source = LatentSource(spec, model, data)
    report = latent_health(source, max_items=128)
    mean, log_var = model.encoder.predict_on_batch(data.x[source.subset(128)])
    mean, log_var = np.asarray(mean), np.asarray(log_var)
    expected = (0.5 * (np.exp(log_var) + mean**2 - 1 - log_var)).mean(0)
    np.testing.assert_allclose(report["kl_per_dim"], expected, rtol=1e-4, atol=1e-6)
    assert len(report["kl_per_dim"]) == 3
    # a posterior equal to the prior for every item: no information, collapse
    model.posterior = lambda x: (np.zeros((len(x), 3)), np.zeros((len(x), 3)))
    report = latent_health(source, max_items=128)
    assert report["kl_per_dim"] == [0.0, 0.0, 0.0]
    assert report["warning"].startswith("Posterior collapse")


def test_mode_collapse_warning_for_a_gan_whose_samples_are_all_alike(data):
    spec, model = build("gan", data, steps=0)
    source = LatentSource(spec, model, data)
    ok = latent_health(source, n_samples=32)
    assert ok["active_units"] is None and ok["kl_per_dim"] is None
    assert ok["diversity"] > 0.1 and ok["warning"] is None
    first = model.generator.get_layer("g_dense0")
    first.kernel.assign(np.zeros(first.kernel.shape, "float32"))  # z no longer matters
    sick = latent_health(source, n_samples=32)
    assert sick["diversity"] < 1e-3
    assert sick["warning"].startswith("Mode collapse")


def test_text_vae_collapse_every_point_decodes_to_the_same_sentence(text_data):
    spec, model = build("text_vae", text_data, steps=0)
    source = LatentSource(spec, model, text_data)
    assert source.items(np.array([0, 1])) == SENTENCES[:2]
    assert isinstance(source.decode(np.zeros((2, 2)))[0], str)
    _collapse_encoder(model)
    report = latent_health(source, max_items=40, n_samples=8)
    assert report["active_units"] == 0
    assert "every point decodes to the same sentence" in report["warning"]


@pytest.mark.parametrize("name, modality", [("vae", "image"), ("vae", "text"),
                                            ("transformer", "image"),
                                            ("transformer", "text")])
def test_posterior_gives_mean_and_log_var_and_the_mean_is_the_encoding(
        name, modality, data, text_data):
    dataset = data if modality == "image" else text_data
    spec = get_registry().model(name)
    tiny = (dict(d_model=16, num_heads=2, encoder_layers=1, decoder_layers=1, latent_dim=3)
            if name == "transformer" else
            {**TINY["vae" if modality == "image" else "text_vae"], "latent_dim": 3})
    model = spec.build(spec.config(**tiny), dataset.info)
    x = dataset.x[:37]
    mean, log_var = model.posterior(x)
    assert mean.shape == log_var.shape == (37, 3)
    assert mean.dtype == log_var.dtype == np.float32
    np.testing.assert_allclose(mean, model.encode(x), rtol=1e-4, atol=1e-5)
    assert not np.allclose(log_var, 0.0)  # a variance of its own, not the prior's
    report = latent_health(LatentSource(spec, model, dataset), max_items=37, n_samples=4)
    assert len(report["kl_per_dim"]) == 3 and min(report["kl_per_dim"]) >= 0


def test_posterior_health_from_saved_encodings_alone():
    from genwidgets.latent.health import posterior_health

    rng = np.random.default_rng(0)
    z = rng.standard_normal((200, 4)).astype("float32") * [1.0, 1.0, 0.01, 0.0]
    log_var = np.full((200, 4), -1.0, "float32")
    report = posterior_health(z, log_var)
    assert report["active_units"] == 2 and report["items"] == 200
    np.testing.assert_allclose(report["kl_per_dim"][3], 0.5 * (np.exp(-1) - 1 + 1))
    assert report["warning"] is None
    dead = posterior_health(np.zeros((50, 4)), np.zeros((50, 4)))
    assert dead["active_units"] == 0 and dead["kl_per_dim"] == [0.0] * 4
    assert dead["warning"].startswith("Posterior collapse: none of the 4")
    assert posterior_health(np.zeros((50, 4)), variational=False)["warning"] is None


# -- latent snapshots --------------------------------------------------------------------
def test_snapshots_are_saved_each_epoch_in_the_run_folder(data, tmp_path):
    from genwidgets.latent import LatentSnapshots, SnapshotStore
    from genwidgets.training import Run

    out = tmp_path / "run"
    (out / "latents").mkdir(parents=True)
    np.savez(out / "latents" / "epoch_0007.npz", z=np.zeros(3))  # an older run's
    run = Run("vae", data, TINY["vae"], epochs=3, batch_size=64, out=out, overwrite=True)
    snaps = LatentSnapshots.attach(run, max_points=100)
    assert snaps.store.epochs() == []  # the old run's snapshots are gone
    run.start()
    assert run.wait(60) and run.state == "finished", run.message
    files = sorted(p.name for p in (out / "latents").iterdir())
    assert files == ["epoch_0000.npz", "epoch_0001.npz", "epoch_0002.npz", "epoch_0003.npz"]
    store = SnapshotStore(out / "latents")
    first, last = store.load(0), store.load(3)
    np.testing.assert_array_equal(first.idx, last.idx)  # the same items every time
    source = LatentSource.from_run(run)
    np.testing.assert_array_equal(last.idx, source.subset(100))  # as a map of 100 draws
    assert last.z.shape == last.log_var.shape == (100, 3) and last.z.dtype == np.float32
    assert not np.allclose(first.z, last.z)  # the model moved
    np.testing.assert_allclose(last.z, source.encode(data.x[last.idx]), rtol=1e-4,
                               atol=1e-5)  # the last one is the model at the end
    assert source.snapshots is snaps.store
    assert LatentSource.from_folder(out, dataset=data).snapshots.epochs() == [0, 1, 2, 3]
    with pytest.raises(KeyError, match="Expected one of"):
        store.load(5)


def test_snapshots_in_memory_every_other_epoch_and_one_sync_per_save(data):
    from genwidgets.latent import LatentSnapshots
    from genwidgets.training import Run

    def syncs(callbacks_for):  # jax_state_sync calls while fitting 4 epochs of 4 steps
        run = Run("vae", data, TINY["vae"], epochs=4, batch_size=64)
        callbacks_for(run)
        calls, sync = [], run.model.jax_state_sync
        run.model.jax_state_sync = lambda: (calls.append(1), sync())[1]
        run.start()
        assert run.wait(60) and run.state == "finished", run.message
        return run, len(calls)

    _, plain = syncs(lambda run: None)
    run, with_snapshots = syncs(lambda run: LatentSnapshots.attach(run, every=2,
                                                                   max_points=50))
    store = run.extra_callbacks[0].store
    assert store.folder is None and store.epochs() == [0, 2, 4]
    assert store.load(4).z.shape == (50, 3)
    assert with_snapshots - plain == 3  # one per saved epoch, none per batch
    with pytest.raises(ValueError, match="Expected every to be a positive integer"):
        LatentSnapshots(data.x, every=0)
    with pytest.raises(ValueError, match="gan cannot encode"):
        LatentSnapshots.attach(Run("gan", data, {"latent_dim": 2}, epochs=1))


# -- live and saved runs -----------------------------------------------------------------
def test_from_run_follows_a_live_run(data):
    from genwidgets.training import Run

    run = Run("vae", data, TINY["vae"], epochs=10_000, batch_size=32)
    source = LatentSource.from_run(run)
    z = np.random.default_rng(0).standard_normal((16, 3)).astype("float32")
    try:
        run.start()
        wait_for(lambda: run.steps >= 3, what="3 steps")
        idx, codes = source.encode_dataset(max_items=64)  # while it trains
        assert codes.shape == (64, 3) and run.alive
        run.pause()
        wait_for(lambda: run.state == "paused", what="paused")
        first = source.decode(z)
        np.testing.assert_allclose(first, run.call(lambda m: m.decode(z)), rtol=1e-4,
                                   atol=1e-5)
        steps = run.steps
        run.step(10)
        wait_for(lambda: run.state == "paused" and run.steps >= steps + 10, what="10 steps")
        later = source.decode(z)  # the weights of now, not of the first call
        assert not np.allclose(later, first)
        np.testing.assert_allclose(later, run.call(lambda m: m.decode(z)), rtol=1e-4,
                                   atol=1e-5)
        assert source._decoder.traces == 1
    finally:
        run.stop()
        run.wait(30)


def test_from_folder_reloads_a_saved_image_run(tmp_path):
    from genwidgets.training import train

    run = train("ae", "digits", TINY["ae"], epochs=1, batch_size=32, out=tmp_path / "ae",
                data_options={"limit": 128})
    source = LatentSource.from_folder(tmp_path / "ae")
    assert (source.spec.name, source.info.name, len(source.dataset.x)) == ("ae", "digits", 128)
    x = source.items(np.arange(5))
    np.testing.assert_allclose(source.encode(x), run.model.encode(x), rtol=1e-4, atol=1e-5)
    z = np.random.default_rng(0).standard_normal((4, 2)).astype("float32")
    np.testing.assert_allclose(source.decode(z), run.model.decode(z), rtol=1e-4, atol=1e-5)
    with pytest.raises(FileNotFoundError, match="config.json and model.keras"):
        LatentSource.from_folder(tmp_path / "nothing")


@pytest.mark.slow
def test_from_folder_reloads_a_saved_text_run_with_its_tokenizer(tmp_path):
    from genwidgets.training import train

    run = train("vae", "text", TINY["text_vae"], epochs=1, batch_size=8,
                out=tmp_path / "text", data_options={"texts": SENTENCES * 4})
    source = LatentSource.from_folder(tmp_path / "text")
    assert source.items(np.arange(3)) == SENTENCES[:3]
    z = np.random.default_rng(0).standard_normal((3, 2)).astype("float32")
    assert source.decode(z) == run.dataset.tokenizer.decode(run.model.decode(z))

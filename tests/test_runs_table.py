"""RunsTable over real run folders: rows say what each run was, ticks overlay the curves."""

from __future__ import annotations

import pytest

from genwidgets.training import train
from genwidgets.training.folder import find_runs, read_run
from genwidgets.widgets import RunsTable
from tests.test_run import digits


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    data = digits(256)
    train("ae", data, {"latent_dim": 2}, epochs=2, batch_size=32, out=root / "ae-small")
    train("vae", data, {"latent_dim": 2, "beta": 0.5}, epochs=3, batch_size=32,
          out=root / "vae-beta")
    (root / "broken").mkdir()
    (root / "broken" / "config.json").write_text("{not json", encoding="utf-8")
    return root


def texts(table) -> list[str]:
    return [getattr(c, "value", "") for c in table.table.children]


def test_rows_say_model_data_settings_and_final_losses(runs):
    table = RunsTable(runs)
    assert sorted(r.name for r in table.records) == ["ae-small", "broken", "vae-beta"]
    vae = read_run(runs / "vae-beta")
    assert (vae.model, vae.data, vae.epochs, vae.steps, vae.saved) == ("vae", "digits", 3, 24, True)
    assert set(vae.final) >= {"loss", "kl", "reconstruction"}
    cells = " | ".join(str(t) for t in texts(table))
    assert "beta=0.5" in cells and "latent_dim=2" in cells  # only what differs from defaults
    assert "cannot be read" in cells  # the broken folder says why instead of failing
    broken = table.records[[r.name for r in table.records].index("broken")]
    assert table.checks[table.records.index(broken)].disabled
    assert "3 runs" in table.heading.value


def test_ticked_runs_overlay_their_curves(runs):
    table = RunsTable(runs)
    assert len(table.figure.data) == 0
    table.select("ae-small", "vae-beta")
    names = sorted(t.name for t in table.figure.data)
    assert names == ["ae-small (ae)", "vae-beta (vae)"]
    vae = next(t for t in table.figure.data if t.name.startswith("vae"))
    assert len(vae.x) == 24 and list(vae.x)[:2] == [1, 2]  # every batch of 3 epochs
    assert {"kl", "reconstruction", "loss"} <= set(table.metric.options)
    table.metric.value = "kl"  # only the VAE has it
    assert [t.name for t in table.figure.data] == ["vae-beta (vae)"]
    assert table.figure.layout.yaxis.title.text == "kl"
    table.checks[[r.name for r in table.records].index("vae-beta")].value = False
    assert len(table.figure.data) == 0


def test_refresh_finds_new_runs_and_keeps_ticks(runs, tmp_path):
    table = RunsTable(tmp_path / "nothing-yet")
    assert "No runs in" in table.heading.value and table.records == []
    table = RunsTable(runs)
    table.select("ae-small")
    train("ae", digits(128), {"latent_dim": 2}, epochs=1, batch_size=32, out=runs / "later")
    table.refresh()
    assert "later" in [r.name for r in table.records]
    assert [r.name for r in table.selected] == ["ae-small"]
    assert len(find_runs(runs)) == 4
    with pytest.raises(ValueError, match="Unknown run"):
        table.select("nope")

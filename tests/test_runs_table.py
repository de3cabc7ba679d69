"""RunsTable over real run folders: rows say what each run was, ticks overlay the curves."""

from __future__ import annotations

import html

import pytest

from genwidgets.training import train
from genwidgets.training.folder import find_runs, read_run
from genwidgets.widgets import RunsTable
from tests.helpers import digits


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


def _ticked_without_a_hang(table, names):
    """Tick ``names`` as a user's clicks would; a reader blocked on a FIFO fails the test
    after 60 s instead of hanging it."""
    import signal

    def hung(*_):
        raise TimeoutError("ticking a run hung (a read blocked)")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(60)
    try:
        for record, check in zip(table.records, table.checks):
            if record.name in names and not check.disabled:
                check.value = True
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_one_unreadable_folder_shows_its_row_with_the_reason(runs, tmp_path):
    import json
    import os
    import shutil

    root = tmp_path / "runs"
    good = shutil.copytree(runs / "ae-small", root / "good")
    for name in ("batches-a-folder", "batches-a-fifo", "wrong-types", "odd-rows",
                 "config-a-folder"):
        shutil.copytree(good, root / name)
    (root / "batches-a-folder" / "batches.jsonl").unlink()
    (root / "batches-a-folder" / "batches.jsonl").mkdir()
    (root / "batches-a-fifo" / "batches.jsonl").unlink()
    os.mkfifo(root / "batches-a-fifo" / "batches.jsonl")
    (root / "wrong-types" / "config.json").write_text(json.dumps(
        {"model": "ae", "data": "digits", "config": "latent_dim=3"}))
    (root / "odd-rows" / "batches.jsonl").write_text(
        '{"epoch": 1, "loss": 1.0}\n{"step": "two", "loss": 2}\n{"step": 3, "loss": "x"}\n'
        '{"step": 4, "epoch": 1, "loss": 0.5}\n')
    (root / "config-a-folder" / "config.json").unlink()
    (root / "config-a-folder" / "config.json").mkdir()
    table = RunsTable(root)
    names = sorted(r.name for r in table.records)
    assert names == ["batches-a-fifo", "batches-a-folder", "config-a-folder", "good",
                     "odd-rows", "wrong-types"]
    _ticked_without_a_hang(table, names)
    errors = {r.name: r.error for r in table.records if r.error}
    assert set(errors) == {"batches-a-fifo", "batches-a-folder", "config-a-folder",
                           "wrong-types"}, errors
    assert "batches.jsonl is not a regular file" in errors["batches-a-fifo"]
    assert "batches.jsonl is not a regular file" in errors["batches-a-folder"]
    assert "config.json cannot be read" in errors["wrong-types"]
    cells = " | ".join(str(t) for t in texts(table))
    for text in errors.values():  # each reason is in the table, on that run's row
        assert html.escape(text) in cells
    for record, check in zip(table.records, table.checks):
        assert check.disabled == (record.name in errors)
        assert check.value == (record.name not in errors)
    plotted = sorted(t.name for t in table.figure.data)
    assert plotted == ["good (ae)", "odd-rows (ae)"]
    odd = next(t for t in table.figure.data if t.name.startswith("odd"))
    assert list(odd.x) == [4]  # rows without a numeric step or loss are left out


def test_a_folder_without_permission_shows_its_row(runs, tmp_path):
    """As a user who may not read one folder (root reads everything, so the check drops to
    the `nobody` user once the modules are imported)."""
    import os
    import shutil
    import tempfile
    from pathlib import Path

    base = Path(tempfile.mkdtemp(prefix="gw-runs-"))  # pytest's own folder is root's only
    try:
        _without_permission(runs, base)
    finally:
        for path in base.rglob("*"):
            if not path.is_symlink():
                os.chmod(path, 0o755)
        shutil.rmtree(base)


def _without_permission(runs, tmp_path):
    import os
    import shutil
    import subprocess
    import sys

    root = tmp_path / "runs"
    shutil.copytree(runs / "ae-small", root / "good")
    shutil.copytree(runs / "ae-small", root / "locked")
    shutil.copytree(runs / "ae-small", root / "rows-locked")
    os.chmod(root / "rows-locked" / "batches.jsonl", 0)
    os.chmod(root / "locked", 0)
    for path in (tmp_path, root, root / "good", root / "rows-locked"):
        os.chmod(path, 0o755)
    code = (
        "import os, sys\n"
        "from genwidgets.widgets import RunsTable\n"
        "RunsTable(sys.argv[1] + '/good')\n"  # imports everything while it may
        "if os.getuid() == 0:\n    os.setgid(65534); os.setuid(65534)\n"
        "table = RunsTable(sys.argv[1])\n"
        "for record, check in zip(table.records, table.checks):\n"
        "    check.value = not check.disabled\n"
        "for r in table.records:\n    print(r.name, '|', r.error)\n"
        "print('traces', sorted(t.name for t in table.figure.data))\n")
    proc = subprocess.run([sys.executable, "-c", code, str(root)], capture_output=True,
                          text=True, timeout=300)
    os.chmod(root / "locked", 0o755)
    assert proc.returncode == 0, proc.stderr
    rows = dict(line.split(" | ") for line in proc.stdout.splitlines() if " | " in line)
    assert rows["good"] == "None"
    assert "locked cannot be read (PermissionError" in rows["locked"]
    assert "batches.jsonl" in rows["rows-locked"] and "Permission denied" in rows["rows-locked"]
    assert "traces ['good (ae)']" in proc.stdout

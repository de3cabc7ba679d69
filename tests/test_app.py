"""The standalone app headless: the `studio` command's arguments, the lockdown settings, the
notebook the launcher serves, and the Studio's app mode (a run ready, saved runs by name)."""

from __future__ import annotations

import json
import socket

import ipywidgets as W
import nbformat
import pytest

import genwidgets  # noqa: F401  (the Keras backend, before anything imports Keras)
from genwidgets.app import AppSettings, app_notebook, voila_argv
from genwidgets.app.launcher import check_port, settings_from_args
from genwidgets.cli import build_parser, main
from genwidgets.training import train
from genwidgets.widgets import Studio
from genwidgets.widgets.studio import CURRENT, TABS, saved_run_path, saved_runs


def descendants(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from descendants(child)


def test_studio_arguments_and_defaults(tmp_path):
    args = build_parser().parse_args(["studio"])
    assert (args.port, args.no_browser, args.runs) == (8866, False, "runs")
    args = build_parser().parse_args(["studio", "--port", "9001", "--no-browser",
                                      "--runs", str(tmp_path / "r")])
    settings = settings_from_args(args)
    assert settings.port == 9001 and not settings.open_browser
    assert settings.runs == tmp_path / "r" and settings.runs.is_absolute()
    with pytest.raises(SystemExit):
        build_parser().parse_args(["studio", "--port", "many"])


def test_lockdown_options_reach_voila(tmp_path):
    settings = AppSettings(runs=tmp_path, port=9002, open_browser=False, cull_idle_s=300)
    argv = voila_argv(settings, tmp_path / "app" / "studio.ipynb")
    assert argv[-1] == str(tmp_path / "app" / "studio.ipynb")
    assert f"--Voila.root_dir={tmp_path / 'app'}" in argv  # serves that folder and no other
    for option in ("--Voila.ip=127.0.0.1", "--Voila.port=9002", "--Voila.port_retries=0",
                   "--Voila.open_browser=False", "--token",
                   "--VoilaConfiguration.preheat_kernel=True",
                   "--VoilaConfiguration.file_allowlist=^$",
                   "--MappingKernelManager.cull_idle_timeout=300",
                   "--MappingKernelManager.cull_connected=False"):
        assert option in argv
    from voila.app import Voila  # the options parse as Voila's own settings

    app = Voila()
    app.parse_command_line(argv)
    assert app.config.Voila.ip == "127.0.0.1" and app.config.Voila.auto_token is True
    assert app.config.VoilaConfiguration.file_allowlist == ["^$"]
    from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager

    kernels = AsyncMappingKernelManager(config=app.config)  # Voila's kernel manager class
    assert (kernels.cull_idle_timeout, kernels.cull_interval, kernels.cull_connected) == (
        300, 30, False)
    with pytest.raises(ValueError, match="Expected a port between 1 and 65535"):
        AppSettings(port=0)


def test_the_served_notebook_shows_the_studio_in_app_mode(tmp_path):
    notebook = app_notebook(tmp_path / "runs")
    nbformat.validate(notebook)
    (cell,) = notebook.cells
    assert cell.source.startswith("import genwidgets")  # the backend before Keras
    assert f"Studio(runs={str((tmp_path / 'runs').resolve())!r}, app=True)" in cell.source
    assert notebook.metadata.kernelspec.name == "python3"


def test_a_busy_port_is_a_clear_error(capsys):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(OSError, match=f"Received: --port {port}, which is in use"):
            check_port(port)
        assert main(["studio", "--no-browser", "--port", str(port)]) == 2
    assert "genwidgets studio: error: Expected a free port" in capsys.readouterr().err


def test_app_mode_is_ready_to_train_and_offers_no_free_form_path(tmp_path):
    runs = tmp_path / "not-yet"
    studio = Studio(runs=runs, app=True)
    assert runs.is_dir()  # made when missing
    run = studio.run
    assert run is not None and run.spec.name == "vae" and run.dataset.info.name == "digits"
    assert studio.tabs.selected_index == TABS.index("Train")
    assert not studio.panel.buttons["train"].disabled
    typed = [w for w in descendants(studio) if isinstance(w, (W.Text, W.Textarea))]
    assert typed == []  # numbers, choices and an upload: nothing takes a typed path
    first = run.folder.path
    assert studio.create_run() is not None and studio.run is not run
    assert not first.exists()  # a run that never trained leaves no folder behind
    studio.panel.close()


def test_saved_runs_are_listed_and_opened_by_name_only(tmp_path):
    train("vae", "digits", {"latent_dim": 2, "hidden": 16}, epochs=1, batch_size=256,
          out=tmp_path / "vae-a", progress=False)
    (tmp_path / "empty").mkdir()  # no model.keras: not listed
    file_data = tmp_path / "from-a-file"
    file_data.mkdir()
    (file_data / "model.keras").write_bytes(b"")
    (file_data / "config.json").write_text(json.dumps(
        {"model": "vae", "data": "text_file", "data_options": {"path": "/etc/passwd"}}))
    assert saved_runs(tmp_path) == ["vae-a"]
    assert saved_runs(tmp_path / "missing") == []
    assert saved_run_path(tmp_path, "vae-a") == tmp_path / "vae-a"
    for name in ("../vae-a", str(tmp_path / "vae-a"), "from-a-file", "empty"):
        with pytest.raises(ValueError, match="Expected the name of a saved run"):
            saved_run_path(tmp_path, name)

    studio = Studio(runs=tmp_path)
    studio.tabs.selected_index = TABS.index("Explore")
    assert list(studio.saved.options) == [CURRENT, "vae-a"]
    studio.saved.value = "vae-a"
    kinds = [type(w).__name__ for w in studio.explore_box.children]
    assert kinds == ["LatentMap", "InterpolationStrip", "AttributeStrip", "SampleGrid"]
    assert studio.explore_box.children[0].source.spec.name == "vae"


def test_the_loss_plot_keeps_the_state_a_late_viewer_builds_from_current():
    from genwidgets.widgets.loss_plot import LossPlot

    plot = LossPlot()
    sent = []
    plot.figure.observe(sent.append, names=["_widget_data", "_widget_layout"])
    rows = [{"step": i + 1, "epoch": 0, "t": 0.0, "loss": 1 / (i + 1), "kl": 0.1}
            for i in range(50)]
    plot.add_rows(rows, [{"step": 50, "epoch": 1, "val_loss": 0.3}])
    state = plot.figure.get_state()  # what a page that connects now is sent
    assert [(t["name"], len(t["x"])) for t in state["_widget_data"]] == [
        ("loss", 50), ("kl", 50), ("val_loss", 1)]
    assert len(state["_widget_layout"]["shapes"]) == 1  # the epoch line
    plot.log_scale.value = True
    assert plot.figure.get_state()["_widget_layout"]["yaxis"]["type"] == "log"
    assert sent == []  # connected views follow the deltas: nothing extra is sent


def test_a_missing_voila_says_how_to_install_it(monkeypatch, capsys):
    import importlib.util

    from genwidgets.cli import main

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "voila" else real(name, *a))
    assert main(["studio", "--no-browser", "--port", "8871"]) == 2
    err = capsys.readouterr().err
    assert "needs voila" in err and "pip install 'genwidgets[app]'" in err


def _request(port: int, path: str, host: str, timeout: float = 180.0) -> tuple[int, str]:
    """A GET to the app with the ``Host`` header given (as a page of another site would
    send after DNS rebinding), read to its end."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.putrequest("GET", path, skip_host=True)
        conn.putheader("Host", host)
        conn.endheaders()
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        conn.close()


def test_the_app_refuses_other_hosts_and_keeps_its_token_out_of_logs_and_kernels(tmp_path):
    """The real `genwidgets studio` on 127.0.0.1: a non-local Host is refused even with the
    token; the token is in no log line (4xx ones included) and in no kernel's environment."""
    import time
    from urllib.parse import parse_qs, urlsplit

    from tests.browser.voila import StudioServer

    server = StudioServer(tmp_path).start(timeout=180)
    try:
        token = parse_qs(urlsplit(server.url).query)["token"][0]
        local = f"127.0.0.1:{server.port}"
        for host in ("evil.example", f"rebound.example:{server.port}", "10.1.2.3"):
            status, _ = _request(server.port, f"/?token={token}", host)
            assert status == 403, (host, status)
        assert _request(server.port, "/?token=wrong", local)[0] in (302, 401, 403)
        server.wait_quiet(timeout=240)  # the pre-heated kernel has shown the Studio
        before = {k.pid for k in server.kernels()}
        status, page = _request(server.port, f"/?token={token}&x=1", local)
        assert status == 200 and "genwidgets" in page, status
        deadline = time.monotonic() + 120  # the pool refills with a kernel for the next page
        while not {k.pid for k in server.kernels()} - before:
            assert time.monotonic() < deadline, server.log_tail()
            time.sleep(0.5)
        kernels = server.kernels()
        assert kernels
        for kernel in kernels:
            env = kernel.environ()
            assert not [k for k, v in env.items() if token in v], sorted(env)
        refill = [k for k in kernels if k.pid not in before]
        assert any(env.get("VOILA_REQUEST_URL", "").endswith("/?x=1")
                   for env in (k.environ() for k in refill)), [k.environ().get(
                       "VOILA_REQUEST_URL") for k in refill]
    finally:
        server.stop()
    log = server.log()
    address = f"http://127.0.0.1:{server.port}/?token={token}"  # printed once, for the user
    lines = [line for line in log.splitlines() if token in line]
    assert lines == [address], lines
    assert "Blocking request with non-local 'Host'" in log and "403 GET / (127.0.0.1)" in log

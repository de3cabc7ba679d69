"""``genwidgets studio``: write the app notebook into a private folder and serve it with Voila.

The notebook is one cell: import genwidgets (the Keras backend), then show
``Studio(runs=..., app=True)``: the VAE on the digits with a run ready to train. Voila runs
in this process; Ctrl-C (or SIGTERM) stops it and the kernels it started.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import socket
import sys
import tempfile
from pathlib import Path

from genwidgets.app.settings import DEFAULT_PORT, HOST, AppSettings

NOTEBOOK_NAME = "genwidgets-studio.ipynb"
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
CELL = """\
import genwidgets  # Keras on JAX, before anything imports Keras
from genwidgets.widgets import Studio

Studio(runs={runs!r}, app=True)"""


def app_notebook(runs: str | Path):
    """The app's notebook (an ``nbformat`` node): one cell showing the Studio in app mode."""
    import nbformat

    cell = nbformat.v4.new_code_cell(CELL.format(runs=str(Path(runs).resolve())))
    return nbformat.v4.new_notebook(
        cells=[cell], metadata={"kernelspec": KERNELSPEC, "title": "genwidgets studio"})


def voila_argv(settings: AppSettings, notebook: Path) -> list[str]:
    """Voila's arguments: the lockdown options, the folder it may serve, the notebook."""
    return [*settings.voila_options(), f"--Voila.root_dir={notebook.parent}", str(notebook)]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"port on {HOST} (default {DEFAULT_PORT})")
    parser.add_argument("--no-browser", action="store_true",
                        help="do not open a browser; just print the address")
    parser.add_argument("--runs", default="runs",
                        help="folder where runs are written and saved runs are listed from "
                        "(created if missing; default ./runs)")


def settings_from_args(args: argparse.Namespace) -> AppSettings:
    return AppSettings(runs=Path(args.runs), port=args.port, open_browser=not args.no_browser)


def check_port(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((HOST, port))
        except OSError as exc:
            raise OSError(f"Expected a free port on {HOST}. Received: --port {port}, which is "
                          f"in use ({exc.strerror}). Pass another, e.g. --port "
                          f"{port + 1}.") from None


def require_voila() -> None:
    """Voila and nbformat come with the ``app`` extra; say how to get them if missing."""
    import importlib.util

    missing = [m for m in ("voila", "nbformat", "ipykernel") if importlib.util.find_spec(m) is None]
    if missing:
        raise ModuleNotFoundError(
            f"genwidgets studio needs {', '.join(missing)}, which are not installed. "
            "Install them with: pip install 'genwidgets[app]'")


def serve(settings: AppSettings) -> int:
    """Serve the Studio until interrupted. Returns the exit status."""
    require_voila()
    import nbformat

    check_port(settings.port)
    settings.runs.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="genwidgets-studio-"))
    try:
        notebook = folder / NOTEBOOK_NAME
        nbformat.write(app_notebook(settings.runs), notebook)
        print(f"genwidgets studio: serving the Studio on http://{HOST}:{settings.port}/ "
              f"(runs in {settings.runs}); the address with its token follows. "
              f"Ctrl-C stops it.", file=sys.stderr, flush=True)
        from voila.app import Voila

        # SIGTERM stops like Ctrl-C: Voila then shuts its kernels down.
        signal.signal(signal.SIGTERM, lambda *_: signal.raise_signal(signal.SIGINT))
        app = Voila.instance()
        app.initialize(voila_argv(settings, notebook))
        app.start()
        return 0
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main(args: argparse.Namespace) -> int:
    """The ``genwidgets studio`` command."""
    return serve(settings_from_args(args))

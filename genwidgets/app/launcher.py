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


def voila_argv(settings: AppSettings, notebook: Path, trust: Path | None = None) -> list[str]:
    """Voila's arguments: the lockdown options, the folder it may serve, the notebook.
    ``trust``: the private folder of the key that signed the notebook (it is trusted)."""
    signed = [] if trust is None else [f"--NotebookNotary.data_dir={trust}"]
    return [*settings.voila_options(), *signed, f"--Voila.root_dir={notebook.parent}",
            str(notebook)]


def sign_notebook(notebook, trust: Path) -> None:
    """Sign ``notebook`` with a key of the private folder ``trust``: Voila, given the same
    folder, trusts the notebook genwidgets wrote (no "not trusted" warning), and nothing is
    written to the user's Jupyter folders."""
    from nbformat.sign import NotebookNotary

    notary = NotebookNotary(data_dir=str(trust))
    notary.sign(notebook)
    notary.store.close()


def local_template(folder: Path, template_paths: list[str]) -> Path:
    """Voila's page template (the first ``index.html.j2`` of its ``template_paths``)
    without its stylesheet links to a CDN (Font Awesome; the widgets bring the icons they
    use): the app asks no other host for anything. Written to ``folder``, which the caller
    puts first in Voila's template paths."""
    import re

    from genwidgets.atomic import write_text

    found = [Path(p) / "index.html.j2" for p in template_paths
             if (Path(p) / "index.html.j2").is_file()]
    if found:
        page = found[0].read_text(encoding="utf-8")
        page = re.sub(r'\s*<link[^>]+href="https?://[^"]+"[^>]*>', "", page)
        write_text(folder / "index.html.j2", page)
    return folder


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
    try:
        settings.runs.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise NotADirectoryError(
            f"Expected --runs to be a folder (made when missing). Received: --runs "
            f"{settings.runs}, which is a file or lies inside one. Pass a folder.") from None
    folder = Path(tempfile.mkdtemp(prefix="genwidgets-studio-"))
    private = Path(tempfile.mkdtemp(prefix="genwidgets-studio-private-"))  # not served
    try:
        notebook = folder / NOTEBOOK_NAME
        page = app_notebook(settings.runs)
        sign_notebook(page, private)
        nbformat.write(page, notebook)
        print(f"genwidgets studio: serving the Studio on http://{HOST}:{settings.port}/ "
              f"(runs in {settings.runs}); the address with its token follows. "
              f"Ctrl-C stops it.", file=sys.stderr, flush=True)
        from genwidgets.app.tokens import studio_voila

        Voila = studio_voila()  # the token never reaches a kernel or the log
        # SIGTERM stops like Ctrl-C: Voila then shuts its kernels down.
        signal.signal(signal.SIGTERM, lambda *_: signal.raise_signal(signal.SIGINT))
        from traitlets.config import Config

        app = Voila.instance(config=Config(settings.voila_config()))
        app.initialize(voila_argv(settings, notebook, trust=private))
        app.template_paths.insert(0, str(local_template(private, app.template_paths)))
        app.start()
        return 0
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(private, ignore_errors=True)


def main(args: argparse.Namespace) -> int:
    """The ``genwidgets studio`` command."""
    return serve(settings_from_args(args))

"""Drive a real JupyterLab from headless Chromium: the server, the browser, notebook helpers.

Facts this relies on are listed in DESIGN.md ("Testing in a real browser"). No sleeps:
the page is polled with ``page.wait_for_function(..., polling=100)``.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import nbformat
import psutil

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
ALLOWED_HOSTS = ("127.0.0.1",)
# User settings the server starts with: every cell stays in the page (JupyterLab 4.2+
# removes off-screen cells otherwise), and no news prompt over the notebook.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LabServer:
    """A JupyterLab server of its own: root, settings, workspaces and runtime under ``base``."""

    def __init__(self, base: Path):
        self.base = Path(base)
        self.root = self.base / "root"
        self.settings_dir = self.base / "settings"
        self.workspaces_dir = self.base / "workspaces"
        self.log_path = self.base / "jupyterlab.log"
        self.token = secrets.token_hex(16)
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "jupyterlab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            "--ServerApp.allow_root=True",
            f"--IdentityProvider.token={self.token}",
            "--LabApp.expose_app_in_browser=True",
            f"--ServerApp.root_dir={self.root}",
            f"--LabApp.user_settings_dir={self.settings_dir}",
            f"--LabApp.workspaces_dir={self.workspaces_dir}",
        ]  # fmt: skip

    def _write_settings(self) -> None:
        for key, values in LAB_SETTINGS.items():
            package, plugin = key.rsplit("/", 1)
            path = self.settings_dir / package / f"{plugin}.jupyterlab-settings"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values, indent=2))

    def start(self, timeout: float = 90.0) -> LabServer:
        for folder in (self.root, self.workspaces_dir, self.base / "runtime", self.base / "config"):
            folder.mkdir(parents=True, exist_ok=True)
        self._write_settings()
        env = {
            **os.environ,
            "JUPYTER_RUNTIME_DIR": str(self.base / "runtime"),
            "JUPYTER_CONFIG_DIR": str(self.base / "config"),
        }
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                self.command(), cwd=self.root, env=env, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self.api("GET", "api/status", timeout=2)
                return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            try:  # waits a little and notices an early exit
                code = self.proc.wait(timeout=0.2)
            except subprocess.TimeoutExpired:
                continue
            raise RuntimeError(
                f"JupyterLab exited with code {code} before answering /api/status.\n"
                f"{self.log_tail()}"
            )
        self.stop()
        raise RuntimeError(
            f"JupyterLab did not answer {self.url}api/status within {timeout:.0f} s.\n"
            f"{self.log_tail()}"
        )

    def stop(self, timeout: float = 15.0) -> None:
        """Terminate the server's process group, then kill it and any kernel left over.

        Kernels run in sessions of their own (jupyter_client starts them so), hence the
        list of descendants taken before the server goes.
        """
        if self.proc is None or self.proc.poll() is not None:
            return
        pgid = self.proc.pid  # start_new_session=True: the server leads its own group
        try:
            children = psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            children = []
        _signal_group(pgid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _signal_group(pgid, signal.SIGKILL)
            self.proc.wait(timeout=timeout)
        _signal_group(pgid, signal.SIGKILL)  # anything else still in the group
        _, alive = psutil.wait_procs(children, timeout=5)
        for child in alive:
            try:
                child.kill()
            except psutil.NoSuchProcess:
                pass

    def api(self, method: str, path: str, timeout: float = 10.0):
        request = urllib.request.Request(
            self.url + path.lstrip("/"),
            method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
        return json.loads(body) if body else None

    def delete_sessions(self) -> None:
        """Shut down every kernel the pages started (kernels outlive a closed page), and
        forget the saved workspace, so the next page does not reopen this test's tabs
        (five restored notebooks start five kernels on two cores)."""
        for session in self.api("GET", "api/sessions"):
            self.api("DELETE", f"api/sessions/{session['id']}")
        for saved in self.workspaces_dir.glob("*.jupyterlab-workspace"):
            saved.unlink()

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no JupyterLab log)"
        tail = "\n".join(text.splitlines()[-lines:])
        return f"--- last {lines} lines of {self.log_path} ---\n{tail}"

    def write_notebook(self, name: str, cells: list[str]) -> Path:
        """Write a fresh notebook of code cells into the server's root (replacing any old one)."""
        notebook = nbformat.v4.new_notebook(
            cells=[nbformat.v4.new_code_cell(source) for source in cells],
            metadata={"kernelspec": KERNELSPEC},
        )
        path = self.root / name
        nbformat.write(notebook, path)
        return path

    def notebook_url(self, name: str) -> str:
        # ?reset: a fresh workspace, only this notebook open (no tabs of earlier tests)
        return f"{self.url}lab/tree/{name}?reset&token={self.token}"


class NotebookServer(LabServer):
    """Jupyter Notebook 7 (the ``notebook`` package) on the same footing: its own root,
    settings, workspaces and runtime, the app exposed to the page as ``window.jupyterapp``."""

    def command(self) -> list[str]:
        lab = super().command()
        return [sys.executable, "-m", "notebook",
                *(a.replace("--LabApp.", "--JupyterNotebookApp.") for a in lab[3:])]

    def notebook_url(self, name: str) -> str:
        return f"{self.url}notebooks/{name}?token={self.token}"


# -- the browser ---------------------------------------------------------------


def launch_chromium(playwright, user_data_dir: Path, blocked: list[str] | None = None):
    """A headless Chromium context (fresh profile) that reaches only 127.0.0.1."""
    context = playwright.chromium.launch_persistent_context(
        str(user_data_dir),
        executable_path=str(CHROMIUM),
        headless=True,
        args=list(CHROMIUM_ARGS),
        viewport={"width": 1280, "height": 900},
    )
    blocked = [] if blocked is None else blocked

    def only_local(route):
        url = route.request.url
        if urlsplit(url).hostname in ALLOWED_HOSTS:
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    context.route("**/*", only_local)
    context.set_default_timeout(60_000)
    return context


# -- a notebook in the page ----------------------------------------------------

_NOTEBOOK_READY = """(path) => {
  const app = window.jupyterapp;
  const panel = app && app.shell.currentWidget;
  if (!panel || !panel.context || panel.context.path !== path) return false;
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  return panel.context.isReady && !!kernel && kernel.status === 'idle';
}"""

_CELLS_DONE = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const cells = panel.content.widgets.filter((c) => c.model.type === 'code');
  const errors = [];
  for (const cell of cells) {
    const outputs = cell.model.outputs;
    for (let i = 0; i < outputs.length; i++) {
      const out = outputs.get(i).toJSON();
      if (out.output_type === 'error') errors.push(`${out.ename}: ${out.evalue}`);
    }
  }
  if (errors.length) return { errors };
  const kernel = panel.sessionContext.session.kernel;
  const done = cells.every((c) => c.model.executionCount !== null);
  return done && kernel.status === 'idle' ? { errors: [] } : false;
}"""


def open_notebook(page, lab: LabServer, name: str, timeout: float = 60.0) -> None:
    """Open ``name`` in JupyterLab and wait until its kernel is idle."""
    page.goto(lab.notebook_url(name))
    page.wait_for_function(_NOTEBOOK_READY, arg=name, polling=100, timeout=timeout * 1000)


def run_all_cells(page, timeout: float = 60.0) -> None:
    """Clear outputs, run every cell and wait until all have run; raise on error outputs."""
    page.evaluate(
        """async () => {
          const commands = window.jupyterapp.commands;
          await commands.execute('notebook:clear-all-cell-outputs');
          commands.execute('notebook:run-all-cells');  // done is polled, not awaited
        }"""
    )
    handle = page.wait_for_function(_CELLS_DONE, polling=100, timeout=timeout * 1000)
    errors = handle.json_value()["errors"]
    if errors:
        raise AssertionError("A notebook cell raised: " + "; ".join(errors))


def wait_for(page, expression: str, arg=None, timeout: float = 30.0):
    """Wait until the JS ``expression`` (a function) returns something truthy; return it."""
    handle = page.wait_for_function(expression, arg=arg, polling=100, timeout=timeout * 1000)
    return handle.json_value()


def artifacts_dir(fallback: Path) -> Path:
    """Where screenshots go: ``$GENWIDGETS_ARTIFACTS`` if set, else ``fallback``."""
    folder = Path(os.environ.get("GENWIDGETS_ARTIFACTS") or fallback)
    folder.mkdir(parents=True, exist_ok=True)
    return folder

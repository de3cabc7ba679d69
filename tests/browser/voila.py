"""``genwidgets studio`` as a process for tests and benchmarks: start it, read its address
from Voila's log ("is running at"), find its kernels, stop it by its process id."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

from .harness import _signal_group, free_port

ADDRESS = re.compile(r"is running at:\s*\n?\s*(http://127\.0\.0\.1:\d+/\S*)")


class StudioServer:
    """The app served by the real command, with its own runs, runtime and config folders."""

    def __init__(self, base: Path, runs: Path | None = None):
        self.base = Path(base)
        self.runs = Path(runs) if runs is not None else self.base / "runs"
        self.log_path = self.base / "studio.log"
        self.port = free_port()
        self.url: str | None = None
        self.proc: subprocess.Popen | None = None

    def command(self) -> list[str]:
        return [sys.executable, "-m", "genwidgets.cli", "studio", "--no-browser",
                "--port", str(self.port), "--runs", str(self.runs)]

    def start(self, timeout: float = 60.0) -> StudioServer:
        for folder in ("runtime", "config", "data"):
            (self.base / folder).mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(self.base / "runtime"),
               "JUPYTER_CONFIG_DIR": str(self.base / "config"),
               "JUPYTER_DATA_DIR": str(self.base / "data")}
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(self.command(), env=env, stdout=log,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = ADDRESS.search(self.log())
            if found:
                self.url = found.group(1)
                return self
            try:
                code = self.proc.wait(timeout=0.2)
            except subprocess.TimeoutExpired:
                continue
            raise RuntimeError(f"genwidgets studio exited with code {code} before serving.\n"
                               f"{self.log_tail()}")
        self.stop()
        raise RuntimeError(f"genwidgets studio did not say 'is running at' within "
                           f"{timeout:.0f} s.\n{self.log_tail()}")

    def kernels(self) -> list[psutil.Process]:
        """The kernels the server runs now."""
        if self.proc is None or self.proc.poll() is not None:
            return []
        return [p for p in psutil.Process(self.proc.pid).children(recursive=True)
                if "ipykernel" in " ".join(p.cmdline())]

    def kernel(self, kernel_id: str) -> psutil.Process | None:
        """The process of the kernel ``kernel_id`` (its connection file names it)."""
        found = [k for k in self.kernels() if f"kernel-{kernel_id}" in " ".join(k.cmdline())]
        return found[0] if found else None

    def wait_quiet(self, timeout: float = 120.0, cpu: float = 15.0) -> None:
        """Wait until a kernel runs and no kernel is busy (the pre-heated one has shown the
        Studio): a page asked for now is served by a ready kernel."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            kernels = self.kernels()
            for k in kernels:
                k.cpu_percent()
            time.sleep(1.0)
            try:
                busy = [k for k in kernels if k.cpu_percent() > cpu]
            except psutil.NoSuchProcess:
                continue
            if kernels and not busy:
                return
        raise TimeoutError(f"The app's kernels were still busy after {timeout:.0f} s.\n"
                           f"{self.log_tail()}")

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM (the command shuts its kernels down), then kill whatever is left."""
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            children = psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            children = []
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _signal_group(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=timeout)
        _, alive = psutil.wait_procs(children, timeout=5)
        for child in alive:
            try:
                child.kill()
            except psutil.NoSuchProcess:
                pass

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 60) -> str:
        tail = "\n".join(self.log().splitlines()[-lines:])
        return f"--- last {lines} lines of {self.log_path} ---\n{tail}"

"""What app mode locks down, in one place.

- The server listens on 127.0.0.1 only and asks for a token (printed in its address).
- The page can open comms and nothing else: Voila does not forward ``execute_request``,
  so code runs only through the widgets' callbacks (training starts from buttons).
- Voila serves the app notebook and no other file (its root is a private folder holding
  only that notebook; no static files are allowed).
- A closed tab shuts its kernel down: Voila's page posts a shutdown as it unloads. That
  post carries no XSRF token (Voila 0.5 never sets the ``_xsrf`` cookie), so
  the XSRF check is off. What it guarded stays guarded: requests need the token's login
  cookie, set ``SameSite=Strict`` so no browser sends it with another site's POST, the
  server answers only local Host names, and the only POST is this shutdown of a kernel
  named by its random id. Kernels whose page went away without saying so are culled once
  idle, unconnected, for ``cull_idle_s``.
- The token stays in the address bar: it moves into a header before a handler reads the
  request, so no kernel's environment (``VOILA_REQUEST_URL``, ``QUERY_STRING``) and no log
  line holds it (:mod:`genwidgets.app.tokens`).
- No free-form paths: the Studio lists saved runs from the ``--runs`` folder by name
  (:func:`genwidgets.widgets.studio.saved_runs`), resolves a name only to a folder directly
  inside it (:func:`genwidgets.widgets.studio.saved_run_path`), and loads models with
  ``safe_mode=True``.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

HOST = "127.0.0.1"
DEFAULT_PORT = 8866
# JupyterLab extensions the app's page does not load: pygments (no code is shown) and
# Notebook 7's (its shared modules break Voila's page: "The getter for the shared module
# is not a function", and the widgets never show).
DENIED_EXTENSIONS = ("jupyterlab_pygments", "@jupyter-notebook/lab-extension")


@dataclasses.dataclass(frozen=True, kw_only=True)
class AppSettings:
    """The app's server settings. ``runs`` is made absolute (the kernel runs elsewhere)."""

    runs: Path = Path("runs")
    port: int = DEFAULT_PORT
    open_browser: bool = True
    cull_idle_s: int = 300  # a kernel nobody is connected to, idle this long, is shut down
    cull_interval_s: int = 30
    pool_size: int = 1  # kernels kept ready with the Studio shown (0: run it on request)

    def __post_init__(self):
        if not 1 <= int(self.port) <= 65535:
            raise ValueError(f"Expected a port between 1 and 65535. Received: port={self.port}")
        if self.cull_idle_s < 1 or self.cull_interval_s < 1:
            raise ValueError(
                f"Expected positive culling times. Received: cull_idle_s={self.cull_idle_s}, "
                f"cull_interval_s={self.cull_interval_s}")
        object.__setattr__(self, "runs", Path(os.path.abspath(self.runs)))

    def voila_options(self) -> list[str]:
        """Voila's command-line options for these settings (the notebook path comes last)."""
        return [
            f"--Voila.ip={HOST}",
            f"--Voila.port={int(self.port)}",
            "--Voila.port_retries=0",  # the address asked for, or a clear failure
            f"--Voila.open_browser={self.open_browser}",
            "--token",  # a generated token, printed in the address
            "--VoilaConfiguration.show_tracebacks=False",
            # The notebook runs in a kernel kept ready before a page asks for it.
            "--VoilaConfiguration.preheat_kernel=True",
            f"--VoilaConfiguration.default_pool_size={int(self.pool_size)}",
            "--VoilaConfiguration.file_allowlist=^$",  # no file but the notebook
            "--KernelManager.transport=ipc",  # local sockets, not TCP on 127.0.0.1
            f"--MappingKernelManager.cull_idle_timeout={int(self.cull_idle_s)}",
            f"--MappingKernelManager.cull_interval={int(self.cull_interval_s)}",
            "--MappingKernelManager.cull_connected=False",
        ]

    def voila_config(self) -> dict:
        """The settings that are dictionaries or lists (typed: the command line would pass
        strings): the XSRF check off (see above), only local Host headers, an access log
        without the token, the login cookie ``SameSite=Strict``, the extensions denied."""
        from genwidgets.app.tokens import log_request

        return {"Voila": {"tornado_settings": {
                    "disable_check_xsrf": True,
                    # Voila allows any Host; only local names and loopback addresses here
                    # (a page of another site reached through DNS rebinding is refused)
                    "allow_remote_access": False, "local_hostnames": ["localhost"],
                    "log_function": log_request}},  # the access log hides the token
                "IdentityProvider": {"cookie_options": {"samesite": "Strict"}},
                "VoilaConfiguration": {"extension_denylist": list(DENIED_EXTENSIONS)}}

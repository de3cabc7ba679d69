"""The standalone app: ``genwidgets studio`` serves the :class:`~genwidgets.widgets.Studio`
with Voila on 127.0.0.1.

``launcher`` writes the app's one-cell notebook into a private folder and starts Voila on
it; ``settings`` holds what app mode locks down (the Voila options, and the run folders a
page may open). Importing this package imports neither Voila, Keras nor JAX.
"""

from __future__ import annotations

from genwidgets.app.launcher import app_notebook, serve, voila_argv
from genwidgets.app.settings import AppSettings

__all__ = ["AppSettings", "app_notebook", "serve", "voila_argv"]

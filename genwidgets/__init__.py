"""genwidgets: watch generative models train and walk their latent space in JupyterLab.

Importing this package sets ``KERAS_BACKEND=jax`` (unless set) and imports neither
Keras nor JAX: plugins need only ``hookimpl``, ``ModelSpec`` and ``DatasetSpec``.
"""

from __future__ import annotations

from genwidgets._backend import BackendError, ensure_jax_backend

ensure_jax_backend(strict=False)

from genwidgets.hookspecs import hookimpl  # noqa: E402
from genwidgets.spec import (  # noqa: E402
    Dataset,
    DataInfo,
    DatasetSpec,
    ModelSpec,
)

__version__ = "0.1.0"

__all__ = [
    "BackendError",
    "DataInfo",
    "Dataset",
    "DatasetSpec",
    "ModelSpec",
    "__version__",
    "hookimpl",
]

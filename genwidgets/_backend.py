"""Make sure Keras runs on JAX, before anyone imports Keras."""

from __future__ import annotations

import os
import sys
import warnings

BACKEND = "jax"


class BackendError(RuntimeError):
    """Keras is set to, or was already imported with, a backend other than JAX."""


def backend_problem() -> str | None:
    """Say what is wrong with the Keras backend for genwidgets, or None when all is well."""
    keras = sys.modules.get("keras")
    if keras is not None and hasattr(keras, "backend"):
        try:
            active = keras.backend.backend()
        except Exception:  # a half-imported keras: judge by the environment
            active = os.environ.get("KERAS_BACKEND", BACKEND)
        if active != BACKEND:
            return (
                f"genwidgets needs Keras on the JAX backend, but Keras was already imported "
                f"with backend {active!r}. Expected KERAS_BACKEND='jax' before the first "
                f"'import keras'. Received: KERAS_BACKEND={os.environ.get('KERAS_BACKEND')!r}. "
                f"Fix: restart the kernel and import genwidgets before keras, or set "
                f"KERAS_BACKEND=jax in the environment."
            )
        return None
    chosen = os.environ.get("KERAS_BACKEND")
    if chosen and chosen != BACKEND:
        return (
            f"genwidgets needs Keras on the JAX backend. Expected KERAS_BACKEND='jax'. "
            f"Received: KERAS_BACKEND={chosen!r}. Fix: unset it or set it to 'jax'."
        )
    return None


def ensure_jax_backend(strict: bool = True) -> None:
    """Set ``KERAS_BACKEND=jax`` (and JAX's memory habits) unless something else was chosen.

    With ``strict`` a wrong backend raises :class:`BackendError`; without, it warns
    (so that listing plugins still works) and building a model raises later.
    """
    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    problem = backend_problem()
    if problem is None:
        os.environ.setdefault("KERAS_BACKEND", BACKEND)
        return
    if strict:
        raise BackendError(problem)
    warnings.warn(problem, RuntimeWarning, stacklevel=3)


def import_keras():
    """Import Keras on JAX, raising a clear error if that cannot be had."""
    ensure_jax_backend(strict=True)
    import keras

    return keras


def keras_imported() -> bool:
    """Whether Keras or JAX has been imported in this process."""
    return "keras" in sys.modules or "jax" in sys.modules

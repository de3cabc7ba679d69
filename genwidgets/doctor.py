"""``genwidgets doctor``: versions, devices and known-bad combinations."""

from __future__ import annotations

import os
import platform
from importlib import metadata

PACKAGES = ("genwidgets", "keras", "jax", "jaxlib", "ipywidgets", "jupyterlab_widgets",
            "widgetsnbextension", "plotly", "anywidget", "jupyterlab", "voila", "ipykernel",
            "numpy", "scikit-learn", "pluggy")


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _major(version: str | None) -> int | None:
    try:
        return int(version.split(".")[0]) if version else None
    except ValueError:
        return None


def known_problems(versions: dict[str, str | None], environ=os.environ) -> list[str]:
    """Known-bad combinations among ``versions`` (package name -> version or None)."""
    problems = []
    ipyw, jlw = _major(versions.get("ipywidgets")), _major(versions.get("jupyterlab_widgets"))
    if ipyw is None:
        problems.append("ipywidgets is not installed: pip install 'ipywidgets>=8'")
    elif ipyw < 8:
        problems.append(f"ipywidgets {versions['ipywidgets']} is too old: genwidgets needs 8.x")
    if ipyw == 8 and jlw is not None and jlw != 3:
        problems.append(
            f"ipywidgets {versions['ipywidgets']} in the kernel needs jupyterlab_widgets 3.x in "
            f"the server; found {versions['jupyterlab_widgets']}: widgets will not render. "
            f"Fix: pip install 'jupyterlab_widgets>=3,<4'")
    if ipyw == 7 and jlw is not None and jlw != 1:
        problems.append(
            f"ipywidgets 7 needs jupyterlab_widgets 1.x; found {versions['jupyterlab_widgets']}")
    plotly = _major(versions.get("plotly"))
    if plotly is not None and plotly >= 6 and versions.get("anywidget") is None:
        problems.append(
            f"plotly {versions['plotly']} FigureWidget needs anywidget: pip install anywidget")
    backend = environ.get("KERAS_BACKEND", "jax")
    if backend != "jax":
        problems.append(
            f"KERAS_BACKEND={backend!r}: genwidgets runs Keras on JAX. Unset it or set 'jax'.")
    from genwidgets._backend import backend_problem

    if backend == "jax" and (problem := backend_problem()):
        problems.append(problem)
    if versions.get("keras") and (_major(versions["keras"]) or 0) < 3:
        problems.append(f"keras {versions['keras']} is Keras 2: genwidgets needs Keras 3")
    return problems


def _devices() -> list[str]:
    try:
        import jax

        return [f"{d.platform}:{d.id} ({getattr(d, 'device_kind', '')})" for d in jax.devices()]
    except Exception as exc:  # report, don't crash: that is the doctor's job
        return [f"unavailable: {type(exc).__name__}: {exc}"]


def diagnose() -> dict:
    versions = {"python": platform.python_version(), **{p: _version(p) for p in PACKAGES}}
    problems = known_problems(versions)
    from genwidgets.registry import get_registry

    failures = get_registry().failures
    problems += [f"plugin {f.plugin!r} failed: {f.error}" for f in failures]
    return {
        "versions": versions,
        "devices": _devices(),
        "xla_preallocate": os.environ.get("XLA_PYTHON_CLIENT_PREALLOCATE"),
        "problems": problems,
    }

"""Paths between two latent vectors: straight (``lerp``) or along the sphere (``slerp``).

NumPy only. Every path has ``n`` points and starts and ends exactly at ``a`` and ``b``.
"""

from __future__ import annotations

import numpy as np

MODES = ("linear", "spherical")
_PARALLEL = 1e-6  # 1 - cos(angle) below this: the directions are the same


def _endpoints(a, b, n) -> tuple[np.ndarray, np.ndarray, int]:
    a = np.asarray(a, dtype="float64").reshape(-1)
    b = np.asarray(b, dtype="float64").reshape(-1)
    if a.shape != b.shape or a.size == 0:
        raise ValueError(f"Expected two latent vectors of the same length. Received: "
                         f"a.shape={a.shape}, b.shape={b.shape}")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise ValueError("Expected finite latent vectors. Received: a or b holds NaN or inf")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"Expected n >= 2 steps (the path includes both ends). "
                         f"Received: n={n!r}")
    return a, b, int(n)


def _finish(out: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out[0], out[-1] = a, b
    return out.astype("float32")


def lerp(a, b, n: int) -> np.ndarray:
    """``n`` evenly spaced points on the segment from ``a`` to ``b``: shape (n, d)."""
    a, b, n = _endpoints(a, b, n)
    t = np.linspace(0.0, 1.0, n)[:, None]
    return _finish((1.0 - t) * a + t * b, a, b)


def perpendicular(u: np.ndarray) -> np.ndarray:
    """A unit vector at right angles to the unit vector ``u`` (any, but always the same)."""
    e = np.zeros_like(u)
    e[np.argmin(np.abs(u))] = 1.0
    v = e - (e @ u) * u
    return v / np.linalg.norm(v)


def slerp(a, b, n: int) -> np.ndarray:
    """``n`` points turning from ``a``'s direction to ``b``'s at a constant angular speed.

    The norm goes linearly from ``|a|`` to ``|b|`` (so it stays constant when they are
    equal, as for two draws of a Gaussian prior, and the path never cuts through the
    low-density middle the way a straight line does). Opposite directions turn through a
    fixed perpendicular direction; a zero endpoint or equal directions give ``lerp``.
    """
    a, b, n = _endpoints(a, b, n)
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0.0 or nb == 0.0 or a.size == 1:  # no direction, or no way round in 1-D
        return lerp(a, b, n)
    ua, ub = a / na, b / nb
    cos = float(np.clip(ua @ ub, -1.0, 1.0))
    if 1.0 - cos < _PARALLEL:
        return lerp(a, b, n)
    t = np.linspace(0.0, 1.0, n)[:, None]
    if 1.0 + cos < _PARALLEL:  # opposite: no plane is given, pick one
        v = perpendicular(ua)
        directions = np.cos(np.pi * t) * ua + np.sin(np.pi * t) * v
    else:
        omega = np.arccos(cos)
        directions = (np.sin((1.0 - t) * omega) * ua + np.sin(t * omega) * ub) / np.sin(omega)
    norms = (1.0 - t) * na + t * nb
    return _finish(directions * norms, a, b)


def path(a, b, n: int, mode: str = "linear") -> np.ndarray:
    """``lerp`` (``mode="linear"``) or ``slerp`` (``mode="spherical"``) from a to b."""
    if mode == "linear":
        return lerp(a, b, n)
    if mode == "spherical":
        return slerp(a, b, n)
    raise ValueError(f"Expected mode to be one of {MODES}. Received: mode={mode!r}")

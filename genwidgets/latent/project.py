"""2-D views of a latent space: the latent itself when it is 2-D, a fixed PCA plane otherwise.

The basis is chosen once, at :meth:`Projection.fit`, and kept: maps drawn from the
encodings of later epochs use the same axes, so points move instead of the axes flipping.
"""

from __future__ import annotations

import numpy as np


def _latents(z, what: str = "z") -> np.ndarray:
    z = np.asarray(z, dtype="float64")
    if z.ndim != 2 or z.shape[1] < 1:
        raise ValueError(f"Expected {what} of shape (n, latent_dim). Received: "
                         f"{what}.shape={z.shape}")
    if not np.all(np.isfinite(z)):
        raise ValueError(f"Expected finite {what}. Received: NaN or inf values")
    return z


class Projection:
    """Latent vectors (n, d) to map positions (n, 2) and back.

    ``d == 2``: the identity. ``d == 1``: the value on x, 0 on y. ``d > 2``: the first two
    principal axes of the latents given to :meth:`fit` (scikit-learn's PCA), fixed after.
    """

    def __init__(self):
        self.latent_dim: int | None = None
        self.mean: np.ndarray | None = None  # (d,): the centre of the fitted latents
        self.components: np.ndarray | None = None  # (2, d): the map's axes, orthonormal
        self.explained_variance_ratio: np.ndarray | None = None

    @property
    def fitted(self) -> bool:
        return self.latent_dim is not None

    def fit(self, z) -> Projection:
        """Choose the basis from ``z`` (n, d); call once and keep it for later epochs."""
        z = _latents(z)
        d = z.shape[1]
        if d <= 2:
            self.mean = np.zeros(d)
            self.components = np.eye(2, d)
            self.explained_variance_ratio = None
        else:
            if len(z) < 2:
                raise ValueError(f"Expected at least 2 latent vectors to fit a PCA plane. "
                                 f"Received: z.shape={z.shape}")
            from sklearn.decomposition import PCA

            pca = PCA(n_components=2, svd_solver="full").fit(z)
            self.mean, self.components = pca.mean_.copy(), pca.components_.copy()
            self.explained_variance_ratio = pca.explained_variance_ratio_.copy()
        self.latent_dim = d
        return self

    def _check(self, z) -> np.ndarray:
        if not self.fitted:
            raise RuntimeError("This Projection is not fitted yet. Call fit(z) first.")
        z = _latents(z)
        if z.shape[1] != self.latent_dim:
            raise ValueError(f"Expected z of shape (n, {self.latent_dim}) like the latents "
                             f"this Projection was fitted on. Received: z.shape={z.shape}")
        return z

    def transform(self, z) -> np.ndarray:
        """Map positions (n, 2) of latent vectors ``z`` (n, d)."""
        z = self._check(z)
        return ((z - self.mean) @ self.components.T).astype("float32")

    def inverse(self, p) -> np.ndarray:
        """Latent vectors (m, d) at map positions ``p`` (m, 2): on the plane for d > 2."""
        if not self.fitted:
            raise RuntimeError("This Projection is not fitted yet. Call fit(z) first.")
        p = _latents(p, "p")
        if p.shape[1] != 2:
            raise ValueError(f"Expected map positions of shape (m, 2). Received: "
                             f"p.shape={p.shape}")
        return (p @ self.components + self.mean).astype("float32")

    def fit_transform(self, z) -> np.ndarray:
        return self.fit(z).transform(z)

    def __repr__(self) -> str:
        if not self.fitted:
            return "Projection(not fitted)"
        kind = "identity" if self.latent_dim <= 2 else "pca"
        return f"Projection({kind}, latent_dim={self.latent_dim})"

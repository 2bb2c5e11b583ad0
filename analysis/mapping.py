"""The 2-D map of the articles: UMAP (cosine) when umap-learn is installed, else PCA."""

from __future__ import annotations

import numpy as np


def map_2d(x: np.ndarray, seed: int, method: str = "auto") -> tuple[np.ndarray, str]:
    """(n × 2 coordinates scaled into [-1, 1], the method used: ``umap`` or ``pca``)."""
    n = x.shape[0]
    if n < 3:
        return np.zeros((n, 2)), "none"
    used = method
    if method in ("auto", "umap"):
        try:
            import umap

            xy = umap.UMAP(
                n_neighbors=min(15, n - 1), n_components=2, min_dist=0.1, metric="cosine",
                random_state=seed, init="spectral" if n > 50 else "random",
            ).fit_transform(x)
            used = "umap"
        except ImportError:
            if method == "umap":
                raise
            used = "pca"
    if used == "pca":
        from sklearn.decomposition import PCA

        xy = PCA(n_components=2, random_state=seed).fit_transform(x)
    xy = np.asarray(xy, dtype=float)
    xy -= xy.mean(axis=0)
    scale = np.abs(xy).max()
    return (xy / scale if scale > 0 else xy), used

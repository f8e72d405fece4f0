"""2-D maps of sentence vectors: UMAP with a fixed seed, PCA for sets too small for UMAP."""

from __future__ import annotations

import warnings
from typing import Literal

import numpy as np

__all__ = ["Projection", "TooFewPoints", "UMAP_MIN_POINTS", "project"]

Projection = Literal["auto", "umap", "pca"]

UMAP_MIN_POINTS = 20
"""Fewest points mapped with UMAP under "auto": its neighbour graph needs more points than
neighbours, and below this a linear projection shows a handful of sentences as faithfully."""


class TooFewPoints(ValueError):
    """The requested projection cannot map this few points (UMAP below 4)."""


def project(vectors: np.ndarray, method: Projection = "auto", seed: int = 0) -> tuple[np.ndarray, str]:
    """(n, 2) coordinates of `vectors` and the name of the method used ("umap" or "pca").

    Deterministic: the same vectors and seed give the same map.
    """
    vectors = np.asarray(vectors, dtype=np.float64)
    n = len(vectors)
    if method not in ("auto", "umap", "pca"):
        raise ValueError(f"projection must be 'auto', 'umap' or 'pca', got {method!r}")
    if method == "umap" or (method == "auto" and n >= UMAP_MIN_POINTS):
        if n < 4:
            raise TooFewPoints(f"UMAP needs at least 4 sentences to map, got {n}: use --projection pca or auto")
        return _umap(vectors, seed), "umap"
    return _pca(vectors), "pca"


def _pca(vectors: np.ndarray) -> np.ndarray:
    """First two principal components, signs fixed so that a map never flips between runs."""
    out = np.zeros((len(vectors), 2))
    if len(vectors) < 2:
        return out
    centred = vectors - vectors.mean(axis=0)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    components = components[:2]
    signs = np.sign(components[np.arange(len(components)), np.abs(components).argmax(axis=1)])
    coords = centred @ (components * signs[:, None]).T
    out[:, : coords.shape[1]] = coords
    return out


def _umap(vectors: np.ndarray, seed: int) -> np.ndarray:
    """UMAP on exact cosine neighbours, computed here: the few hundred points of a report need
    no approximate search, and skipping it spares numba compiling one (seconds per process)."""
    from umap import UMAP

    neighbours = max(2, min(15, len(vectors) - 1))
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    distance = np.sqrt(np.maximum(2.0 - 2.0 * (unit @ unit.T), 0.0))  # Euclidean on unit vectors: cosine order
    np.fill_diagonal(distance, -1.0)  # each point is its own first neighbour, even among duplicates
    index = np.argsort(distance, axis=1, kind="stable")[:, :neighbours]
    knn = np.take_along_axis(np.maximum(distance, 0.0), index, axis=1)
    model = UMAP(
        n_components=2, n_neighbors=neighbours, min_dist=0.1, metric="euclidean", random_state=seed,
        precomputed_knn=(index, knn, None),
    )
    with warnings.catch_warnings():  # "n_jobs overridden by random_state": the price of a fixed map
        warnings.simplefilter("ignore")
        return np.asarray(model.fit_transform(unit), dtype=np.float64)

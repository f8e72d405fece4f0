"""Baseline sentence scorers (higher = more likely not to belong), for side-by-side runs."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from coherence.encoders.base import Encoder
from coherence.evidence.similarity import leave_one_out_cosine, tfidf_similarity


def naive_centroid_scores(sentences: Sequence[str], encoder: Encoder) -> np.ndarray:
    """The hand-rolled pipeline: embed, take the centroid of the others, 1 - cosine."""
    if len(sentences) < 2:
        return np.zeros(len(sentences))
    return 1.0 - leave_one_out_cosine(encoder.encode(list(sentences)))


def tfidf_scores(sentences: Sequence[str]) -> np.ndarray:
    """TF-IDF vectors fitted on the article's own sentences, 1 - leave-one-out cosine."""
    if len(sentences) < 2:
        return np.zeros(len(sentences))
    return 1.0 - tfidf_similarity(sentences)


def knn_scores(sentences: Sequence[str], encoder: Encoder, k: int = 3) -> np.ndarray:
    """1 - mean cosine to the k most similar other sentences of the article."""
    if len(sentences) < 2:
        return np.zeros(len(sentences))
    vectors = encoder.encode(list(sentences))
    similarity = vectors @ vectors.T
    np.fill_diagonal(similarity, -np.inf)
    k = min(k, len(sentences) - 1)
    nearest = -np.sort(-similarity, axis=1)[:, :k]
    return 1.0 - nearest.mean(axis=1)


def lof_scores(sentences: Sequence[str], encoder: Encoder, n_neighbors: int = 10) -> np.ndarray:
    """Local outlier factor of each sentence vector among the article's (cosine distance,
    min(n_neighbors, n - 1) neighbours); about 1 for inliers, larger for outliers. Articles
    of fewer than 3 sentences have no neighbourhood to compare with and score 0."""
    import warnings

    from sklearn.neighbors import LocalOutlierFactor

    if len(sentences) < 3:
        return np.zeros(len(sentences))
    lof = LocalOutlierFactor(n_neighbors=min(n_neighbors, len(sentences) - 1), metric="cosine")
    with warnings.catch_warnings():  # repeated sentences: sklearn warns about duplicate points
        warnings.simplefilter("ignore", UserWarning)
        lof.fit(encoder.encode(list(sentences)))
    return -lof.negative_outlier_factor_

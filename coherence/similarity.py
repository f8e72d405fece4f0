"""Whole-article similarity views: leave-one-out cosine to the rest of the article.

Two views that complement the dominant-topic evidence: the sentence vectors' centroid over the
whole article (every sentence counts, not only the main story) and TF-IDF over the article's
own sentences (exact words, weighted by how rare they are within the article).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["leave_one_out_cosine", "tfidf_similarity"]


def leave_one_out_cosine(vectors: np.ndarray) -> np.ndarray:
    """Cosine of each row to the sum of all the other rows (0 where either is zero)."""
    vectors = np.asarray(vectors, dtype=float)
    rest = vectors.sum(axis=0)[None, :] - vectors
    norms = np.linalg.norm(rest, axis=1) * np.linalg.norm(vectors, axis=1)
    norms[norms == 0] = 1.0
    return np.einsum("ij,ij->i", vectors, rest) / norms


def tfidf_similarity(sentences: Sequence[str]) -> np.ndarray:
    """Leave-one-out cosine of TF-IDF vectors fitted on the article's own sentences
    (English stop words removed, sublinear term frequency); 0 for a sentence with no
    vocabulary, and for every sentence of an article with fewer than two."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    if len(sentences) < 2:
        return np.zeros(len(sentences))
    try:
        matrix = TfidfVectorizer(stop_words="english", sublinear_tf=True).fit_transform(sentences)
    except ValueError:  # no vocabulary at all
        return np.zeros(len(sentences))
    return leave_one_out_cosine(matrix.toarray())

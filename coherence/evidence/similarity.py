"""Whole-article similarity views: leave-one-out cosine to the rest of the article.

Two views that complement the dominant-topic evidence: the sentence vectors' centroid over the
whole article (every sentence counts, not only the main story) and TF-IDF over the article's
own sentences (exact words, weighted by how rare they are within the article).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from coherence.text.stop_words import ENGLISH_STOP_WORDS

__all__ = ["leave_one_out_cosine", "tfidf_matrix", "tfidf_similarity"]

_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # words of two or more characters


def leave_one_out_cosine(vectors: np.ndarray) -> np.ndarray:
    """Cosine of each row to the sum of all the other rows (0 where either is zero)."""
    vectors = np.asarray(vectors, dtype=float)
    rest = vectors.sum(axis=0)[None, :] - vectors
    norms = np.linalg.norm(rest, axis=1) * np.linalg.norm(vectors, axis=1)
    norms[norms == 0] = 1.0
    return np.einsum("ij,ij->i", vectors, rest) / norms


def tfidf_matrix(sentences: Sequence[str]) -> np.ndarray:
    """L2-normalised TF-IDF rows of the sentences, fitted on these sentences alone: lower-cased
    words of 2+ characters, English stop words removed, sublinear term frequency (1 + ln tf),
    smoothed idf (ln((1 + n) / (1 + df)) + 1). The weighting of scikit-learn's
    ``TfidfVectorizer(stop_words="english", sublinear_tf=True)``, in numpy. (n, 0) when no
    sentence has a word."""
    documents = [[w for w in _TOKEN.findall(s.lower()) if w not in ENGLISH_STOP_WORDS] for s in sentences]
    vocabulary = {w: i for i, w in enumerate(sorted({w for d in documents for w in d}))}
    counts = np.zeros((len(documents), len(vocabulary)))
    for row, words in enumerate(documents):
        for word in words:
            counts[row, vocabulary[word]] += 1
    present = counts > 0
    weights = np.where(present, 1.0 + np.log(np.where(present, counts, 1.0)), 0.0)
    weights *= np.log((1.0 + len(documents)) / (1.0 + present.sum(axis=0))) + 1.0
    norms = np.linalg.norm(weights, axis=1, keepdims=True)
    return weights / np.where(norms == 0, 1.0, norms)


def tfidf_similarity(sentences: Sequence[str]) -> np.ndarray:
    """Leave-one-out cosine of TF-IDF vectors fitted on the article's own sentences
    (`tfidf_matrix`); 0 for a sentence with no vocabulary, and for every sentence of an
    article with fewer than two or with no vocabulary at all."""
    if len(sentences) < 2:
        return np.zeros(len(sentences))
    matrix = tfidf_matrix(sentences)
    if matrix.shape[1] == 0:
        return np.zeros(len(sentences))
    return leave_one_out_cosine(matrix)

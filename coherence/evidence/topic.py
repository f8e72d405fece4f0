"""The article's dominant topic, found by clustering its sentence vectors.

Sentences are grouped by average-linkage clustering on cosine distance (in numpy). The dominant topic is
the largest group, grown by the nearest groups until it holds most of the article's content,
so a handful of stray sentences (which form groups of their own) cannot drag it. Every
sentence is then measured against that topic, leaving itself out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["TopicFit", "fit_topic"]


@dataclass(frozen=True)
class TopicFit:
    """Semantic evidence for every sentence of one article (arrays of length n)."""

    topic_similarity: np.ndarray  # cosine to the dominant topic, leaving the sentence out
    neighbour_similarity: np.ndarray  # mean cosine to the k most similar other sentences
    cluster: np.ndarray  # cluster label per sentence
    in_topic: np.ndarray  # bool: sentence belongs to the dominant topic's clusters
    similarity: np.ndarray  # (n, n) pairwise cosine, -inf on the diagonal


def _clusters(vectors: np.ndarray, distance_threshold: float) -> np.ndarray:
    """Average-linkage clustering on cosine distance: merge the closest pair of groups (mean
    distance between their members) while it is closer than `distance_threshold`. Labels
    0..k-1 in order of each group's first sentence.

    Each row keeps its nearest group, so a merge costs O(n) plus a rescan of the rows that
    pointed at the merged pair: a 3,000-sentence page takes well under a second.
    """
    n = len(vectors)
    if n < 3:
        return np.zeros(n, dtype=int)
    unit = np.asarray(vectors, dtype=np.float64)
    unit = unit / np.maximum(np.linalg.norm(unit, axis=1, keepdims=True), 1e-12)
    distance = 1.0 - unit @ unit.T
    np.fill_diagonal(distance, np.inf)
    nearest = np.argmin(distance, axis=1)  # first column at the row's minimum
    closest = distance[np.arange(n), nearest]
    size = np.ones(n)
    group = np.arange(n)
    for _ in range(n - 1):
        i = int(np.argmin(closest))  # the first row holding the smallest distance, as a full scan finds it
        j = int(nearest[i])
        if closest[i] >= distance_threshold:
            break
        # the merged group's mean distance to every other group (Lance-Williams, average linkage)
        merged = (size[i] * distance[i] + size[j] * distance[j]) / (size[i] + size[j])
        distance[i], distance[:, i] = merged, merged
        distance[i, i] = np.inf
        distance[j], distance[:, j] = np.inf, np.inf
        closest[j] = np.inf
        size[i] += size[j]
        group[group == j] = i
        stale = np.flatnonzero((nearest == i) | (nearest == j))
        stale = stale[np.isfinite(closest[stale])]
        for k in stale.tolist():
            nearest[k] = int(np.argmin(distance[k]))
            closest[k] = distance[k, nearest[k]]
        others = np.flatnonzero(np.isfinite(closest))
        better = (merged[others] < closest[others]) | ((merged[others] == closest[others]) & (i < nearest[others]))
        nearest[others[better]], closest[others[better]] = i, merged[others[better]]
        nearest[i] = int(np.argmin(distance[i]))
        closest[i] = distance[i, nearest[i]]
    _, first = np.unique(group, return_index=True)
    order = {g: k for k, g in enumerate(group[np.sort(first)])}
    return np.array([order[g] for g in group])


def _dominant(vectors: np.ndarray, labels: np.ndarray, share: float) -> np.ndarray:
    """Largest cluster, grown by the closest clusters until it holds `share` of the sentences.
    Of clusters of equal size the one that comes first in the article wins (labels are
    numbered in order of appearance): a story leads with its main topic."""
    clusters = np.unique(labels)
    size = np.array([(labels == c).sum() for c in clusters])
    chosen = [clusters[int(np.argmax(size))]]
    while np.isin(labels, chosen).sum() < share * len(labels) and len(chosen) < len(clusters):
        centre = vectors[np.isin(labels, chosen)].mean(axis=0)
        rest = [c for c in clusters if c not in chosen]
        closeness = [float(vectors[labels == c].mean(axis=0) @ centre) for c in rest]
        chosen.append(rest[int(np.argmax(closeness))])
    return np.isin(labels, chosen)


def fit_topic(
    vectors: np.ndarray,
    *,
    distance_threshold: float = 0.85,
    dominant_share: float = 0.6,
    neighbours: int = 3,
) -> TopicFit:
    """Find the dominant topic of one article and measure each sentence against it.

    Args:
        vectors: (n, dim) unit vectors of the article's content sentences.
        distance_threshold: cosine distance below which groups of sentences are merged.
        dominant_share: share of the article's sentences the dominant topic must cover.
        neighbours: k for the neighbour similarity.
    """
    n = len(vectors)
    if n == 0:
        empty = np.zeros(0)
        return TopicFit(empty, empty, np.zeros(0, dtype=int), np.zeros(0, dtype=bool), np.zeros((0, 0)))
    labels = _clusters(vectors, distance_threshold)
    in_topic = _dominant(vectors, labels, dominant_share)
    members = in_topic.astype(float)[:, None] * vectors
    leave_out = members.sum(axis=0)[None, :] - members  # vectors are unit: only the topic side needs norming
    norms = np.linalg.norm(leave_out, axis=1)
    norms[norms == 0] = 1.0
    topic_similarity = np.einsum("ij,ij->i", vectors, leave_out) / norms

    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -np.inf)
    if n > 1:
        k = min(neighbours, n - 1)
        top = -np.sort(-sims, axis=1)[:, :k]
        neighbour_similarity = top.mean(axis=1)
    else:
        neighbour_similarity = np.ones(1)
    return TopicFit(
        topic_similarity.astype(float), neighbour_similarity.astype(float), labels, in_topic, sims
    )

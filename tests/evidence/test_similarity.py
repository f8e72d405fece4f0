"""The numpy TF-IDF and clustering give what scikit-learn gives (scoring no longer imports it)."""

from __future__ import annotations

import numpy as np
import pytest

from coherence.text.segment import split_sentences
from coherence.evidence.similarity import leave_one_out_cosine, tfidf_matrix, tfidf_similarity
from coherence.text.stop_words import ENGLISH_STOP_WORDS
from coherence.evidence.topic import _clusters

sklearn_text = pytest.importorskip("sklearn.feature_extraction.text")
sklearn_cluster = pytest.importorskip("sklearn.cluster")


def test_stop_words_are_scikit_learns() -> None:
    assert ENGLISH_STOP_WORDS == sklearn_text.ENGLISH_STOP_WORDS


def test_tfidf_matches_scikit_learn(article_texts: dict[str, str]) -> None:
    for name, text in article_texts.items():
        sentences = [s.text for s in split_sentences(text)]
        reference = sklearn_text.TfidfVectorizer(stop_words="english", sublinear_tf=True).fit_transform(sentences).toarray()
        np.testing.assert_allclose(tfidf_matrix(sentences), reference, atol=1e-12, err_msg=name)
        np.testing.assert_allclose(tfidf_similarity(sentences), leave_one_out_cosine(reference), atol=1e-12, err_msg=name)


def test_tfidf_edge_cases() -> None:
    assert tfidf_similarity(["One sentence only."]).tolist() == [0.0]
    assert tfidf_similarity(["It is.", "And so."]).tolist() == [0.0, 0.0]  # stop words only: no vocabulary
    assert tfidf_matrix(["Flood barrier", "barrier Flood!"]).shape == (2, 2)


def _same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    return len(set(zip(a.tolist(), b.tolist()))) == len(set(a.tolist())) == len(set(b.tolist()))


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("threshold", [0.3, 0.85])
def test_clusters_match_scikit_learns_average_linkage(seed: int, threshold: float) -> None:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(4, 16))
    vectors = centres[rng.integers(0, 4, size=30)] + rng.normal(scale=0.8, size=(30, 16))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    reference = sklearn_cluster.AgglomerativeClustering(
        n_clusters=None, metric="cosine", linkage="average", distance_threshold=threshold
    ).fit_predict(vectors)
    ours = _clusters(vectors, threshold)
    assert _same_partition(ours, reference)
    assert 1 < len(set(ours.tolist())) < 30  # a real test: neither one group nor all apart
    assert ours[0] == 0 and set(ours.tolist()) == set(range(ours.max() + 1))


def test_of_two_equal_groups_the_first_in_the_article_is_the_topic() -> None:
    from coherence.evidence.topic import fit_topic

    rng = np.random.default_rng(0)
    a, b = np.eye(16)[:2]  # orthogonal: cosine distance 1, never merged
    rows = [a, b, a, b]  # two groups of two; group "a" comes first
    vectors = np.array([r + rng.normal(scale=0.05, size=16) for r in rows])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    fit = fit_topic(vectors, dominant_share=0.5)
    assert fit.in_topic.tolist() == [True, False, True, False]
    reordered = fit_topic(vectors[[1, 0, 3, 2]], dominant_share=0.5)
    assert reordered.in_topic.tolist() == [True, False, True, False]  # now "b" comes first and wins

"""Per-sentence topic evidence: semantic fit, lexical and entity continuity, information.

All evidence is measured inside one article, against the article's own dominant topic, so the
numbers mean the same in a 5-sentence brief and a 60-sentence feature.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from coherence.continuity import Continuity, continuity
from coherence.lexicon import WordEvidence, analyse
from coherence.topic import TopicFit, fit_topic

__all__ = ["FEATURES", "INFORMATION_SCALE", "TopicEvidence", "topic_evidence"]

# Information (in Zipf units below the common-word frequency) at which a sentence's evidence
# counts half: about two uncommon words. A quote made of common words stays below it.
INFORMATION_SCALE = 4.0
MAX_NOVEL_ENTITIES = 3

FEATURES: tuple[str, ...] = (
    "topic_distance",  # 1 - cosine to the dominant topic (weighted by confidence)
    "topic_gap",  # how much further than the article's median sentence
    "neighbour_distance",  # 1 - mean cosine to the nearest sentences
    "neighbour_gap",  # how much further than the article's median sentence
    "lexical_novelty",  # share of the sentence's information found nowhere else
    "novel_entities",  # names none of which recur elsewhere (0 when any name recurs)
)


@dataclass(frozen=True)
class TopicEvidence:
    """Evidence for the content sentences of one article."""

    features: np.ndarray  # (n, len(FEATURES)), larger = more likely not to belong
    confidence: np.ndarray  # (n,) in [0, 1): how much topic the sentence carries
    topic: TopicFit
    words: list[WordEvidence]
    links: list[Continuity]


def topic_evidence(texts: Sequence[str], vectors: np.ndarray) -> TopicEvidence:
    """Measure each content sentence against the rest of its article."""
    words = [analyse(t) for t in texts]
    information = np.array([w.information for w in words], dtype=float)
    confidence = information / (information + INFORMATION_SCALE)
    topic = fit_topic(vectors, weights=confidence)
    links = continuity(words)
    n = len(texts)
    if n == 0:
        return TopicEvidence(np.zeros((0, len(FEATURES))), confidence, topic, words, links)
    topic_sim = topic.topic_similarity
    neighbour_sim = topic.neighbour_similarity
    lexical_novelty = np.array([1.0 - c.lexical for c in links])
    novel_entities = np.array(
        [
            min(len(c.novel_entities), MAX_NOVEL_ENTITIES) if not c.shared_entities else 0
            for c in links
        ],
        dtype=float,
    )
    columns = [
        confidence * (1.0 - topic_sim),
        confidence * (np.median(topic_sim) - topic_sim),
        confidence * (1.0 - neighbour_sim),
        confidence * (np.median(neighbour_sim) - neighbour_sim),
        confidence * lexical_novelty,
        novel_entities,
    ]
    return TopicEvidence(np.column_stack(columns), confidence, topic, words, links)

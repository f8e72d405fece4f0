"""Per-sentence topic evidence: semantic fit, lexical and entity continuity, information.

All evidence is measured inside one article, against the article's own dominant topic (its
main story): semantic fit against the topic's vectors, continuity against the names and words
of the topic's sentences. So the numbers mean the same in a 5-sentence brief and a 60-sentence
feature, and a few stray sentences of one other story cannot vouch for each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from coherence.evidence.anchoring import Anchoring, anchoring
from coherence.evidence.continuity import Continuity, continuity
from coherence.text.form import FORM_FEATURES, sentence_form
from coherence.text.lexicon import WordEvidence, analyse
from coherence.evidence.similarity import leave_one_out_cosine, tfidf_similarity
from coherence.evidence.topic import TopicFit, fit_topic

__all__ = ["FEATURES", "INFORMATION_SCALE", "TopicEvidence", "topic_evidence"]

# Information (in Zipf units below the common-word frequency) at which a sentence's evidence
# counts half: about one uncommon word. A quote made of common words stays below it.
INFORMATION_SCALE = 2.0
MAX_NOVEL_NAMES = 3  # counts of new whole names are capped here

FEATURES: tuple[str, ...] = (
    "topic_distance",  # 1 - cosine to the dominant topic (leave-one-out)
    "topic_gap",  # how much further from the topic than the article's median sentence
    "neighbour_distance",  # 1 - mean cosine to the k most similar other sentences
    "neighbour_gap",  # how much further than the article's median sentence
    "nearest_distance",  # 1 - cosine to the single most similar other sentence
    "local_distance",  # 1 - the higher cosine to the previous or next sentence
    "local_mean_distance",  # 1 - the mean cosine to the previous and next sentence
    "lead_distance",  # 1 - cosine to the first content sentence (headline or lead)
    "centroid_distance",  # 1 - cosine to the centroid of all other sentences (whole article)
    "tfidf_distance",  # 1 - TF-IDF cosine to all other sentences (the article's own words)
    "tfidf_gap",  # how much further than the article's median sentence
    "lexical_novelty",  # share of the sentence's information found nowhere else
    "confident_novelty",  # lexical novelty weighted by confidence
    "novel_entities",  # whole names none of which recur in the main story (0 when any does), capped
    "unanchored",  # 1 when names and words are all new in an otherwise anchored article
    "confidence",  # how much topic information the sentence carries
    "log_sentences",  # log of the article's number of content sentences
    *FORM_FEATURES,  # the sentence's form (coherence.text.form)
    *(f"{name}_x_topic_distance" for name in FORM_FEATURES),  # form times topic distance
)


@dataclass(frozen=True)
class TopicEvidence:
    """Evidence for the content sentences of one article."""

    features: np.ndarray  # (n, len(FEATURES)), larger = more likely not to belong
    confidence: np.ndarray  # (n,) in [0, 1): how much topic the sentence carries
    topic: TopicFit
    words: list[WordEvidence]
    links: list[Continuity]
    anchors: Anchoring


def _adjacent_similarity(sims: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Best and mean cosine of each sentence to its previous and next sentence."""
    n = len(sims)
    before = np.full(n, np.nan)
    after = np.full(n, np.nan)
    idx = np.arange(n - 1)
    before[1:] = sims[idx + 1, idx]
    after[:-1] = sims[idx, idx + 1]
    pair = np.vstack([before, after])
    return np.nanmax(pair, axis=0), np.nanmean(pair, axis=0)


def topic_evidence(texts: Sequence[str], vectors: np.ndarray) -> TopicEvidence:
    """Measure each content sentence against the rest of its article."""
    words = [analyse(t) for t in texts]
    information = np.array([w.information for w in words], dtype=float)
    confidence = information / (information + INFORMATION_SCALE)
    n = len(texts)
    topic = fit_topic(vectors)
    links = continuity(words, topic.in_topic)
    anchors = anchoring(links, words, confidence)
    if n < 2:
        return TopicEvidence(np.zeros((n, len(FEATURES))), confidence, topic, words, links, anchors)
    topic_sim = topic.topic_similarity
    neighbour_sim = topic.neighbour_similarity
    sims = topic.similarity
    nearest = sims.max(axis=1)
    local_best, local_mean = _adjacent_similarity(sims)
    lead = sims[0].copy()
    lead[0] = 1.0
    tfidf = tfidf_similarity(texts)
    lexical_novelty = np.array([1.0 - c.lexical for c in links])
    novel_entities = np.array(
        [
            min(c.novel_mentions, MAX_NOVEL_NAMES) if not c.shared_entities else 0
            for c in links
        ],
        dtype=float,
    )
    columns = {
        "topic_distance": 1.0 - topic_sim,
        "topic_gap": np.median(topic_sim) - topic_sim,
        "neighbour_distance": 1.0 - neighbour_sim,
        "neighbour_gap": np.median(neighbour_sim) - neighbour_sim,
        "nearest_distance": 1.0 - nearest,
        "local_distance": 1.0 - local_best,
        "local_mean_distance": 1.0 - local_mean,
        "lead_distance": 1.0 - lead,
        "centroid_distance": 1.0 - leave_one_out_cosine(vectors),
        "tfidf_distance": 1.0 - tfidf,
        "tfidf_gap": np.median(tfidf) - tfidf,
        "lexical_novelty": lexical_novelty,
        "confident_novelty": confidence * lexical_novelty,
        "novel_entities": novel_entities,
        "unanchored": anchors.unanchored.astype(float),
        "confidence": confidence,
        "log_sentences": np.full(n, np.log(n)),
    }
    form = sentence_form(texts)
    for k, name in enumerate(FORM_FEATURES):
        columns[name] = form[:, k]
    for k, name in enumerate(FORM_FEATURES):
        columns[f"{name}_x_topic_distance"] = form[:, k] * (1.0 - topic_sim)
    if tuple(columns) != FEATURES:  # the weights are fitted by name: a column out of step is a bug
        raise RuntimeError(f"evidence columns {tuple(columns)} do not match FEATURES {FEATURES}")
    return TopicEvidence(np.column_stack(list(columns.values())), confidence, topic, words, links, anchors)

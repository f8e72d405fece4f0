"""The topic step of scoring, in two halves: weigh an article's evidence (and start the reader
on it when it is in doubt), then conclude its scores, flags and coherence.

Split so that `Detector.score_many` can weigh every article of a batch before it concludes
any: the reader's passes for one article run on their threads while the next articles are
weighed, instead of the whole scorer waiting on each reading in turn. The results are the
same as weighing and concluding one article at a time (each window is still one pass).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from coherence.encoders.cpus import one_blas_thread
from coherence.evidence.sentences import TopicEvidence, topic_evidence
from coherence.models.intrusion import explain_off_topic
from coherence.preparation import PreparedArticle, score_without_topic
from coherence.results import ArticleResult, coherence_of, sentence_result
from coherence.verdict import Verdict, companion_cut_in_effect, companion_note, off_topic_eligible, off_topic_flags

if TYPE_CHECKING:
    from coherence.detector import Detector

__all__ = ["TopicWeighing", "Weighing", "conclude", "weigh"]


@dataclass(frozen=True)
class TopicWeighing:
    """The topic's side of a weighed article, for its content sentences: the evidence, the
    weighed probability and which sentences may be called off_topic at all."""

    evidence: TopicEvidence
    weighed: np.ndarray
    eligible: np.ndarray


@dataclass
class Weighing:
    """An article weighed and not yet concluded: scores before the topic, the topic's side
    (None: no content sentence) and, when the reader reads it, the call that waits for its logits."""

    prepared: PreparedArticle
    scores: np.ndarray
    topic: TopicWeighing | None = None
    reading: Callable[[], np.ndarray] | None = None


@one_blas_thread()  # small matrices: BLAS threads would only spin beside the encoder's
def weigh(detector: Detector, prepared: PreparedArticle, vectors: np.ndarray) -> Weighing:
    """Topic evidence and weighed probability of the content sentences; the reader started on
    the article when `detector` reads it."""
    known = zip(prepared.verdicts, prepared.leftover, prepared.texts)  # what each sentence is scored on before the topic
    weighing = Weighing(prepared, np.array([score_without_topic(v, p, prepared.topical, t) for v, p, t in known]))
    if prepared.content:
        model = detector.intrusion_model
        evidence = topic_evidence(prepared.content_texts, vectors)
        weighed = model.weighed_probability(evidence.features, vectors if detector.uses_context else None)
        eligible = off_topic_eligible(evidence.confidence, detector.min_confidence, detector.min_sentences)
        weighing.topic = TopicWeighing(evidence, weighed, eligible)
        wanted = model.to_read(weighed, evidence.features, eligible, detector.article_reading)
        if wanted is not None:
            weighing.reading = detector.reader_for("article").start(prepared.content_texts, wanted)
    return weighing


@one_blas_thread()
def conclude(detector: Detector, weighing: Weighing) -> tuple[ArticleResult, TopicEvidence | None]:
    """Scores, flags and coherence of a weighed article (waiting for its reading, if any)."""
    prepared, scores, topic = weighing.prepared, weighing.scores, weighing.topic
    evidence = topic.evidence if topic is not None else None
    model, cutoff, content = detector.intrusion_model, detector.off_topic_cut, prepared.content
    verdicts = list(prepared.verdicts)
    confidence = np.zeros(len(prepared.texts))
    if topic is not None:
        weighed = topic.weighed
        if weighing.reading is not None and model.reader is not None:
            weighed = model.reader.probability(weighed, weighing.reading())
        intrusion = model.stronger(weighed, topic.evidence.features)
        companion_cut = companion_cut_in_effect(cutoff, detector.companion_threshold)
        gate, companion = off_topic_flags(1.0 - intrusion, topic.eligible, cutoff, companion_cut)
        lead = content[int(np.argmax(np.where(gate, intrusion, -1.0)))]  # the strongest gate flag
        for k, i in enumerate(content):
            scores[i] = 1.0 - intrusion[k]
            confidence[i] = topic.evidence.confidence[k]
            if gate[k] or companion[k]:
                because = explain_off_topic(topic.evidence, k, model, float(weighed[k]))
                if companion[k] and companion_cut is not None:
                    because += companion_note(lead, scores[i], companion_cut)
                verdicts[i] = Verdict("off_topic", because, evidence="topic")
    for i, verdict in enumerate(verdicts):  # a repeat fits the topic as well as its original
        if verdict is not None and verdict.original is not None:
            scores[i], confidence[i] = scores[verdict.original], confidence[verdict.original]
    results = [
        sentence_result(s, float(scores[i]), float(confidence[i]), verdicts[i], float(prepared.leftover[i]))
        for i, s in enumerate(prepared.sentences)
    ]
    coherence = coherence_of(results)
    passed = coherence >= detector.threshold
    return ArticleResult(coherence, passed, results, detector.threshold, language=prepared.language), evidence

"""Result objects: one per sentence, one per article, and their JSON form."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from coherence.verdict import REASONS, Evidence, Reason

__all__ = ["SentenceResult", "ArticleResult", "DECIMALS"]

DECIMALS = 4  # scores and coherence are rounded to this many decimals in JSON records


@dataclass(slots=True)
class SentenceResult:
    """One sentence: where it is, how well it fits the dominant topic, and any flag.

    `score` is in [0, 1], higher = fits the dominant topic; for content sentences it is one
    minus the estimated probability that the sentence was intruded from another story; rule
    boilerplate and fragments score 0, a duplicate scores as the sentence it repeats.
    `confidence` says how much topic evidence the sentence carries (low for short quotes).
    `leftover` is the probability that the sentence's line is extraction leftover (a teaser,
    a caption, a call to action), from its form and place alone; a line flagged on that
    evidence scores one minus it. `evidence` says what decided a flag: a text "rule", the
    "topic" model or the "leftover" line model.
    """

    text: str
    start: int | None
    end: int | None
    score: float
    flagged: bool = False
    reason: Reason | None = None
    explanation: str | None = None
    paragraph: int | None = None
    confidence: float = 1.0
    leftover: float = 0.0
    evidence: Evidence | None = None

    def to_span(self) -> dict[str, Any]:
        """The output-schema span of a flagged sentence."""
        return {
            "start": self.start,
            "end": self.end,
            "reason": self.reason,
            "score": round(self.score, DECIMALS),
            "text": self.text,
            "explanation": self.explanation,
        }


@dataclass(slots=True)
class ArticleResult:
    """One article: its coherence, the quality-gate verdict and every sentence's result."""

    coherence: float | None
    passed: bool
    sentences: list[SentenceResult] = field(default_factory=list)
    threshold: float = 0.0
    id: str | int | None = None
    error: str | None = None
    language: str | None = None  # ISO 639-1, None when the text is too short to tell

    @property
    def flagged(self) -> list[SentenceResult]:
        return [s for s in self.sentences if s.flagged]

    @property
    def counts(self) -> dict[str, int]:
        """Number of flagged sentences per reason (every reason listed, zeros included)."""
        seen = Counter(s.reason for s in self.sentences if s.flagged)
        return {reason: seen.get(reason, 0) for reason in REASONS}

    def to_dict(self, sentences: bool = False) -> dict[str, Any]:
        """JSON-serialisable record in the project's output schema.

        Args:
            sentences: also include every sentence (not only the flagged spans).
        """
        record: dict[str, Any] = {
            "id": self.id,
            "coherence": None if self.coherence is None else round(self.coherence, DECIMALS),
            "passed": self.passed,
            "n_sentences": len(self.sentences),
            "n_flagged": len(self.flagged),
            "counts": self.counts,
            "flags": [s.to_span() for s in self.flagged],
            "error": self.error,
            "language": self.language,
        }
        if sentences:
            record["sentences"] = [
                {
                    "text": s.text,
                    "start": s.start,
                    "end": s.end,
                    "paragraph": s.paragraph,
                    "score": round(s.score, DECIMALS),
                    "confidence": round(s.confidence, DECIMALS),
                    "leftover": round(s.leftover, DECIMALS),
                    "flagged": s.flagged,
                    "reason": s.reason,
                    "evidence": s.evidence,
                    "explanation": s.explanation,
                }
                for s in self.sentences
            ]
        return record

    def plot(
        self,
        ax: Any = None,
        *,
        off_topic_cut: float | None = None,
        min_confidence: float = 0.2,
        companion_cut: float | None = None,
    ) -> Any:
        """Bar chart of every sentence's score, flagged ones marked by reason; returns the
        matplotlib figure (drawn on `ax` when given). Pass the Detector's `off_topic_cut`
        (and `companion_threshold`) to draw them. Needs matplotlib (the `report` extra)."""
        from coherence.report.article_plots import plot_scores

        return plot_scores(self, ax, off_topic_cut=off_topic_cut, min_confidence=min_confidence, companion_cut=companion_cut)

    @classmethod
    def failed(cls, message: str, id: str | int | None = None) -> "ArticleResult":
        """The record of an input that could not be scored."""
        return cls(coherence=None, passed=False, sentences=[], id=id, error=message)

"""Result objects: one per sentence, one per article, and their JSON form."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from coherence.text.language import is_english
from coherence.verdict import REASONS, Evidence, Reason, Verdict

if TYPE_CHECKING:
    from coherence.text.segment import Sentence

__all__ = [
    "ArticleResult", "LEFTOVER_FLOOR", "ScoredArticle", "SentenceResult", "coherence_of", "language_note", "leftover_cap",
    "sentence_result",
]  # fmt: skip


@dataclass(slots=True)
class SentenceResult:
    """One sentence: where it is, how well it fits the dominant topic, and any flag.

    `score` is in [0, 1], higher = fits the dominant topic; for content sentences it is one
    minus the estimated probability that the sentence was intruded from another story; rule
    boilerplate and fragments score at most `preparation.RULE_SCORE` (0 without a word), a
    duplicate scores as the sentence it repeats.
    `confidence` says how much topic evidence the sentence carries (low for short quotes).
    `leftover` is the probability that the sentence's line is extraction leftover (a teaser,
    a caption, a call to action), from its form and place alone; a sentence scores no higher
    than `leftover_cap(leftover)`, so `score` alone ranks stray sentences and leftover lines
    together. `fit` is the score before that cap (the score itself when not given): for
    content sentences, one minus the intrusion probability, the number the `off_topic` cut
    applies to. `evidence` says what decided a flag: a text "rule", the "topic" model, the
    "leftover" line model, or the line's "language" (not its article's).
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
    fit: float = math.nan  # the score before the leftover cap; NaN when built: the score

    def __post_init__(self) -> None:
        if math.isnan(self.fit):
            self.fit = self.score


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
        """JSON-serialisable record in the project's output schema (`coherence.io.schema`).

        Args:
            sentences: also include every sentence (not only the flagged spans).
        """
        from coherence.io.schema import record_of

        return record_of(self, sentences)

    @classmethod
    def failed(cls, message: str, id: str | int | None = None) -> "ArticleResult":
        """The record of an input that could not be scored."""
        return cls(coherence=None, passed=False, sentences=[], id=id, error=message)

    @classmethod
    def unscorable(cls, exc: Exception, id: str | int | None = None) -> "ArticleResult":
        """The record of an input whose scoring raised: the error names the exception, so one
        bad record is reported in its place and never stops a batch."""
        return cls.failed(f"could not be scored: {type(exc).__name__}: {exc}", id=id)


LEFTOVER_FLOOR = 0.1  # leftover probability that is no evidence: what prose lines get


def leftover_cap(leftover: float) -> float:
    """The highest score a sentence can have on a line with this leftover probability: one
    minus the probability rescaled above `LEFTOVER_FLOOR`. Below the floor a line is read
    as prose: the probability was fitted on scraped pages, a fifth of whose lines are
    leftovers, and clean articles' prose gets up to about 0.1 (95% of BBC dev-half
    sentences). On dev data: a cap with no floor ranks a headline above stray sentences
    (same-category AUROC of planted BBC sentences 0.972 uncapped, 0.944 capped, 0.965 with
    the floor) and the floor keeps the ranking of scraped pages' lines (trafilatura output
    0.763 uncapped, 0.951 capped, 0.947 with the floor; 0.939 at a floor of 0.2). On newspaper3k
    extracts of news dev outlets the cap ranks real leftovers ("Hide Caption 3 of 22", "Thank you
    for subscribing.") and some list items among planted sentences, which that benchmark counts
    as clean: same-topic AUROC 0.909 at this floor, 0.923 at 0.3, 0.933 at 0.5, 0.945 uncapped,
    against scraped dev lines' 0.920, 0.899, 0.865, 0.774; exempting prose lines from the cap
    (end punctuation, 6+ words) gave 0.932 and 0.873. `fit` keeps the stray-sentence ranking.
    A soft floor (below it the probability counts at a slope s, so that it still orders lines
    whose fit ties) was tried on dev data on 2026-12-05 and dropped: line AUROC of held-out
    trafilatura output +0.007 / +0.010 / +0.013 at s = 0.1 / 0.2 / 0.5, but same-topic AUROC of
    planted sentences -0.001 / -0.003 / -0.009 on BBC's dev half and -0.002 / -0.006 / -0.019
    on news dev outlets (nearest story -0.006 / -0.012 / -0.030). A floor that depends on the
    page (none on a page whose trees give a line at least t: a scraped page with furniture) was
    tried on 2026-12-06 and dropped. Held-out trafilatura output of dev site folds 0 / 1 (trees
    refitted without the fold, `training.heldout_leftovers`) ranks 0.909 / 0.817 with the floor,
    0.909 / 0.803 at t = 0.85 (the page reader's trigger), 0.922 / 0.827 at t = 0.5, 0.921 /
    0.828 with no floor anywhere: the gain is the order of prose lines on such pages (readers'
    comments under the article). The same order costs planted sentences in news dev outlets'
    newspaper3k extracts (a fifth of them reach 0.85): AUROC same topic 0.910 -> 0.901 at 0.85
    and 0.891 at 0.5, another topic 0.961 -> 0.957 and 0.953, nearest story 0.836 -> 0.822 and
    0.811. (Read afterwards on the test split at 0.85: trafilatura output 0.881 -> 0.887.)"""
    return 1.0 - min(1.0, max(0.0, (leftover - LEFTOVER_FLOOR) / (1.0 - LEFTOVER_FLOOR)))


def sentence_result(
    sentence: Sentence | str, score: float, confidence: float, verdict: Verdict | None, leftover: float
) -> SentenceResult:
    """The result of one sentence (text, or a `Sentence` with its offsets) and its verdict;
    `score` is its fit, capped by its line's leftover probability (`leftover_cap`)."""
    if isinstance(sentence, str):
        text, start, end, paragraph = sentence, None, None, None
    else:
        text, start, end, paragraph = sentence.text, sentence.start, sentence.end, sentence.paragraph
    return SentenceResult(
        text=text,
        leftover=leftover,
        evidence=verdict.evidence if verdict else None,
        start=start,
        end=end,
        score=min(score, leftover_cap(leftover)),
        fit=score,
        flagged=verdict is not None,
        reason=verdict.reason if verdict else None,
        explanation=verdict.explanation if verdict else None,
        paragraph=paragraph,
        confidence=confidence,
    )


def coherence_of(results: list[SentenceResult]) -> float:
    """Length-weighted share of the text that fits the topic; flagged non-topic lines count 0."""
    weights = np.array([max(len(r.text), 1) for r in results], dtype=float)
    values = np.array(
        [0.0 if r.reason in ("boilerplate", "duplicate", "fragment") else r.score for r in results]
    )
    return float((weights * values).sum() / weights.sum())


@dataclass(frozen=True)
class ScoredArticle:
    """An article's result with the vectors it was scored on (for maps and reports).

    Only content sentences are embedded: boilerplate, repeats and fragments have no row.
    """

    result: ArticleResult
    vectors: np.ndarray  # (k, dim) unit vectors of the content sentences
    content: list[int]  # the index in `result.sentences` of each row
    in_topic: np.ndarray  # (k,) bool: the row belongs to the article's dominant topic


def language_note(language: str | None) -> str | None:
    """What a curator should know about an article that is not in English (None for English
    or too short to tell): the topic model reads English only."""
    if is_english(language):
        return None
    return (
        f"Written in {language!r}: the topic model reads English only, so it calls no sentence off_topic (the "
        "line model may still flag another story's teaser), and an unflagged sentence scores one minus its "
        "line's leftover probability (from the line model, fitted mostly on English pages); only flags that do "
        "not read meaning apply (boilerplate, repeats, fragments, leftover lines, lines in another language). "
        "Gate such articles by their flags rather than their coherence."
    )

"""A verdict on one sentence: the reason and the explanation a curator reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = ["Evidence", "Reason", "REASONS", "Verdict", "companion_cut_in_effect", "companion_note", "off_topic_eligible", "off_topic_flags"]

Reason = Literal["off_topic", "boilerplate", "duplicate", "fragment"]
REASONS: tuple[Reason, ...] = ("off_topic", "boilerplate", "duplicate", "fragment")
# what decided a flag: a text rule, the topic model, the line model, the line's language (not its article's)
Evidence = Literal["rule", "topic", "leftover", "language"]


@dataclass(frozen=True, slots=True)
class Verdict:
    """Why a sentence is flagged."""

    reason: Reason
    explanation: str
    original: int | None = None  # for a duplicate: index of the sentence it repeats
    evidence: Evidence = "rule"
    firm: bool = False  # a rule on a fixed convention (a picture credit): the line model does not withdraw it


def off_topic_eligible(confidence: Sequence[float], min_confidence: float, min_sentences: int) -> np.ndarray:
    """Which of an article's content sentences may be called off_topic at all: the article
    needs `min_sentences` content sentences, the sentence `min_confidence` topic information."""
    confidence = np.asarray(confidence, dtype=float)
    if len(confidence) < min_sentences:
        return np.zeros(len(confidence), dtype=bool)
    return confidence >= min_confidence


def companion_cut_in_effect(cut: float | None, companion_cut: float | None) -> float | None:
    """`companion_cut` when it flags more than the operating point's `cut` does, else None
    (a companion cut at or below the cut adds nothing)."""
    if companion_cut is None or (cut is not None and companion_cut <= cut):
        return None
    return companion_cut


def off_topic_flags(
    scores: np.ndarray, eligible: np.ndarray, cut: float, companion_cut: float | None
) -> tuple[np.ndarray, np.ndarray]:
    """Which of an article's content sentences are flagged off_topic, as (gate, companion).

    `gate`: eligible sentences scored below `cut`, the operating point's threshold; these
    alone decide whether an article carries a flag. `companion`: in an article with a gate
    flag, the other eligible sentences scored below `companion_cut` (stray content comes in
    runs from one source, and once an article is known to hold some, a line that is more
    likely stray than not is flagged with it). Empty when `companion_cut` is None or no
    looser than `cut`.
    """
    scores = np.asarray(scores, dtype=float)
    eligible = np.asarray(eligible, dtype=bool)
    gate = eligible & (scores < cut)
    companion = np.zeros_like(gate)
    companion_cut = companion_cut_in_effect(cut, companion_cut)
    if companion_cut is not None and gate.any():
        companion = eligible & ~gate & (scores < companion_cut)
    return gate, companion


def companion_note(lead: int, score: float, companion_threshold: float) -> str:
    """The sentence that makes a companion flag's explanation say which line it accompanies."""
    return (
        f" Flagged as a companion of sentence {lead + 1}, which the off-topic cut flags: in an article "
        f"that holds stray content, a sentence scored below {companion_threshold:g} is flagged too "
        f"(this one {score:.3f})."
    )

"""A verdict on one sentence: the reason and the explanation a curator reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = ["Reason", "REASONS", "Verdict", "off_topic_eligible"]

Reason = Literal["off_topic", "boilerplate", "duplicate", "fragment"]
REASONS: tuple[Reason, ...] = ("off_topic", "boilerplate", "duplicate", "fragment")


@dataclass(frozen=True, slots=True)
class Verdict:
    """Why a sentence is flagged."""

    reason: Reason
    explanation: str
    original: int | None = None  # for a duplicate: index of the sentence it repeats


def off_topic_eligible(confidence: Sequence[float], min_confidence: float, min_sentences: int) -> np.ndarray:
    """Which of an article's content sentences may be called off_topic at all: the article
    needs `min_sentences` content sentences, the sentence `min_confidence` topic information."""
    confidence = np.asarray(confidence, dtype=float)
    if len(confidence) < min_sentences:
        return np.zeros(len(confidence), dtype=bool)
    return confidence >= min_confidence

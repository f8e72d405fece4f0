"""A verdict on one sentence: the reason and the explanation a curator reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["Reason", "REASONS", "Verdict"]

Reason = Literal["off_topic", "boilerplate", "duplicate", "fragment"]
REASONS: tuple[Reason, ...] = ("off_topic", "boilerplate", "duplicate", "fragment")


@dataclass(frozen=True, slots=True)
class Verdict:
    """Why a sentence is flagged."""

    reason: Reason
    explanation: str
    original: int | None = None  # for a duplicate: index of the sentence it repeats

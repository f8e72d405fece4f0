"""Entity and lexical continuity: does a sentence share its names and words with the rest?

A stray sentence from another story brings its own names (Trump, Philippines, Malaysia) that
occur nowhere else in the article; an on-topic sentence repeats some of the article's names
and terms. Words match across inflections by a shared stem ("Syria" ~ "Syrian", "Iraq" ~ "Iraqi").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from coherence.text.lexicon import WordEvidence

__all__ = ["Continuity", "continuity"]

_MAX_SUFFIX = 3  # "syria" ~ "syrian", "iraq" ~ "iraqi", "kurd" ~ "kurdish" is not matched
_MIN_STEM = 4


@dataclass(frozen=True, slots=True)
class Continuity:
    """How much of one sentence's content recurs in the rest of the article."""

    lexical: float  # information-weighted share of content words found elsewhere, in [0, 1]
    novel_entities: tuple[str, ...]  # names found nowhere else in the article
    shared_entities: tuple[str, ...]  # names that recur elsewhere
    novel_mentions: int = 0  # mentions (whole names) none of whose words recur elsewhere


@lru_cache(maxsize=1 << 16)
def _prefixes(word: str) -> tuple[str, ...]:
    """The word shortened by 1 to 3 letters, never below the minimum stem length."""
    return tuple(word[: len(word) - cut] for cut in range(1, _MAX_SUFFIX + 1) if len(word) - cut >= _MIN_STEM)


class _Vocabulary:
    """Words of a set of sentences, with the prefixes that let inflections match."""

    def __init__(self) -> None:
        self.words: Counter[str] = Counter()
        self.prefixes: Counter[str] = Counter()

    def add(self, words: Iterable[str], sign: int = 1) -> None:
        for word in set(words):
            self.words[word] += sign
            for prefix in _prefixes(word):
                self.prefixes[prefix] += sign

    def __contains__(self, word: str) -> bool:
        """Same word, a longer form of it (syria -> syrian), or a shorter one (iraqi -> iraq)."""
        if self.words[word] > 0 or self.prefixes[word] > 0:
            return True
        return any(self.words[prefix] > 0 for prefix in _prefixes(word))


def continuity(evidence: Sequence[WordEvidence], reference: Sequence[bool] | None = None) -> list[Continuity]:
    """Continuity of every sentence against the other sentences of `reference` (default: all),
    linear in the article's words.

    Measured against the article's main story (its dominant topic), two or three planted
    sentences from one other story cannot vouch for each other's names and words.
    """
    member = [True] * len(evidence) if reference is None else [bool(r) for r in reference]
    vocabulary = _Vocabulary()
    for ev, inside in zip(evidence, member):
        if inside:
            vocabulary.add(ev.content)
    out = []
    for ev, inside in zip(evidence, member):
        if inside:
            vocabulary.add(ev.content, -1)  # leave this sentence out
        found = {w for w in ev.content if w in vocabulary}
        if inside:
            vocabulary.add(ev.content, +1)
        weight = sum(ev.content.values())
        lexical = sum(ev.content[w] for w in found) / weight if weight > 0 else 1.0
        out.append(
            Continuity(
                lexical=lexical,
                novel_entities=tuple(sorted(ev.entities - found)),
                shared_entities=tuple(sorted(ev.entities & found)),
                novel_mentions=sum(1 for m in ev.mentions if not found.intersection(m)),
            )
        )
    return out

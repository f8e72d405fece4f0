"""Repeated sentences: exact and near copies of an earlier sentence; the first copy is kept.

Two sentences are near copies when their word 3-shingles overlap strongly (Jaccard), which
catches a headline repeated with a changed word or punctuation but not two different
sentences that share a phrase.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from coherence.verdict import Verdict

__all__ = ["duplicate_verdicts"]

_WORD = re.compile(r"\w+", re.UNICODE)


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def _shingles(words: list[str], size: int = 3) -> frozenset[tuple[str, ...]]:
    if len(words) < size:
        return frozenset([tuple(words)])
    return frozenset(tuple(words[i : i + size]) for i in range(len(words) - size + 1))


def duplicate_verdicts(
    sentences: Sequence[str], near_threshold: float = 0.8, min_words: int = 1
) -> list[Verdict | None]:
    """A `duplicate` verdict for every sentence that repeats an earlier one, else None.

    Args:
        sentences: the article's sentences in order.
        near_threshold: Jaccard overlap of word 3-shingles above which two sentences are copies.
        min_words: sentences with fewer words are never called duplicates (e.g. "Yes.").
    """
    first_seen: dict[tuple[str, ...], int] = {}
    shingle_sets: list[tuple[int, frozenset[tuple[str, ...]]]] = []
    by_shingle: dict[tuple[str, ...], list[int]] = {}
    out: list[Verdict | None] = []
    for index, text in enumerate(sentences):
        words = _words(text)
        if len(words) < min_words:
            out.append(None)
            continue
        key = tuple(words)
        if key in first_seen:
            out.append(_verdict(index, first_seen[key], exact=True))
            continue
        first_seen[key] = index
        shingles = _shingles(words)
        candidates = {j for s in shingles for j in by_shingle.get(s, ())}
        match = None
        for j in sorted(candidates):
            other = shingle_sets[j][1]
            overlap = len(shingles & other) / len(shingles | other)
            if overlap >= near_threshold:
                match = shingle_sets[j][0]
                break
        for s in shingles:
            by_shingle.setdefault(s, []).append(len(shingle_sets))
        shingle_sets.append((index, shingles))
        out.append(_verdict(index, match, exact=False) if match is not None else None)
    return out


def _verdict(index: int, original: int, exact: bool) -> Verdict:
    kind = "Repeats" if exact else "Nearly repeats"
    return Verdict("duplicate", f"{kind} sentence {original + 1}; the first copy is kept.")

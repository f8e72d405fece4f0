"""Repeated sentences: exact and near copies of an earlier sentence; the first copy is kept.

Two sentences are near copies when their sets of words overlap strongly (Jaccard), which
catches a headline repeated with a changed word or punctuation but not two different
sentences that share a phrase. Two sentences that differ in a number are two facts (the rows
of a timetable, scores of two games), not a copy; nor are two rows of a table that share most
of their cells ("| Scheduled: | Mon., Feb 12 |"): those repeat only as exact copies. Short
lines repeat by design (list items, recipe steps, Q&A headings, "Reply" under every comment):
they are copies only of the article's first line, the headline an extractor picked up twice.
A repeated sentence that shares its line with prose that does not repeat (a comment quoting
another, a summary restating a fact) is part of that line, not a copy of it
(`whole_line_repeats`): what an extractor duplicates is lines, and a curator drops lines.
And a repeat is flagged only while the copy it repeats is kept (`kept_copy_repeats`): when the
first copy is flagged for something else (a headline first seen in a list of teasers at the
top of the page), the repeat is the copy a curator keeps.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from coherence.verdict import Verdict

__all__ = ["duplicate_verdicts", "kept_copy_repeats", "whole_line_repeats"]

_WORD = re.compile(r"\w+", re.UNICODE)
_INDEX_MIN_CHARS = 4  # words shorter than this are too common to find candidates by
_TABLE_ROW = re.compile(r"\|.*\|")  # two cell borders: a row of a table
_EXACT, _NEAR = "Repeats", "Nearly repeats"  # how a duplicate's explanation opens: an exact or a near copy


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def duplicate_verdicts(
    sentences: Sequence[str], near_threshold: float = 0.8, min_words: int = 6
) -> list[Verdict | None]:
    """A `duplicate` verdict for every sentence that repeats an earlier one, else None.

    Args:
        sentences: the article's sentences in order.
        near_threshold: Jaccard overlap of the two word sets above which sentences are copies.
        min_words: shorter sentences are duplicates only as exact copies of the first
            sentence (a short headline repeated); elsewhere they repeat by design.
    """
    first_seen: dict[tuple[str, ...], int] = {}
    word_sets: list[frozenset[str]] = []
    owners: list[int] = []
    by_word: dict[str, list[int]] = {}
    out: list[Verdict | None] = []
    keys = [tuple(_words(text)) for text in sentences]
    for index, key in enumerate(keys):
        if len(key) < min_words:  # a short line is a repeat only of the headline
            headline_copy = index > 0 and bool(key) and key == keys[0]
            out.append(_verdict(0, exact=True) if headline_copy else None)
            first_seen.setdefault(key, index)
            continue
        words = list(key)
        if key in first_seen:
            out.append(_verdict(first_seen[key], exact=True))
            continue
        first_seen[key] = index
        if _TABLE_ROW.search(sentences[index]):  # rows of a table share their cells by design
            out.append(None)
            continue
        bag = frozenset(words)
        candidates = sorted({j for w in bag if len(w) >= _INDEX_MIN_CHARS for j in by_word.get(w, ())})
        # Jaccard is at most the ratio of the two sizes: most candidates fail on size alone
        low = len(bag) * near_threshold - 1e-9
        high = len(bag) / near_threshold + 1e-9 if near_threshold > 0 else math.inf
        match = next(
            (
                owners[j]
                for j in candidates
                if low <= len(word_sets[j]) <= high
                and len(bag & word_sets[j]) / len(bag | word_sets[j]) >= near_threshold
                and not _differ_in_a_number(bag, word_sets[j])
            ),
            None,
        )
        for w in bag:
            if len(w) >= _INDEX_MIN_CHARS:
                by_word.setdefault(w, []).append(len(word_sets))
        word_sets.append(bag)
        owners.append(index)
        out.append(_verdict(match, exact=False) if match is not None else None)
    return out


def whole_line_repeats(
    verdicts: Sequence[Verdict | None], owners: Sequence[Sequence[int]]
) -> list[Verdict | None]:
    """The `duplicate` verdicts whose every line holds nothing but flagged sentences; a
    repeat that shares a line with unflagged prose is cleared, and clearing it may clear
    the repeats on its other lines (a hard-wrapped sentence), until none changes.

    Args:
        verdicts: every sentence's verdict so far (rules and repeats).
        owners: for each sentence, the indices of the lines it touches.
    """
    out = list(verdicts)
    on_line: dict[int, list[int]] = {}
    for i, lines in enumerate(owners):
        for j in lines:
            on_line.setdefault(j, []).append(i)
    changed = True
    while changed:
        changed = False
        for i, verdict in enumerate(out):
            if verdict is None or verdict.reason != "duplicate":
                continue
            if any(out[k] is None for j in owners[i] for k in on_line[j]):
                out[i] = None
                changed = True
    return out


def kept_copy_repeats(
    verdicts: Sequence[Verdict | None], fallback: Sequence[Verdict | None]
) -> list[Verdict | None]:
    """The verdicts with every `duplicate` whose original is flagged for another reason
    replaced by the sentence's `fallback` (what else flags it; None: nothing), so that one
    copy of a repeated sentence stays unless each copy is flagged on its own evidence. Later
    repeats then point to the copy kept.

    Args:
        verdicts: every sentence's verdict, duplicates included.
        fallback: for each sentence, its verdict were it not a repeat.
    """
    out = list(verdicts)
    kept: dict[int, int] = {}  # first copy -> the copy kept in its place
    for i, verdict in enumerate(out):
        if verdict is None or verdict.reason != "duplicate" or verdict.original is None:
            continue
        first = verdict.original
        copy = kept.get(first, first)
        original = out[copy]
        if original is None or original.reason == "duplicate":  # kept, or itself a repeat of a kept copy
            if copy != first:
                out[i] = _verdict(copy, exact=verdict.explanation.startswith(f"{_EXACT} "))
            continue
        out[i] = fallback[i]
        if out[i] is None:
            kept[first] = i
    return out


def _differ_in_a_number(a: frozenset[str], b: frozenset[str]) -> bool:
    """Whether a word with a digit is in one set and not the other."""
    return any(any(c.isdigit() for c in w) for w in a ^ b)


def _verdict(original: int, exact: bool) -> Verdict:
    kind = _EXACT if exact else _NEAR
    return Verdict("duplicate", f"{kind} sentence {original + 1}; the first copy is kept.", original)

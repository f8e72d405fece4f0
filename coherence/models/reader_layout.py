"""How the reader model sees an article: windows of whole sentences behind the article's first one.

The reader (`coherence.models.reader`) is the bundled MiniLM read as a tagger: a window of the
article's sentences is one token sequence, ``[CLS] first [SEP] s_i [SEP] s_i+1 [SEP] ...``, and
each sentence is judged from its own tokens after every token has attended to the whole
window. The first sentence (the headline, in a news article) opens every window, so each one
knows what the story is about; windows overlap by half, so every sentence is read with
neighbours on both sides in at least one of them. Training (`training/reader_training.py`)
and scoring lay windows out with these same functions: the model only ever sees the layout it
was trained on.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "MAX_TOKENS",
    "SENTENCE_TOKENS",
    "Window",
    "fully_read",
    "lay_out",
    "per_sentence",
    "plan_windows",
    "reader_tokenizer",
    "windows_wanted",
]

MAX_TOKENS = 256  # tokens of one window, [CLS] and separators included
SENTENCE_TOKENS = 48  # tokens of one sentence at most (a longer one is cut: its start says enough)


@dataclass(frozen=True)
class Window:
    """One token sequence: its ids, and for each sentence it holds, which sentence and where."""

    ids: np.ndarray  # (tokens,) int64
    sentences: tuple[int, ...]  # article sentence indices, in order (0 first)
    spans: tuple[tuple[int, int], ...]  # [start, end) of each sentence's tokens in `ids`


def plan_windows(lengths: Sequence[int], max_tokens: int = MAX_TOKENS, anchored: bool = True) -> list[list[int]]:
    """Sentence indices of each window for sentences of `lengths` tokens (already cut to
    SENTENCE_TOKENS): sentence 0 (when `anchored`), then consecutive sentences while they fit;
    the next window starts halfway through the previous one's, until the last sentence is in
    one. A scraped page is read unanchored: its first line is as likely menu as headline."""
    n, first = len(lengths), int(anchored)  # first: the first unit a window's run may start at
    if n <= first:
        return [[0]] if n else []
    budget = max_tokens - 1 - (lengths[0] + 1 if anchored else 0)  # after [CLS] (and the first sentence with its [SEP])
    out, start = [], first
    while True:
        end, used = start, 0
        while end < n and (end == start or used + lengths[end] + 1 <= budget):
            used += lengths[end] + 1
            end += 1
        out.append([0, *range(start, end)] if anchored else list(range(start, end)))
        if end >= n:
            return out
        start = max(start + 1, start + (end - start) // 2)


def lay_out(
    token_ids: Sequence[Sequence[int]], cls_id: int, sep_id: int, max_tokens: int = MAX_TOKENS, anchored: bool = True
) -> list[Window]:
    """The windows of an article whose sentences (or a page whose lines) are `token_ids` (no
    special tokens)."""
    cut = [list(ids[:SENTENCE_TOKENS]) for ids in token_ids]
    windows = []
    for members in plan_windows([len(ids) for ids in cut], max_tokens, anchored):
        ids, spans = [cls_id], []
        for i in members:
            start = len(ids)
            ids.extend(cut[i])
            spans.append((start, max(len(ids), start + 1)))  # a sentence of no tokens is read at its [SEP]
            ids.append(sep_id)
        windows.append(Window(np.asarray(ids[:max_tokens], dtype=np.int64), tuple(members), tuple(spans)))
    return windows


def per_sentence(windows: Sequence[Window], logits: Iterable[np.ndarray], n: int) -> np.ndarray:
    """Each of the n sentences' logit: the mean over the windows that hold it (`logits` gives
    one array per window, in the window's sentence order)."""
    total, count = np.zeros(n), np.zeros(n)
    for window, values in zip(windows, logits):
        for s, value in zip(window.sentences, values):
            total[s] += value
            count[s] += 1
    return total / np.maximum(count, 1)


def windows_wanted(members: Sequence[Sequence[int]], wanted: np.ndarray) -> list[bool]:
    """Which windows (each given by its sentence indices) to read so that every `wanted`
    sentence is read in all the windows that hold it, and so gets the logit reading every
    window gives it: those that hold a wanted sentence."""
    return [bool(np.any(wanted[list(m)])) for m in members]


def fully_read(members: Sequence[Sequence[int]], read: Sequence[bool], n: int) -> np.ndarray:
    """Which of the n sentences are held only by windows that were `read`: their mean over
    the read windows is the whole layout's. A sentence also held by a window left unread is
    not (its logit would be another window mean than the reader was fitted on)."""
    out = np.ones(n, dtype=bool)
    for m, r in zip(members, read):
        if not r:
            out[list(m)] = False
    return out


def reader_tokenizer(source: Path | None = None) -> Any:
    """The bundled model's word-piece tokenizer (or `source`'s), without the padding and
    truncation its file sets for sentence embedding: windows lay tokens out themselves."""
    from tokenizers import Tokenizer

    from coherence.encoders.base import default_model_path

    tok = Tokenizer.from_file(str((source or default_model_path()) / "tokenizer.json"))
    tok.no_padding()
    tok.no_truncation()
    return tok

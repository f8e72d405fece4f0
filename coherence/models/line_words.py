"""The words of a line as evidence that it is extraction leftover.

The leftover trees read a line's form (length, end punctuation, title case, runs of such
lines), and form alone stops at about 0.84 held-out AUROC on scraped pages. The words say what
form cannot: "posted by", "reply", "photo", "getty", "share this", "continue reading", "|",
"»", a line that starts with "by" or ends without a stop. A logistic model over a line's word
and word-pair terms, fitted on the scraped benchmark's dev pages (training/fit_leftovers.py),
gives the trees one more feature: its log-odds. Only terms seen on several sites are kept, so
the model learns what pages have in common, not one site's template.

A line's terms: lower case, every digit as 0, words and single punctuation marks, with "<" and
">" marking the line's start and end; every term alone and every pair of neighbours. Each
term present counts once, scaled by 1 / sqrt(terms in the line), so long lines do not add up.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np

__all__ = ["LINE_WORDS", "LineWords", "line_terms"]

LINE_WORDS = "line_words.npz"
# The terms are kept as one UTF-8 text, one a line: a fixed-width unicode array of 200,000 terms
# unpacks to about 30 MB and took a sixth of a second of every `coherence score` start.
_TERM_SEPARATOR = "\n"
_TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)
_DIGIT = re.compile(r"\d")
_MAX_TOKENS = 64  # a long line's first words say what it is; the rest only cost time


def line_terms(line: str) -> set[str]:
    """The distinct terms of a line: its tokens and pairs of neighbouring tokens."""
    tokens = ["<", *_TOKEN.findall(_DIGIT.sub("0", line.lower()))[:_MAX_TOKENS], ">"]
    return set(tokens[1:-1]) | {f"{a} {b}" for a, b in zip(tokens, tokens[1:])}


@dataclass(frozen=True)
class LineWords:
    """A logistic model over line terms: a weight per kept term and an intercept."""

    weights: dict[str, float]
    intercept: float

    @classmethod
    @lru_cache(maxsize=1)
    def default(cls) -> LineWords:
        """The shipped model."""
        with resources.files("coherence.models").joinpath(LINE_WORDS).open("rb") as handle:
            return cls.load(handle)

    @classmethod
    def load(cls, source: Any) -> LineWords:
        """A model from an .npz file (a path or an open binary file) as `save` writes it."""
        with np.load(source, allow_pickle=False) as data:
            blob, weights, intercept = data["terms_utf8"], data["weights"], float(data["intercept"])
        terms = blob.tobytes().decode("utf-8").split(_TERM_SEPARATOR)
        return cls(dict(zip(terms, weights.astype(float).tolist())), intercept)

    def logits(self, lines: Sequence[str]) -> np.ndarray:
        """(lines,) log-odds that each line is a leftover, from its words alone."""
        out = np.full(len(lines), self.intercept)
        for i, line in enumerate(lines):
            terms = line_terms(line)
            out[i] += sum(self.weights.get(t, 0.0) for t in terms) / math.sqrt(len(terms))
        return out

    def save(self, path: str) -> None:
        """Write the model as the .npz `default` reads (terms sorted, so the file is stable)."""
        terms = sorted(self.weights)
        if any(_TERM_SEPARATOR in t for t in terms):
            raise ValueError("a term holds a line break, which separates the terms in the file")
        blob = np.frombuffer(_TERM_SEPARATOR.join(terms).encode("utf-8"), dtype=np.uint8)
        np.savez_compressed(
            path, terms_utf8=blob, weights=np.array([self.weights[t] for t in terms], dtype=np.float32),
            intercept=np.float64(self.intercept),
        )  # fmt: skip

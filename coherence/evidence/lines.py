"""Evidence that a line of a scraped page is not the article: its form, its place, its kin.

Extraction leaves behind teasers of other stories, captions, calls to action, bylines and
stamps. Embeddings place most of them near the article (a teaser of a related story is on
topic), but their form gives them away: short, no end punctuation, title case, in runs at the
top and bottom of the page, repeated on other pages of the site. Every feature here is
computed from text alone, the same way for training (training/fit_leftovers.py) and scoring.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np

from coherence.text.language import MIN_LINE_WORDS, is_english, language_of, line_language
from coherence.text.lexicon import normalise
from coherence.text.line_kinds import LINE_KINDS, kind_flags
from coherence.text.stop_words import ENGLISH_STOP_WORDS

__all__ = ["LINE_FEATURES", "WORDS", "PageLines", "normalise_line", "page_line_features", "words_context"]

_WORD = re.compile(r"\w+", re.UNICODE)
_LETTERED = re.compile(r"\w*[^\W\d_]\w*", re.UNICODE)  # a word with a letter in it
_NON_WORD = re.compile(r"\W+", re.UNICODE)
_TERMINAL = set(".!?\"'”’»)…。！？")
_SEPARATOR_CHARS = re.compile("[|»›·•/>–—:]")
_BULLET = re.compile(r"^\s*([-*•·▪●►▶»›◦>]|\d+[.)]\s)")
_BODY_MIN_WORDS = 10  # a line of the article body: this many words and end punctuation
_NAVIGATION_REACH = 12  # lines after a "Related stories" heading that may be its links
_HEADLINE_MAX_WORDS = 16  # a line that could be a headline: no end punctuation, this many words or fewer
_MONTH = re.compile(
    r"\b(jan(uary)?|feb(ruary)?|mar(ch)?|apr(il)?|may|june?|july?|aug(ust)?|sep(t|tember)?|oct(ober)?"
    r"|nov(ember)?|dec(ember)?)\b\.?\s+\d{1,2}\b|\b\d{1,2}\s+(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)",
    re.IGNORECASE,
)
_NUMERIC_DATE = re.compile(r"\b\d{1,4}[/.-]\d{1,2}[/.-]\d{2,4}\b")

FORM = (
    "words", "log_chars", "ends_terminal", "ends_colon", "title_share", "capital_share", "upper_share",
    "digit_share", "alpha_share", "separators", "bullet", "stop_share", "mean_word_length", "date",
)  # fmt: skip
KINDS = tuple(f"kind_{name}" for name, _, _ in LINE_KINDS)
CONTEXT = (
    "position", "log_lines", "in_body", "before_body", "after_body", "body_distance", "body_share",
    "prev_words", "prev_terminal", "next_words", "next_terminal", "headline_run", "page_repeats",
    "page_terminal_share", "stop_vs_body", "other_language", "english", "after_comments", "after_navigation",
)  # fmt: skip
SITE = ("site_repeats", "site_repeat_share")  # NaN when the batch holds no site counts
# the line's words (coherence.models.line_words), given by the caller, and its neighbours': leftovers
# come in runs (a block of teasers, a comment's byline and date), so a line's neighbours' words
# speak for it too
WORDS = (
    "words_logit", "words_prev", "words_next", "words_prev2", "words_next2", "words_window", "words_wide", "words_vs_page",
)  # fmt: skip
_WORDS_REACH, _WORDS_WIDE_REACH = 2, 5  # lines either side of a line that make up its windows
LINE_FEATURES: tuple[str, ...] = FORM + KINDS + CONTEXT + SITE + WORDS


def normalise_line(text: str) -> str:
    """Lower case, runs of non-word characters as one space: the key lines are counted by."""
    return _NON_WORD.sub(" ", text.lower()).strip()


class PageLines:
    """The lines of one page with what is known about them across the page.

    Args:
        lines: the page's non-blank lines in order.
        site_repeats: for each line, on how many other pages of its site (or batch) it was
            seen, with the number of pages counted; None when unknown.
    """

    def __init__(self, lines: Sequence[str], site_repeats: tuple[Sequence[int], int] | None = None) -> None:
        self.lines = [line.strip() for line in lines]
        self.site_repeats = site_repeats
        self.form_ = [_form(line) for line in self.lines]
        self.body_ = _body_run(self.form_)
        body_text = "\n".join(self.lines[i] for i in range(len(self.lines)) if _is_body(self.form_[i]))
        self.language_ = language_of(body_text or "\n".join(self.lines))
        # each line's language, where it is named with confidence (None: too short or unsure)
        self.line_languages_ = [line_language(line) if self.language_ else None for line in self.lines]
        self.body_words_: Counter[str] | None = None  # filled on first use by `body_word_share`

    def body_word_share(self, line: int) -> float:
        """The share of the line's content words (4+ letters, stop words aside) that the page's
        other body-like lines (prose of 10+ words that ends a sentence) also use; 0 for a line
        with fewer than two such words. The article's own headline is told in its story's
        words; a teaser of another story or a byline mostly is not."""
        own = _content_words(self.lines[line])
        if len(own) < 2:
            return 0.0
        if self.body_words_ is None:
            self.body_words_ = Counter(
                w for i, line_text in enumerate(self.lines) if _is_body(self.form_[i]) for w in _content_words(line_text)
            )
        body = self.body_words_
        if _is_body(self.form_[line]):  # the line's own words do not count for it
            body = body - Counter(own)
        return sum(w in body for w in own) / len(own)

    def other_language(self, line: int) -> str | None:
        """The language of a line when it is not its page's, else None (a feature of the line
        model, as it was fitted)."""
        found = self.line_languages_[line]
        return found if found is not None and found != self.language_ else None

    def flagged_language(self, line: int) -> str | None:
        """`other_language`, when the line has enough words to flag it on that alone: numbers
        and separators are not words ("September 2006 October 2006 ..." reads as pidgin)."""
        found = self.other_language(line)
        return found if found is not None and len(_LETTERED.findall(self.lines[line])) >= MIN_LINE_WORDS else None

    @property
    def english(self) -> bool:
        """Whether the page reads as English (pages too short to tell count as English)."""
        return is_english(self.language_)


def page_line_features(page: PageLines, words_logit: np.ndarray) -> np.ndarray:
    """(lines, len(LINE_FEATURES)) evidence for every line of the page; `words_logit` is each
    line's log-odds from its words (`LineWords.logits`), computed by the caller because the
    model that gives it is fitted with the trees (and, in training, out of fold)."""
    n = len(page.lines)
    if len(words_logit) != n:
        raise ValueError(f"{len(words_logit)} word log-odds for {n} lines")
    if n == 0:
        return np.zeros((0, len(LINE_FEATURES)))
    columns: dict[str, np.ndarray] = {}
    for name in FORM:
        columns[name] = np.array([f[name] for f in page.form_], dtype=float)
    kinds = [kind_flags(line) for line in page.lines]
    for (name, _, _), column in zip(LINE_KINDS, KINDS):
        columns[column] = np.array([k[name] for k in kinds], dtype=float)
    columns |= _context(page, columns, kinds)
    columns |= _site(page, n)
    columns |= words_context(np.asarray(words_logit, dtype=float))
    return np.column_stack([columns[name] for name in LINE_FEATURES])


def words_context(logits: np.ndarray) -> dict[str, np.ndarray]:
    """The WORDS columns from the page's words log-odds, line by line: the line's own, those
    of the two lines before and after it (NaN past the page's ends), the mean of the other
    lines within `_WORDS_REACH` and within `_WORDS_WIDE_REACH`, and the line's own above the
    page's median."""
    return {
        "words_logit": logits,
        "words_prev": _shifted(logits, 1),
        "words_next": _shifted(logits, -1),
        "words_prev2": _shifted(logits, 2),
        "words_next2": _shifted(logits, -2),
        "words_window": _mean_of_others(logits, _WORDS_REACH),
        "words_wide": _mean_of_others(logits, _WORDS_WIDE_REACH),
        "words_vs_page": logits - np.median(logits) if len(logits) else logits,
    }


def _shifted(values: np.ndarray, by: int) -> np.ndarray:
    """values[i - by] at i, NaN where that is off the page."""
    out = np.full(len(values), np.nan)
    if by > 0:
        out[by:] = values[:-by]
    else:
        out[:by] = values[-by:]
    return out


def _mean_of_others(values: np.ndarray, reach: int) -> np.ndarray:
    """The mean of the other values within `reach` places (NaN when there are none)."""
    n = len(values)
    total = np.r_[0.0, np.cumsum(values)]
    low, high = np.maximum(np.arange(n) - reach, 0), np.minimum(np.arange(n) + reach + 1, n)
    others = high - low - 1
    return np.where(others > 0, (total[high] - total[low] - values) / np.maximum(others, 1), np.nan)


def _form(line: str) -> dict[str, float]:
    tokens = _WORD.findall(line)
    alpha = [t for t in tokens if t[:1].isalpha()]
    n_tokens, n_alpha, n_chars = max(len(tokens), 1), max(len(alpha), 1), max(len(line), 1)
    last = line[-1:] if line else ""
    return {
        "words": float(len(line.split())),
        "log_chars": math.log1p(len(line)),
        "ends_terminal": float(last in _TERMINAL and not line.endswith("...")),
        "ends_colon": float(last == ":"),
        "title_share": sum(map(str.istitle, alpha)) / n_alpha,
        "capital_share": sum(t[0].isupper() for t in alpha) / n_alpha,
        "upper_share": sum(len(t) > 1 and t.isupper() for t in alpha) / n_alpha,
        "digit_share": sum(map(str.isdigit, line)) / n_chars,
        "alpha_share": sum(map(str.isalpha, line)) / n_chars,
        "separators": float(len(_SEPARATOR_CHARS.findall(line))),
        "bullet": float(_BULLET.match(line) is not None),
        "stop_share": sum(t.lower() in ENGLISH_STOP_WORDS for t in tokens) / n_tokens,
        "mean_word_length": sum(len(t) for t in tokens) / n_tokens,
        "date": float(_MONTH.search(line) is not None or _NUMERIC_DATE.search(line) is not None),
    }


def _content_words(line: str) -> set[str]:
    return {normalise(w) for w in _WORD.findall(line) if len(w) >= 4 and w.isalpha() and w.lower() not in ENGLISH_STOP_WORDS}


def _is_body(form: Mapping[str, float]) -> bool:
    return form["words"] >= _BODY_MIN_WORDS and form["ends_terminal"] == 1.0


def _is_headline_like(form: Mapping[str, float]) -> bool:
    return 2 <= form["words"] <= _HEADLINE_MAX_WORDS and form["ends_terminal"] == 0.0


def _body_run(forms: Sequence[Mapping[str, float]]) -> tuple[int, int] | None:
    """(first, last) line of the longest run of body-like lines, allowing one-line gaps
    (a subheading, a quote line) inside the article; None when the page has none."""
    best: tuple[int, int] | None = None
    start, last_body = -1, -10
    for i, form in enumerate(forms):
        if not _is_body(form):
            continue
        if i - last_body > 2:
            start = i
        last_body = i
        if best is None or i - start > best[1] - best[0]:
            best = (start, i)
    return best


def _runs(flags: Sequence[bool]) -> np.ndarray:
    """For each position, the length of the run of True it sits in (0 when False)."""
    out = np.zeros(len(flags))
    i = 0
    while i < len(flags):
        j = i
        while j < len(flags) and flags[j]:
            j += 1
        out[i:j] = j - i
        i = j + 1 if j == i else j
    return out


def _context(
    page: PageLines, columns: Mapping[str, np.ndarray], kinds: Sequence[Mapping[str, bool]]
) -> dict[str, np.ndarray]:
    n = len(page.lines)
    index = np.arange(n)
    words, terminal, stops = columns["words"], columns["ends_terminal"], columns["stop_share"]
    if page.body_ is None:
        in_body = np.zeros(n)
        before = after = np.zeros(n)
        distance = np.full(n, float(n))
        body_share = 0.0
        body_stops = float(np.median(stops))
    else:
        first, last = page.body_
        in_body = ((index >= first) & (index <= last)).astype(float)
        before, after = (index < first).astype(float), (index > last).astype(float)
        distance = np.where(index < first, first - index, np.where(index > last, index - last, 0)).astype(float)
        body_share = (last - first + 1) / n
        body_stops = float(np.median(stops[first : last + 1]))
    keys = [normalise_line(line) for line in page.lines]
    copies = Counter(keys)
    headline_run = _runs([_is_headline_like(f) for f in page.form_])
    other = [page.other_language(i) is not None for i in range(n)]
    return {
        "position": index / max(n - 1, 1),
        "log_lines": np.full(n, math.log1p(n)),
        "in_body": in_body,
        "before_body": before,
        "after_body": after,
        "body_distance": np.log1p(distance),
        "body_share": np.full(n, body_share),
        "prev_words": np.r_[-1.0, words[:-1]],
        "prev_terminal": np.r_[-1.0, terminal[:-1]],
        "next_words": np.r_[words[1:], -1.0],
        "next_terminal": np.r_[terminal[1:], -1.0],
        "headline_run": headline_run,
        "page_repeats": np.array([copies[k] - 1 for k in keys], dtype=float),
        "page_terminal_share": np.full(n, float(terminal.mean())),
        "stop_vs_body": stops - body_stops,
        "other_language": np.array(other, dtype=float),
        "english": np.full(n, float(page.english)),
        "after_comments": _seen_before([k["comment"] for k in kinds], window=n),
        "after_navigation": _seen_before([k["navigation"] for k in kinds], window=_NAVIGATION_REACH),
    }


def _seen_before(marks: Sequence[bool], window: int) -> np.ndarray:
    """For each line, whether a marked line came within `window` lines before it: what
    follows a comments heading is comments, what follows "Related stories" is teasers."""
    out = np.zeros(len(marks))
    last = -(10**9)
    for i, mark in enumerate(marks):
        out[i] = float(i - last <= window)
        if mark:
            last = i
    return out


def _site(page: PageLines, n: int) -> dict[str, np.ndarray]:
    if page.site_repeats is None:
        return {name: np.full(n, np.nan) for name in SITE}
    seen, pages = page.site_repeats
    seen_array = np.asarray(seen, dtype=float)
    return {"site_repeats": np.log1p(seen_array), "site_repeat_share": seen_array / max(pages - 1, 1)}

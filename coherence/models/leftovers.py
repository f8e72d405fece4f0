"""Extraction leftovers: lines a scraper kept that are not the article (teasers, captions,
calls to action, bylines, stamps, comments), found line by line from text alone.

The evidence is `coherence.evidence.lines` and the log-odds of the line's words
(`coherence.models.line_words`); the weights are a boosted tree ensemble fitted on the dev
pages of real scraped web pages and on news articles of 334 outlets, whose furniture is labelled
by repetition (training/fit_leftovers.py, training/news_furniture.py), and shipped as arrays.
The shipped cut flags 2% of the article lines of trafilatura output on held-out dev sites, half
of whose pages carry site counts (a batch with --site-field); of those scored without, as
`Detector.score` scores a page, it flags about 1% (training/fit_leftovers.py).
The page reader's logit for each line (`coherence.models.reader`, read in the context of the
lines around it) joins the trees' probability through a logistic fitted on dev sites neither
model trained on (training/fit_page_reader_stack.py), with a cut of its own chosen the same
way. The reader costs a pass over the page, so by default it reads only the pages on which the
trees find a line that may be furniture (the stack's `trigger`): clean prose is not read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from coherence.evidence.lines import LINE_FEATURES, PageLines, page_line_features
from coherence.text.line_kinds import TEASER, describe, line_kind
from coherence.models.line_words import LineWords
from coherence.models.reader import join_reader
from coherence.models.trees import TreeEnsemble
from coherence.verdict import Reason, Verdict

__all__ = [
    "LEFTOVER_WEIGHTS", "RULE_VETO", "LeftoverModel", "LeftoverReaderStack", "PageReading", "leftover_verdict",
    "leftover_verdicts",
]  # fmt: skip

LEFTOVER_WEIGHTS = "leftover_weights.npz"
_OFF_TOPIC_KINDS = frozenset({TEASER[0]})  # another story's headline is off topic; a heading of links is not one
_TEASER_MAX_WORDS = 20
# A line flagged only as a companion of its neighbours is let go when this share of its content
# words is the article body's: the article's own headline sits between the page's navigation
# and its byline, and would otherwise go with them.
OWN_HEADLINE_SHARE = 0.5
# A rule's boilerplate or fragment flag on a line with words stands only when the line model,
# which reads the line in its page, gives it at least this leftover probability (about the
# share of leftover lines in trafilatura output): the rules were written on clean articles, and
# on real pages they also hit article text ("thanks", a comment's "Posted by" line the gold
# keeps, a list item). Out of fold on dev trafilatura output the veto keeps 0.8% of article
# lines from being lost and misses 0.6% of leftover lines (training/fit_leftovers.py). In the
# 1,108 BBC test articles it withdraws 21 flags (author bios, "Subs not used" lines of match
# reports), which the topic evidence then judges: an author bio may still be flagged, as off_topic.
RULE_VETO = 0.2


@dataclass(frozen=True)
class LeftoverReaderStack:
    """The trees' probability and the page reader's logit joined, and the cut that flags."""

    coef: tuple[float, float]  # on the trees' log-odds, on the reader's logit
    intercept: float
    cut: float
    # a page is read when the trees give one of its lines this much; on held-out dev pages the
    # pages below it held under 1% of the stack's flagged leftover lines
    trigger: float = 0.0

    def probability(self, trees: np.ndarray, reader_logits: np.ndarray) -> np.ndarray:
        return join_reader(trees, reader_logits, self.coef, self.intercept)


@dataclass(frozen=True)
class PageReading:
    """How a leftover search uses the page reader: its logits for a page's lines, the cut that
    flags a page it read, and whether it reads every page or only those over the trigger."""

    logits: Callable[[list[str]], np.ndarray]
    cut: float
    always: bool = False


@dataclass(frozen=True)
class LeftoverModel:
    """Per-line probability that a line is extraction leftover, and the cut that flags it."""

    trees: TreeEnsemble
    cut: float
    reader: LeftoverReaderStack | None = None  # None: no page reader fitted with these trees
    words: LineWords | None = None  # the words model fitted with these trees; None: the shipped one

    @classmethod
    @lru_cache(maxsize=1)
    def default(cls) -> LeftoverModel:
        """The shipped model."""
        with resources.files("coherence.models").joinpath(LEFTOVER_WEIGHTS).open("rb") as handle:
            with np.load(handle, allow_pickle=False) as data:
                arrays = {key: data[key] for key in data.files}
        reader = None
        if "reader_coef" in arrays:
            coef = arrays["reader_coef"]
            trigger = float(arrays["reader_trigger"]) if "reader_trigger" in arrays else 0.0
            reader = LeftoverReaderStack(
                (float(coef[0]), float(coef[1])), float(arrays["reader_intercept"]), float(arrays["reader_cut"]), trigger
            )
        model = cls(TreeEnsemble.from_arrays(arrays, "trees"), float(arrays["cut"]), reader)
        if model.trees.feature_names != LINE_FEATURES:
            raise RuntimeError(f"{LEFTOVER_WEIGHTS} was fitted on other features; rerun training/fit_leftovers.py")
        return model

    def probability(self, page: PageLines, reader_logits: np.ndarray | None = None) -> np.ndarray:
        """(lines,) probability that each line of the page is a leftover; joined with the page
        reader's logits for its lines when given."""
        if not page.lines:
            return np.zeros(0)
        words = (self.words or LineWords.default()).logits(page.lines)
        trees = self.trees.probability(page_line_features(page, words))
        if reader_logits is None:
            return trees
        if self.reader is None:
            raise ValueError(f"{LEFTOVER_WEIGHTS} holds no page reader stack; rerun training/fit_page_reader_stack.py")
        return self.reader.probability(trees, reader_logits)

    def read(self, page: PageLines, reading: PageReading | None) -> tuple[np.ndarray, bool]:
        """Each line's leftover probability, and whether the page reader read the page (its
        probabilities are then the stack's, flagged at `reading.cut`)."""
        trees = self.probability(page)
        if reading is None or self.reader is None or not page.lines:
            return trees, False
        if not reading.always and trees.max() < self.reader.trigger:
            return trees, False
        return self.reader.probability(trees, reading.logits(page.lines)), True


def leftover_verdicts(
    page: PageLines, probability: np.ndarray, cut: float, companion_cut: float | None
) -> dict[int, Verdict]:
    """The verdict on every flagged line, by line index.

    A line is flagged when its leftover probability is over `cut`, or when it is written in
    another language than its article's (named with high confidence). A line next to a
    flagged one, over `companion_cut` and not a sentence (no end punctuation: a teaser, a
    link, a label), is flagged with it, and so on along the block; prose needs its own
    evidence, and so does a line told in the article body's words (its own headline).
    """
    flagged = {j for j in range(len(page.lines)) if probability[j] > cut or page.flagged_language(j)}
    if companion_cut is not None and companion_cut < cut:
        frontier = sorted(flagged)
        while frontier:
            j = frontier.pop()
            for k in (j - 1, j + 1):
                if (
                    0 <= k < len(page.lines) and k not in flagged and probability[k] > companion_cut
                    and not _ends_sentence(page.lines[k]) and page.body_word_share(k) < OWN_HEADLINE_SHARE
                ):  # fmt: skip
                    flagged.add(k)
                    frontier.append(k)
    return {j: leftover_verdict(page, j, float(probability[j]), companion=probability[j] <= cut) for j in sorted(flagged)}


def leftover_verdict(page: PageLines, line: int, probability: float, companion: bool = False) -> Verdict:
    """The verdict on a flagged line: `off_topic` for another story's headline, `boilerplate`
    for the rest, and an explanation that names what the line looks like (and, for a
    `companion`, that it was flagged with the block of leftover lines it sits in). A line in
    another language than its article's is `boilerplate` on evidence "language", whatever the
    line model gives it, and never a companion: its language flags it."""
    text = page.lines[line]
    kind = line_kind(text)
    language = page.flagged_language(line)
    # a headline of this site's other stories: short, open, and in the page's language (a line named in another,
    # even on too few words to be flagged for it, such as a run of months and years, is not one)
    if kind is None and page.other_language(line) is None and len(text.split()) <= _TEASER_MAX_WORDS and not _ends_sentence(text):
        kind = TEASER[0]
    reason: Reason = "off_topic" if kind in _OFF_TOPIC_KINDS and not language else "boilerplate"
    if language:  # flagged for its language alone, whatever its form says
        because = f"Written in {language!r}, not in the article's language {page.language_!r}."
    else:
        what = describe(kind) if kind else "a line of the page's template"
        because = f"Looks like {what}, left on the page by extraction (leftover probability {probability:.2f})."
    if companion and not language:
        because += " Flagged with the block of leftover lines it sits in."
    if page.site_repeats is not None:
        seen, pages = page.site_repeats
        if seen[line] > 0:
            because += f" Seen on {seen[line]} other of {pages} pages of this site."
    return Verdict(reason, because, evidence="language" if language else "leftover")


def _ends_sentence(text: str) -> bool:
    return text.rstrip().endswith((".", "!", "?", '"', "”", "’", "'", ")"))

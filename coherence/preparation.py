"""An article before embedding: its sentences, its lines, and the verdicts that need no model.

Rules (fragments, boilerplate, repeats) and the line model (extraction leftovers, languages)
run here, on text alone; what they flag never reaches the encoder.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from coherence.evidence.lines import PageLines
from coherence.io.safe_values import replace_surrogates
from coherence.models.leftovers import RULE_VETO, LeftoverModel, PageReading, leftover_verdicts
from coherence.text.boilerplate import boilerplate_verdict, caption_verdict
from coherence.text.fragments import fragment_verdict, has_words
from coherence.text.repeats import duplicate_verdicts, kept_copy_repeats, whole_line_repeats
from coherence.text.segment import Sentence, split_sentences
from coherence.verdict import Verdict

__all__ = ["RULE_SCORE", "Article", "PreparedArticle", "prepare_article", "score_without_topic"]

Article = str | Sequence[str]
# what a sentence is flagged for when it is not text of a story: never judged by topic
_NOT_TEXT: tuple[str, ...] = ("boilerplate", "fragment")
# The score of a sentence with words that a boilerplate or fragment rule flags, before its
# line's leftover cap: such a flag says "more likely not text than text", and the line model,
# which reads the line in its page, orders the flags below that (a byline it also doubts
# first, a list item it reads as article last). Scored 0, the rules' flags tied at the top of
# every ranking with the article text they hit on real pages. Out of fold on dev pages
# (training/heldout_leftovers.py, fold 0, label version 4), line AUROC of the detector's score
# on whole-page text 0.926 at 0, 0.949 / 0.948 / 0.947 at 0.5 / 0.3 / 0.1, trafilatura output
# 0.899 at 0, 0.902 at each. Flags and `coherence` (which counts a rule's flag as 0) are unchanged.
RULE_SCORE = 0.3


@dataclass
class PreparedArticle:
    """An article split into sentences, with the verdicts that need no embedding."""

    sentences: list[Sentence | str]
    texts: list[str]
    verdicts: list[Verdict | None]
    leftover: np.ndarray  # (sentences,) probability that the sentence's line is extraction leftover
    language: str | None  # the article's language; None when too short to tell
    topical: bool  # whether the topic model reads the article's language (English)
    absorbed: frozenset[int]  # wordless pieces of a line with words ("|" between cells, "(46)"): not content, not flagged

    @property
    def content(self) -> list[int]:
        """Indices of sentences that take part in the topic (not flagged already); none in
        an article the topic model cannot read."""
        if not self.topical:
            return []
        return [i for i, v in enumerate(self.verdicts) if v is None and i not in self.absorbed]

    @property
    def content_texts(self) -> list[str]:
        return [self.texts[i] for i in self.content]


def prepare_article(
    article: Article,
    leftover_cut: float | None,
    leftover_companion_cut: float | None,
    site_repeats: Callable[[list[str]], Any] | None = None,
    page_reading: PageReading | None = None,
) -> PreparedArticle:
    """Split an article (text, or a list of pre-split sentences) and give every sentence the
    verdict of the rules and of the line model (None: no leftovers) that flag it.
    `site_repeats` maps the article's lines to their counts on other pages of its site;
    `page_reading` says how the page reader reads them (a page it read is flagged at its cut).

    Raises:
        TypeError: neither text nor a list of strings.
        ValueError: no text.
    """
    sentences: list[Sentence | str]
    if isinstance(article, str):  # lone surrogates (from JSON escapes) break the tokenizer
        article = replace_surrogates(article)
        sentences = list(split_sentences(article))
        lines, owners = _lines_of_text(article, sentences)
    elif isinstance(article, Sequence) and all(isinstance(s, str) for s in article):
        sentences = [replace_surrogates(s.strip()) for s in article if s.strip()]
        lines, owners = [str(s) for s in sentences], [[i] for i in range(len(sentences))]
    else:
        raise TypeError(f"expected text or a list of sentences, got {type(article).__name__}")
    if not sentences:
        raise ValueError("the article has no text")
    texts = [s if isinstance(s, str) else s.text for s in sentences]
    verdicts: list[Verdict | None] = [
        fragment_verdict(t, texts[i - 1] if i else None) or boilerplate_verdict(t) for i, t in enumerate(texts)
    ]
    captions = [caption_verdict(line) for line in lines]
    for i, own in enumerate(owners):  # a sentence of a line that ends in a picture credit
        if verdicts[i] is None and own and all(captions[j] is not None for j in own):
            verdicts[i] = captions[own[-1]]
    for i, repeat in enumerate(duplicate_verdicts(texts)):
        if verdicts[i] is None and repeat is not None:
            verdicts[i] = repeat
    verdicts = whole_line_repeats(verdicts, owners)
    absorbed = _absorbed(texts, owners)
    for i in absorbed:
        verdicts[i] = None
    page = PageLines(lines, site_repeats(lines) if site_repeats is not None else None)
    leftover = np.zeros(len(texts))
    by_sentence: list[Verdict | None] = [None] * len(texts)  # the line model's verdict on each sentence
    if leftover_cut is not None:
        by_line, read = LeftoverModel.default().read(page, page_reading)
        cut = page_reading.cut if read and page_reading is not None else leftover_cut
        line_verdicts = leftover_verdicts(page, by_line, cut, leftover_companion_cut)
        for i, own in enumerate(owners):
            if not own:
                continue
            leftover[i] = max(by_line[j] for j in own)
            if _vetoable(verdicts[i], texts[i]) and leftover[i] < RULE_VETO:
                verdicts[i] = None
            flagged = [j for j in own if j in line_verdicts]
            if flagged:
                by_sentence[i] = line_verdicts[max(flagged, key=lambda j: by_line[j])]
            if verdicts[i] is None:
                verdicts[i] = by_sentence[i]
    verdicts = kept_copy_repeats(verdicts, by_sentence)
    return PreparedArticle(sentences, texts, verdicts, leftover, page.language_, page.english, absorbed)


def _vetoable(verdict: Verdict | None, text: str) -> bool:
    """Whether the line model may withdraw a verdict: a boilerplate or fragment rule's on a
    sentence with words (a wordless "." or "***" is no article text, whatever its line),
    unless the rule is a firm one (a news convention in fixed words)."""
    if verdict is None or verdict.firm:
        return False
    return verdict.evidence == "rule" and verdict.reason in _NOT_TEXT and has_words(text)


def score_without_topic(verdict: Verdict | None, leftover: float, topical: bool, text: str) -> float:
    """A sentence's score before (or without) topic evidence: rule boilerplate and fragments,
    and a line in another language than its article's, `RULE_SCORE` (0 without a word: "***"
    is no text whatever its line); a leftover line, and any line of an article the topic model
    cannot read, one minus its leftover probability; the rest start at 1 and get their topic
    fit."""
    if verdict is not None and verdict.evidence == "leftover":
        return 1.0 - leftover
    if verdict is not None and verdict.reason in _NOT_TEXT:
        return RULE_SCORE if has_words(text) else 0.0
    return 1.0 if topical else 1.0 - leftover


def _absorbed(texts: Sequence[str], owners: Sequence[Sequence[int]]) -> frozenset[int]:
    """Wordless pieces that share a line with words ("|" between cells, "(46)", "[...]", a
    citation's "25, 1545 (1996).", the ellipsis that opens a quoted excerpt, "… we need not
    marvel"): part of that line, not a fragment of their own. A stray stop (a lone leading "."
    an extractor left) and a line with no word at all still are."""
    worded_lines = {j for text, own in zip(texts, owners) if has_words(text) for j in own}
    return frozenset(
        i
        for i, (text, own) in enumerate(zip(texts, owners))
        if not has_words(text) and not _stray_stop(texts, owners, i) and set(own) & worded_lines
    )


_STOPS = re.compile(r"[\s.…·]+")


def _stray_stop(texts: Sequence[str], owners: Sequence[Sequence[int]], i: int) -> bool:
    """Whether piece `i` is a stop an extractor left: one or two dots, alone or with the stop
    pieces beside it on its line, unlike an ellipsis ("...", ". . .", "…"), which writers put
    before an excerpt that starts mid-sentence (the splitter cuts ". . ." into three pieces)."""
    if not _STOPS.fullmatch(texts[i]):
        return False
    run = [i]
    for step in (-1, 1):
        k = i + step
        while 0 <= k < len(texts) and _STOPS.fullmatch(texts[k]) and owners[k] == owners[i]:
            run.append(k)
            k += step
    marks = "".join(texts[k] for k in run)
    return "…" not in marks and marks.count(".") + marks.count("·") < 3


def _lines_of_text(text: str, sentences: Sequence[Sentence]) -> tuple[list[str], list[list[int]]]:
    """The non-blank lines of a text and, for each sentence, the lines it touches."""
    spans = [(m.start(), m.end()) for m in _LINE.finditer(text) if m.group().strip()]
    lines = [text[a:b].strip() for a, b in spans]
    owners: list[list[int]] = []
    j = 0
    for sentence in sentences:
        while j < len(spans) and spans[j][1] <= sentence.start:
            j += 1
        k, own = j, []
        while k < len(spans) and spans[k][0] < sentence.end:
            own.append(k)
            k += 1
        owners.append(own)
    return lines, owners


_LINE = re.compile(r"[^\r\n]+")

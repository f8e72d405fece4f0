"""Outlet furniture in the news corpus, labelled by repetition: lines extraction left on
2012-2020 news articles, for fitting and measuring the leftover model beyond the scraped pages.

The scraped benchmark's pages (benchmarks/scraped_lines.py) are mostly of 2007-2012; the news
corpus (`../shared/data/news`, newspaper3k's extracts of 491 outlets) holds what a modern
outlet's page leaves in an extract: "Advertisement", "Story continued below", newsletter and app
prompts, columnists' bios, picture credits. Nobody marked them, but an outlet's template repeats
where its stories do not: a line found on `FURNITURE_MIN` or more articles of one outlet (within
one split) is furniture, a line found once is the article's own. Lines in between, and lines
found once that a line kind names (a caption, a byline, a call to action: often furniture that
names its story), are left out of fitting and measures (`EXCLUDED`). Articles are the corpus
split's (benchmarks/news_corpus.py): fitting reads `train`, measures read `test_outlets`, outlets
never fitted on.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from benchmarks.intrusions import Source
from benchmarks.news_corpus import NEWS_CORPUS, Split, load_news, news_splits
from benchmarks.scraped_lines import CONTENT as ARTICLE
from benchmarks.scraped_lines import EXCLUDED
from benchmarks.scraped_lines import LEFTOVER as FURNITURE
from coherence.evidence.lines import normalise_line
from coherence.text.line_kinds import kind_flags

__all__ = ["ARTICLE", "EXCLUDED", "FURNITURE", "FURNITURE_MIN", "NewsPage", "furniture_pages", "label_articles"]

FURNITURE_MIN = 3  # articles of one outlet a line must be on to count as its furniture


@dataclass
class NewsPage:
    """One article's lines (title first) with their weak labels, and its outlet."""

    key: str
    outlet: str
    lines: list[str]
    labels: list[int]


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def furniture_pages(
    per_outlet: Mapping[Split, int | None], seed: int = 0, path: Path = NEWS_CORPUS
) -> dict[Split, list[NewsPage]]:
    """The articles of each split named in `per_outlet` (at most that many of each outlet),
    labelled by `label_articles`; the corpus is read once."""
    splits = news_splits(load_news(path))
    return {split: label_articles(splits[split], n, seed) for split, n in per_outlet.items()}


def label_articles(sources: list[Source], per_outlet: int | None = None, seed: int = 0) -> list[NewsPage]:
    """Every article of `sources` (at most `per_outlet` of each outlet, drawn with `seed`), its
    lines labelled against the counts of all its outlet's articles in `sources`."""
    by_outlet: dict[str, list[Source]] = defaultdict(list)
    for source in sources:
        by_outlet[source.outlet].append(source)
    pages = []
    for outlet in sorted(by_outlet):
        counts: Counter = Counter()
        for source in by_outlet[outlet]:
            counts.update({normalise_line(line) for line in _lines(source.text)})
        chosen = sorted(by_outlet[outlet], key=lambda s: s.id)
        if per_outlet is not None and len(chosen) > per_outlet:
            chosen = random.Random(f"{seed}-{outlet}").sample(chosen, per_outlet)
        for source in chosen:
            lines = _lines(source.text)
            pages.append(NewsPage(f"news/{source.id}", outlet, lines, [_label(line, counts) for line in lines]))
    return pages


def _label(line: str, counts: Counter) -> int:
    seen = counts[normalise_line(line)]
    if seen >= FURNITURE_MIN:
        return FURNITURE
    if seen == 1 and not any(kind_flags(line).values()):  # no kind the fitted model knows
        return ARTICLE
    return EXCLUDED

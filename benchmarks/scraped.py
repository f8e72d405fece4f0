"""Line-level benchmark on real scraped web pages (issue 18): which lines of an extractor's
output are not the page's article, found by the detector and by the rules corpus pipelines use.

    python -m benchmarks.scraped                          # every page, all three extractors
    python -m benchmarks.scraped --limit 40 --out /tmp/s  # a quick run on 40 pages of every dataset

2,928 web pages with their main content marked by people (../shared/data/web/pages.jsonl.gz:
Dragnet, CleanEval, CleanPortalEval, L3S-GN1, Mozilla Readability tests) go through a real
extractor: trafilatura with its defaults; trafilatura as datatrove's extractor step (and so
FineWeb) calls it, which is not its defaults (favor_precision, no comments, deduplicate); and a
whole-page visible-text dump (html-text, as a WET file gives it). Each output line is labelled content when its normalised text occurs in
the page's gold text (a line of 1-2 words: joined to a neighbour), else leftover; L3S-GN1 lines also get the class of the span holding them
(class 3, supplemental, is left out of the binary measures). Pages are split into dev and test
by site (benchmarks/scraped_lines.py, cached under ~/.cache/coherence-bench/scraped/).

The methods score exactly the same lines, each a leftover score (higher = more likely
leftover) and a flag:
  coherence        the detector on the page as one text (lines joined by newlines): 1 -
                   the lowest score of the sentences touching the line (a score is capped
                   by its line's leftover probability); flagged when one of them is
  coherence-lines  the detector on the page's lines as pre-split sentences
  coherence-sites  the detector on the page as one text, as `coherence batch --site-field`
                   scores a crawl: the lines of every page are counted first by site
                   (`Detector.count_lines`), so a line repeated on other pages of its site
                   is evidence of the site's template; not run unless named in --methods
  coherence-reader the detector with its reader models (`reader=True`: the page reader joins
                   the line model), page as one text; not run unless named in --methods
  centroid         naive MiniLM centroid: 1 - cosine to the mean of the page's other lines;
                   flagged above the cut that flags, on dev, the share of article lines
                   coherence flags there
  c4               datatrove's C4QualityFilter line rules; score = rules broken
  justext          jusText on the lines as paragraphs, English stop list, default thresholds;
                   score = 1 - stop-word density, flagged unless classified good

Measures, per extractor, split, dataset and overall: line AUROC (leftover against content),
precision and recall of the flags as leftover detection, share of article lines flagged
(a flagged line whose exact text is kept on another line of the page loses nothing and is not
counted; the share with such copies is in scraped.json as article_flagged_with_copies), the
AUROC and article lines flagged again on lines of 3+ words (a line of 1-2 words may match the
gold by chance, so its label says less), share of pages losing more
than 5% of their article lines, and for L3S-GN1 the share of each class flagged. Writes scraped.md and scraped.json to --out (default reports/).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import scraped_lines as sl
from benchmarks.metrics import detector_version, json_ready, machine, num, pct

ROOT = Path(__file__).resolve().parents[1]
METHODS = {
    "coherence": "coherence, page as one text",
    "coherence-lines": "coherence, pre-split lines",
    "coherence-sites": "coherence, batch with line counts by site",
    "coherence-reader": "coherence with the readers, page as one text",
    "centroid": "naive MiniLM centroid cosine",
    "c4": "C4 line rules (datatrove)",
    "justext": "jusText stop-word density",
}
DETECTOR_METHODS = ("coherence", "coherence-lines", "coherence-sites", "coherence-reader")
SCORE_CACHE = sl.CACHE_ROOT / "scores"  # per-page detector results, by package fingerprint (benchmarks/score_cache.py)
OPTIONAL_METHODS = ("coherence-sites", "coherence-reader")  # each one more scoring pass (the reader a slow one): run when asked for
SPLITS = ("dev", "test")
DEFAULT_EXTRACTORS = ("trafilatura", "trafilatura-datatrove", "whole-page")
LOSING_PAGES_SHOWN = 8  # pages named in the report's list of those losing the most article lines
LOSS_SHARE = 0.05  # a page "loses" its article when more than this share of its article lines is flagged
EMBEDDING_CACHE = 3_000_000  # every line and sentence of the run stays cached (about 1.5 KB each)
ENGLISH_MIN_STOPWORDS = 0.15  # English prose runs at 0.4-0.5 stop words per word
ALL = "all"


@dataclass
class Scored:
    """Every method's leftover score and flag for each line of one extractor's pages."""

    pages: list[sl.Page]
    scores: dict[str, list[np.ndarray]] = field(default_factory=dict)
    flags: dict[str, list[np.ndarray]] = field(default_factory=dict)
    reasons: dict[str, list[np.ndarray]] = field(default_factory=dict)  # the detector's: what flagged each line
    seconds: dict[str, float] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)


# -- methods ------------------------------------------------------------------------------
def line_spans(lines: Sequence[str]) -> list[int]:
    """Start offset of each line in "\\n".join(lines)."""
    starts, position = [], 0
    for line in lines:
        starts.append(position)
        position += len(line) + 1
    return starts


def doubt(sentence: Any) -> float:
    """How likely a sentence does not belong: 1 - its score, the detector's one number (a
    score is capped by its line's leftover probability, so it carries both kinds of
    evidence), as a user ranks lines by their least fitting sentence."""
    return 1.0 - sentence.score


def line_overlaps(lines: Sequence[str], result: Any) -> Iterator[tuple[int, Any]]:
    """(line index, sentence) for every sentence of the joined text's result and every line
    it overlaps, in sentence order."""
    import bisect

    starts = line_spans(lines)
    for s in result.sentences:
        i = max(bisect.bisect_right(starts, s.start) - 1, 0)
        while i < len(lines) and starts[i] < s.end:
            if starts[i] + len(lines[i]) > s.start:
                yield i, s
            i += 1


def why_flagged(sentence: Any) -> str:
    """What flagged a sentence, as the tables name it: its reason and the evidence behind it."""
    return f"{sentence.reason} ({sentence.evidence})" if sentence.flagged else ""


def joined_scores(lines: Sequence[str], result: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Map sentence results of the joined text back to lines: the highest `doubt` of the
    sentences overlapping a line, flagged when any of them is, and what flagged the most
    doubtful flagged one ("" when none)."""
    score, flag, why = np.zeros(len(lines)), np.zeros(len(lines), dtype=bool), np.full(len(lines), "", dtype=object)
    if result.error:
        return score, flag, why
    highest, flagged_doubt = np.full(len(lines), -np.inf), np.full(len(lines), -np.inf)
    for i, s in line_overlaps(lines, result):
        highest[i] = max(highest[i], doubt(s))
        if s.flagged and doubt(s) > flagged_doubt[i]:
            flag[i], flagged_doubt[i], why[i] = True, doubt(s), why_flagged(s)
    score = np.where(np.isfinite(highest), highest, 0.0)
    return score, flag, why


Reasoned = tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]  # scores, flags, what flagged each line
PageResult = tuple[np.ndarray, np.ndarray, np.ndarray]  # one page's scores, flags, what flagged each line


def coherence_pages(pages: Sequence[sl.Page], detector: Any, sites: bool = False) -> Iterator[PageResult]:
    """The detector on each page as one text, lines joined by newlines; with `sites`, each
    page scored with its site (for a detector that has counted lines by site)."""
    results = detector.score_many(("\n".join(p.lines) for p in pages), sites=(p.site for p in pages) if sites else None)
    for page, result in zip(pages, results):
        yield joined_scores(page.lines, result)


def site_counting(pages: Sequence[sl.Page], detector: Any) -> tuple[Any, str]:
    """A copy of `detector` that has counted every page's lines by site, as `coherence batch
    --site-field` does in its first pass, and a digest of the pages counted (a page's result
    depends on the other pages of its site, so the score cache is kept per page set)."""
    import hashlib

    from benchmarks.score_cache import lines_digest

    counting = type(detector)(**detector.get_params())
    counting.encoder_ = detector.encoder  # the same encoder and its cache of vectors
    counting.count_lines((p.site, "\n".join(p.lines)) for p in pages)
    digest = hashlib.sha1("".join(f"{p.key}{p.site}{lines_digest(p.lines)}" for p in pages).encode()).hexdigest()[:12]
    return counting, digest


def coherence_line_pages(pages: Sequence[sl.Page], detector: Any) -> Iterator[PageResult]:
    """The detector on each page's lines as pre-split sentences (one result per line)."""
    for page, result in zip(pages, detector.score_many(list(p.lines) for p in pages)):
        if result.error or len(result.sentences) != len(page.lines):
            raise RuntimeError(f"{page.key}: pre-split scoring gave {result.error or len(result.sentences)} for {len(page.lines)} lines")
        yield (
            np.array([doubt(s) for s in result.sentences]),
            np.array([bool(s.flagged) for s in result.sentences]),
            np.array([why_flagged(s) for s in result.sentences], dtype=object),
        )


def through_cache(pages: Sequence[sl.Page], score: Callable[[Sequence[sl.Page]], Iterator[PageResult]], cache: Any) -> tuple[Reasoned, int]:
    """Every page's result, from the cache where it holds one (a `ScoreCache`, or None for
    none) and from `score` for the rest, each kept as it comes; and how many were cached."""
    found = [cache.get(p.key, p.lines) if cache is not None else None for p in pages]
    todo = [p for p, r in zip(pages, found) if r is None]
    fresh = iter(score(todo))
    out: Reasoned = ([], [], [])
    for page, result in zip(pages, found):
        if result is None:
            result = next(fresh)
            if cache is not None:
                cache.put(page.key, page.lines, result)
        for column, value in zip(out, result):
            column.append(value)
    if cache is not None:
        cache.flush()
    return out, len(pages) - len(todo)


def score_centroid(pages: Sequence[sl.Page], encoder: Any) -> list[np.ndarray]:
    """Naive centroid scores (the project's baseline, as in reports/quality.md); the
    encoder's cache already holds most lines when the detector ran first."""
    from benchmarks.baselines import naive_centroid_scores

    return [naive_centroid_scores(p.lines, encoder) for p in pages]


def c4_rules() -> tuple[Callable[[str], int], dict[str, Any]]:
    """A per-line count of the C4 rules datatrove's C4QualityFilter drops a line for, with its
    own constants and defaults, so the baseline follows the installed datatrove."""
    import inspect

    from datatrove.pipeline.filters import c4_filters as c4

    defaults = {k: v.default for k, v in inspect.signature(c4.C4QualityFilter.__init__).parameters.items() if v.default is not inspect.Parameter.empty}
    min_words, max_word = defaults["min_words_per_line"], defaults["max_word_length"]

    def broken(line: str) -> int:
        """Rules the line breaks: too long a word, no terminal punctuation (citations cut
        first; an ellipsis does not count), too few words, javascript, a policy phrase."""
        words = line.split()
        text = c4.CITATION_REGEX.sub("", line) if defaults["remove_citations"] else line
        lower = text.lower()
        return sum((
            max_word != -1 and any(len(w) > max_word for w in words),
            not text.endswith(c4.END_PUNCTUATION) or text.endswith(c4.ELLIPSIS),
            min_words != -1 and len(words) < min_words,
            "javascript" in lower,
            any(p in lower for p in c4.POLICY_SUBSTRINGS),
        ))

    info = {"min_words_per_line": min_words, "max_word_length": max_word, "end_punctuation": list(c4.END_PUNCTUATION), "policy": list(c4.POLICY_SUBSTRINGS)}
    return broken, info


def score_c4(pages: Sequence[sl.Page]) -> tuple[list[np.ndarray], list[np.ndarray], dict[str, Any]]:
    """C4 rules broken per line; flagged when any is."""
    broken, info = c4_rules()
    scores = [np.array([broken(line) for line in p.lines], dtype=float) for p in pages]
    return scores, [s > 0 for s in scores], info


def justext_page(lines: Sequence[str], stoplist: frozenset[str]) -> tuple[np.ndarray, np.ndarray]:
    """jusText on the page's lines as <p> paragraphs: its context-free classes and the
    revision by neighbours, all at default thresholds."""
    import html

    import justext

    doc = "<html><body>" + "".join(f"<p>{html.escape(line)}</p>" for line in lines) + "</body></html>"
    paragraphs = justext.justext(doc, stoplist)
    if len(paragraphs) != len(lines):  # a line lxml reads as empty: classify each line alone
        paragraphs = [next(iter(justext.justext(f"<p>{html.escape(line)}</p>", stoplist)), None) for line in lines]
    score = np.array([1.0 - p.stopwords_density(stoplist) if p is not None else 1.0 for p in paragraphs])
    flag = np.array([p is None or p.is_boilerplate for p in paragraphs])
    return score, flag


def score_justext(pages: Sequence[sl.Page]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """jusText classification of every page's lines."""
    import justext

    stoplist = justext.get_stoplist("English")
    out = [justext_page(p.lines, stoplist) for p in pages]
    return [s for s, _ in out], [f for _, f in out]


def english_share(lines: Sequence[str], stoplist: frozenset[str]) -> float | None:
    """Share of a page's words on the English stop list; None under 50 words."""
    words = [w for line in lines for w in sl.normalise(line).split()]
    return sum(w in stoplist for w in words) / len(words) if len(words) >= 50 else None


# -- running ------------------------------------------------------------------------------
def detector_for(backend: str) -> Any:
    """The detector at default settings, with a cache large enough that every line the
    methods share is embedded once."""
    from coherence import Detector

    return Detector(backend=backend, embedding_cache=EMBEDDING_CACHE)


def timed(scored: Scored, name: str, fn: Callable[[], Any]) -> Any:
    """Run one method, keeping its wall time."""
    started = time.perf_counter()
    out = fn()
    scored.seconds[name] = time.perf_counter() - started
    return out


def score_all(pages: list[sl.Page], methods: Sequence[str], detector: Any, log: Callable[[str], None], backend: str | None = None) -> Scored:
    """Every method on the same lines; the detector's pre-split pass first, so the centroid
    reuses its line vectors from the cache. With a `backend`, the detector's per-page results
    are kept in a `ScoreCache` (a run that stops resumes where it was)."""
    scored = Scored(pages)
    order = [m for m in ("coherence-lines", "centroid", "coherence", "coherence-sites", "coherence-reader", "c4", "justext") if m in methods]
    for name in order:
        log(f"  {name} on {len(pages)} pages, {sum(len(p.lines) for p in pages)} lines")
        if name in DETECTOR_METHODS:
            scored.scores[name], scored.flags[name], scored.reasons[name] = timed(scored, name, lambda: detector_method(scored, name, detector, backend, log))
        elif name == "centroid":
            scored.scores[name] = timed(scored, name, lambda: score_centroid(pages, detector.encoder))
        elif name == "c4":
            scored.scores[name], scored.flags[name], scored.notes["c4"] = timed(scored, name, lambda: score_c4(pages))
        elif name == "justext":
            scored.scores[name], scored.flags[name] = timed(scored, name, lambda: score_justext(pages))
    if "centroid" in methods:
        set_centroid_flags(scored)
    return scored


def detector_method(scored: Scored, name: str, detector: Any, backend: str | None, log: Callable[[str], None]) -> Reasoned:
    """One of the detector's methods on every page, through the score cache when a backend is named."""
    from benchmarks.score_cache import ScoreCache

    cache_name = name
    if name == "coherence-reader":
        detector = type(detector)(**{**detector.get_params(), "reader": True})
    if name == "coherence-sites":
        detector, counted = site_counting(scored.pages, detector)
        cache_name = f"{name}-{counted}"
    score = coherence_line_pages if name == "coherence-lines" else partial(coherence_pages, sites=name == "coherence-sites")
    cache = ScoreCache.open(SCORE_CACHE, cache_name, backend) if backend is not None else None
    out, cached = through_cache(scored.pages, lambda todo: score(todo, detector), cache)
    if cache is not None:
        scored.notes.setdefault("cached_pages", {})[name] = cached
        log(f"    {cached} of {len(scored.pages)} pages from {cache.path}")
    return out


def set_centroid_flags(scored: Scored) -> None:
    """Flag centroid scores above the cut that flags, on dev article lines, the share
    coherence (page as one text; else pre-split) flags there."""
    reference = next((m for m in ("coherence", "coherence-lines") if m in scored.flags), None)
    dev = [i for i, p in enumerate(scored.pages) if p.split == "dev"]
    content = [np.asarray(scored.pages[i].labels) == sl.CONTENT for i in dev]
    values = np.concatenate([scored.scores["centroid"][i][c] for i, c in zip(dev, content)] or [np.zeros(0)])
    if reference is None or values.size == 0:
        cut, share = math.inf, 0.0
    else:
        share = float(np.concatenate([scored.flags[reference][i][c] for i, c in zip(dev, content)]).mean())
        cut = float(np.quantile(values, 1.0 - share)) if share > 0 else math.inf
    scored.flags["centroid"] = [s > cut for s in scored.scores["centroid"]]
    scored.notes["centroid"] = {"reference": reference, "dev_article_share": share, "cut": cut}


# -- measures -----------------------------------------------------------------------------
@dataclass
class Flat:
    """All lines of one extractor's pages as flat arrays, for slicing by split and dataset."""

    page: np.ndarray
    split: np.ndarray
    dataset: np.ndarray
    label: np.ndarray
    l3s_class: np.ndarray  # -1 outside L3S-GN1
    copy_of: np.ndarray  # id shared by the lines of one page with the same normalised text
    worded: np.ndarray  # the line has 3+ words: its label is not a match by chance
    kept_comment: np.ndarray  # a readers' comment the gold keeps (excluded: `scraped_lines`, "User comments")
    scores: dict[str, np.ndarray]
    flags: dict[str, np.ndarray]
    reasons: dict[str, np.ndarray]


def copy_ids(pages: Sequence[sl.Page]) -> np.ndarray:
    """One id per (page, normalised line text): lines of a page with the same text share it."""
    ids: dict[tuple[int, str], int] = {}
    return np.array([ids.setdefault((k, sl.normalise(line)), len(ids)) for k, p in enumerate(pages) for line in p.lines], dtype=np.int64)


def cat(arrays: Sequence[np.ndarray]) -> np.ndarray:
    """np.concatenate that takes an empty list."""
    return np.concatenate(arrays) if len(arrays) else np.zeros(0)


def flatten(scored: Scored) -> Flat:
    """One row per line."""
    pages = scored.pages
    n = [len(p.lines) for p in pages]
    return Flat(
        page=np.repeat(np.arange(len(pages)), n),
        split=np.repeat(np.array([p.split for p in pages], dtype=object), n),
        dataset=np.repeat(np.array([p.dataset for p in pages], dtype=object), n),
        label=cat([np.asarray(p.labels, dtype=int) for p in pages]).astype(int),
        l3s_class=cat([np.asarray(p.l3s_class if p.l3s_class is not None else [-1] * len(p.lines), dtype=int) for p in pages]).astype(int),
        copy_of=copy_ids(pages),
        worded=np.array([not sl.short(sl.normalise(line)) for p in pages for line in p.lines], dtype=bool),
        kept_comment=np.array([bool(c) and label == sl.EXCLUDED and p.l3s_class is None for p in pages for c, label in zip(p.comment or [False] * len(p.lines), p.labels)], dtype=bool),
        scores={m: cat(v).astype(float) for m, v in scored.scores.items()},
        flags={m: cat(v).astype(bool) for m, v in scored.flags.items()},
        reasons={m: cat(v).astype(object) for m, v in scored.reasons.items()},
    )


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den else math.nan


def measures(flat: Flat, mask: np.ndarray, method: str) -> dict[str, Any]:
    """The benchmark's numbers for one method on the lines in `mask`."""
    binary = mask & (flat.label >= 0)
    y, score, flag = flat.label[binary] == sl.LEFTOVER, flat.scores[method][binary], flat.flags[method][binary]
    lost = flag & ~kept_elsewhere(flat.copy_of, flat.flags[method])[binary]
    worded = flat.worded[binary]
    out = {
        "auroc": line_auroc(y, score),
        "precision": _ratio((flag & y).sum(), flag.sum()),
        "recall": _ratio((flag & y).sum(), y.sum()),
        "article_flagged": _ratio((lost & ~y).sum(), (~y).sum()),
        "article_flagged_with_copies": _ratio((flag & ~y).sum(), (~y).sum()),
        "auroc_worded": line_auroc(y[worded], score[worded]),
        "article_flagged_worded": _ratio((lost & ~y & worded).sum(), (~y & worded).sum()),
        "pages_losing": pages_losing(flat.page[binary], y, lost),
        "pages_losing_one_line": pages_losing(flat.page[binary], y, lost, lines=1),
        "flagged": int(flag.sum()),
        "kept_comments_flagged": _ratio((mask & flat.kept_comment & flat.flags[method]).sum(), (mask & flat.kept_comment).sum()),
    }
    l3s = mask & (flat.l3s_class >= 0)
    if l3s.any():
        out["l3s_class_flagged"] = {
            str(c): {"n": int((l3s & (flat.l3s_class == c)).sum()), "flagged": _ratio(flat.flags[method][l3s & (flat.l3s_class == c)].sum(), (l3s & (flat.l3s_class == c)).sum())}
            for c in sl.L3S_CLASSES
        }
    return out


def line_auroc(leftover: np.ndarray, score: np.ndarray) -> float:
    """Line AUROC, NaN when the lines hold one label only."""
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(leftover, score)) if 0 < leftover.sum() < leftover.size else math.nan


def kept_elsewhere(copy_of: np.ndarray, flag: np.ndarray) -> np.ndarray:
    """Whether an unflagged line of the same page has the same normalised text: a flagged
    copy of a line that is kept loses no article text (a paragraph extracted twice)."""
    if not len(copy_of):
        return np.zeros(0, dtype=bool)
    unflagged = np.bincount(copy_of, weights=(~flag).astype(float), minlength=int(copy_of.max()) + 1)
    return unflagged[copy_of] > 0


def pages_losing(page: np.ndarray, leftover: np.ndarray, flag: np.ndarray, lines: int | None = None) -> float:
    """Share of pages with article lines that have more than LOSS_SHARE of them flagged;
    with `lines`, only those that lose exactly that many (one: a page short enough that a
    single flag is over the share)."""
    article = ~leftover
    if not article.any():
        return math.nan
    _, index = np.unique(page[article], return_inverse=True)
    flagged = np.bincount(index, weights=flag[article].astype(float))
    losing = flagged / np.bincount(index) > LOSS_SHARE
    return float((losing & (flagged == lines)).mean() if lines is not None else losing.mean())


def counts(flat: Flat, mask: np.ndarray) -> dict[str, int]:
    """Pages and lines by label in `mask`."""
    return {
        "pages": int(np.unique(flat.page[mask]).size),
        "lines": int(mask.sum()),
        "content": int((mask & (flat.label == sl.CONTENT)).sum()),
        "leftover": int((mask & (flat.label == sl.LEFTOVER)).sum()),
        "excluded": int((mask & (flat.label == sl.EXCLUDED)).sum()),
        "kept_comments": int((mask & flat.kept_comment).sum()),
    }


def evaluate(scored: Scored, splits: Sequence[str]) -> dict[str, Any]:
    """split -> dataset (and "all") -> counts and every method's measures."""
    flat = flatten(scored)
    out: dict[str, Any] = {}
    for split in splits:
        in_split = flat.split == split
        groups = [ALL, *sorted({p.dataset for p in scored.pages if p.split == split})]
        out[split] = {}
        for group in groups:
            mask = in_split & (flat.dataset == group) if group != ALL else in_split
            out[split][group] = {"counts": counts(flat, mask), "methods": {m: measures(flat, mask, m) for m in scored.flags}}
        out[split][ALL]["lost_by_reason"] = {m: lost_by_reason(flat, in_split, m) for m in flat.reasons}
        out[split][ALL]["lost_by_page"] = {m: lost_by_page(flat, in_split, m, scored.pages) for m in flat.reasons}
    return out


def lost_article_lines(flat: Flat, mask: np.ndarray, method: str) -> tuple[np.ndarray, np.ndarray]:
    """The article lines in `mask`, and those of them a method loses (flagged, no kept copy)."""
    article = mask & (flat.label == sl.CONTENT)
    return article, article & flat.flags[method] & ~kept_elsewhere(flat.copy_of, flat.flags[method])


def lost_by_reason(flat: Flat, mask: np.ndarray, method: str) -> dict[str, float]:
    """Share of the article lines in `mask` lost (flagged, no kept copy) to each reason and
    evidence, largest first: where the detector's lost article lines come from."""
    article, lost = lost_article_lines(flat, mask, method)
    why = Counter(flat.reasons[method][lost])
    return {k: _ratio(n, article.sum()) for k, n in why.most_common()}


def lost_by_page(flat: Flat, mask: np.ndarray, method: str, pages: Sequence[sl.Page], shown: int = LOSING_PAGES_SHOWN) -> dict[str, Any]:
    """How the article lines lost in `mask` spread over pages: the share held by the 1% and
    5% of pages that lose the most, and those pages that lose the most, with what flagged
    their lines. A pooled share of lines can rest on a few long pages of one kind (a code
    listing, a data table) that the gold keeps whole."""
    article, lost = lost_article_lines(flat, mask, method)
    with_article = np.unique(flat.page[article])
    per_page = np.bincount(flat.page[lost], minlength=len(pages))[with_article]
    order = np.argsort(-per_page, kind="stable")
    total = int(per_page.sum())

    def top_share(fraction: float) -> float:
        return _ratio(per_page[order[: max(1, math.ceil(fraction * len(order)))]].sum(), total)

    worst = []
    for j in order[:shown]:
        if per_page[j] == 0:
            break
        k = with_article[j]
        reason, _ = Counter(flat.reasons[method][lost & (flat.page == k)]).most_common(1)[0]
        worst.append({"page": pages[k].key, "lost": int(per_page[j]), "article_lines": int((article & (flat.page == k)).sum()), "mostly": reason})
    return {"lost": total, "pages": int(len(with_article)), "top_1pct_share": top_share(0.01), "top_5pct_share": top_share(0.05), "worst": worst}


def noise(pages: Sequence[sl.Page]) -> dict[str, Any]:
    """How far to trust the labels: lines short enough to match gold by chance, L3S lines
    found under several classes, leftover lines that carry a run of gold text."""
    lines = sum(len(p.lines) for p in pages)
    short = [(lab, line) for p in pages for lab, line in zip(p.labels, p.lines) if sl.short(sl.normalise(line))]
    l3s = [a for p in pages if p.l3s_class is not None for a, line in zip(p.ambiguous, p.lines) if not sl.short(sl.normalise(line))]
    leftover = sum(lab == sl.LEFTOVER for p in pages for lab in p.labels)
    return {
        "lines": lines,
        "short_lines": len(short),
        "short_share": _ratio(len(short), lines),
        "short_content_share": _ratio(sum(lab == sl.CONTENT for lab, _ in short), len(short)),
        "l3s_multi_class_share": _ratio(sum(l3s), len(l3s)),
        "mixed_leftover": sum(m for p in pages for m in p.mixed),
        "mixed_share_of_leftover": _ratio(sum(m for p in pages for m in p.mixed), leftover),
    }


def counted(counts: dict[str, int]) -> str:
    """'a 3, b 1': most first, then by name, so a report reads the same in every run (the
    counts may come from a set, whose order changes with the process)."""
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def page_notes(pages: Sequence[sl.Page], failed: set[str], all_keys: Sequence[str]) -> dict[str, Any]:
    """Extraction failures and the share of pages that do not read as English."""
    import justext

    stoplist = justext.get_stoplist("English")
    shares = {p.key: english_share(p.lines, stoplist) for p in pages}
    measured = {k: v for k, v in shares.items() if v is not None}
    non_english = sorted(k for k, v in measured.items() if v < ENGLISH_MIN_STOPWORDS)
    by_dataset = Counter(k.split("/", 1)[0] for k in non_english)
    return {
        "pages": len(all_keys),
        "failed": len(failed),
        "failed_by_dataset": dict(Counter(k.split("/", 1)[0] for k in failed)),
        "no_lines_after_normalising": sum(1 for p in pages if not p.lines),
        "language_measured": len(measured),
        "non_english": len(non_english),
        "non_english_by_dataset": dict(by_dataset),
        "non_english_examples": non_english[:10],
    }


# -- report -------------------------------------------------------------------------------
def method_table(group: dict[str, Any], methods: Sequence[str]) -> str:
    """One row per method: AUROC, precision, recall, article lines flagged, pages losing."""
    rows = [
        "| method | line AUROC | precision | recall | article lines flagged | pages losing >5% of article | AUROC, lines of 3+ words | article lines of 3+ words flagged |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for m in methods:
        r = group["methods"][m]
        rows.append(
            f"| {METHODS[m]} | {num(r['auroc'])} | {pct(r['precision'])} | {pct(r['recall'])} | {pct(r['article_flagged'])} "
            f"| {pct(r['pages_losing'])} | {num(r.get('auroc_worded'))} | {pct(r.get('article_flagged_worded'))} |"
        )
    return "\n".join(rows)


def dataset_table(split: dict[str, Any], methods: Sequence[str]) -> str:
    """Per dataset: counts, then every method's AUROC / recall / article lines flagged."""
    head = "| dataset | pages | lines | leftover | " + " | ".join(METHODS[m] for m in methods) + " |"
    rows = [head, "|---|---:|---:|---:|" + "---:|" * len(methods)]
    for name, group in split.items():
        c = group["counts"]
        cells = [f"{num(group['methods'][m]['auroc'])} / {pct(group['methods'][m]['recall'])} / {pct(group['methods'][m]['article_flagged'])}" for m in methods]
        rows.append(f"| {name} | {c['pages']} | {c['lines']} | {pct(_ratio(c['leftover'], c['leftover'] + c['content']))} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def class_table(group: dict[str, Any], methods: Sequence[str]) -> str:
    """L3S-GN1: share of each class's lines flagged."""
    first = group["methods"][methods[0]].get("l3s_class_flagged")
    if not first:
        return "(no L3S-GN1 lines in this run)"
    classes = list(sl.L3S_CLASSES)
    rows = ["| method | " + " | ".join(f"{c} {sl.L3S_CLASSES[c]} (n={first[str(c)]['n']})" for c in classes) + " |", "|---|" + "---:|" * len(classes)]
    for m in methods:
        per = group["methods"][m]["l3s_class_flagged"]
        rows.append(f"| {METHODS[m]} | " + " | ".join(pct(per[str(c)]["flagged"]) for c in classes) + " |")
    return "\n".join(rows)


def counts_table(results: dict[str, Any], splits: Sequence[str]) -> str:
    """Pages, lines and labels per extractor and split."""
    rows = ["| extractor | split | pages | lines | content | leftover | excluded: L3S class 3 | excluded: comments a gold keeps | leftover share |", "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for extractor, run in results.items():
        for split in splits:
            c = run["evaluation"][split][ALL]["counts"]
            rows.append(
                f"| {extractor} | {split} | {c['pages']} | {c['lines']} | {c['content']} | {c['leftover']} | {c['excluded'] - c['kept_comments']} | {c['kept_comments']} | {pct(_ratio(c['leftover'], c['leftover'] + c['content']))} |"
            )
    return "\n".join(rows)


def worse_than(results: dict[str, Any], methods: Sequence[str], split: str = "test") -> list[str]:
    """Plain sentences on every measure where a baseline beats coherence (page as one text)."""
    ours = "coherence"
    higher_better = {"auroc": "line AUROC", "precision": "precision", "recall": "recall"}
    lower_better = {"article_flagged": "article lines flagged", "pages_losing": "pages losing >5%"}
    out = []
    for extractor, run in results.items():
        for group, data in run["evaluation"][split].items():
            me = data["methods"][ours]
            for other in methods:
                if other.startswith("coherence"):
                    continue
                them = data["methods"][other]
                lost = [label for key, label in higher_better.items() if _beats(them[key], me[key])]
                lost += [label for key, label in lower_better.items() if _beats(me[key], them[key])]
                if lost:
                    where = "all datasets" if group == ALL else group
                    out.append(f"{extractor}, {where}: {METHODS[other]} is better on {', '.join(lost)}")
    return out


def _beats(a: float, b: float, margin: float = 0.005) -> bool:
    return not (math.isnan(a) or math.isnan(b)) and a > b + margin


def losing_pages_text(method: str, spread: dict[str, Any]) -> str:
    """One paragraph: where a method's lost article lines are, page by page."""
    worst = ", ".join(f"{w['page']} {w['lost']} of {w['article_lines']} ({w['mostly']})" for w in spread["worst"])
    return (
        f"Where `{method}`'s {spread['lost']:,} lost article lines are: {pct(spread['top_1pct_share'])} on the 1% of pages "
        f"that lose the most, {pct(spread['top_5pct_share'])} on the 5% (of {spread['pages']:,} pages with article lines); "
        f"most lost (lines lost of the page's article lines, mostly by): {worst}."
    )


def render(args: argparse.Namespace, run: dict[str, Any]) -> str:
    """scraped.md."""
    methods, splits, results = run["methods"], run["splits"], run["results"]
    meta, sites = run["meta"], run["sites"]
    lines = [
        "# Scraped web pages: line-level leftover detection",
        "",
        (f"Generated by `{' '.join(['python -m benchmarks.scraped', *run['argv']])}` on {meta['date']} ({meta['machine']}), "
        f"{meta['detector_version']}, detector backend `{args.backend}` at default settings; {meta['seconds']:.0f} s in all."),
        "",
        "## What was run",
        "",
        (f"- **Data**: `{meta['data']}`, {meta['pages']} pages ({', '.join(f'{k} {v}' for k, v in meta['pages_by_dataset'].items())}); "
        "the content of each page marked by people (see the data README). Nothing of it is in this repository."),
        (
            f"- **Extractors** ({', '.join(f'{k} {v}' for k, v in meta['versions'].items())}): "
            + "; ".join(f"`{e}`: {sl.EXTRACTORS[e]}" for e in results)
            + ". Output split into non-empty lines."
        ),
        ("- **Labels**: a line is *content* when its normalised text (lower case, runs of non-word characters as one space) occurs in the page's "
        "normalised gold text at word boundaries, else *leftover*; lines with no word left are dropped. Gold text: Dragnet as is; CleanEval and "
        "CleanPortalEval without the `URL:` line and the `<p>`/`<h>`/`<l>` markers, entities decoded; Readability the visible text of the "
        "expected HTML; L3S-GN1 the text of the `x-nc-sel0..5` spans, each line taking the class of the span(s) holding it (0 when none; a "
        "content class wins when a line occurs under several). A line of 1-2 words is content only where it sits in the gold: joined to "
        "the line before or after it, it occurs there too (label version 4: \"Home\", \"Reply\" or \"Facebook\" occur somewhere in most "
        "golds by chance, not beside the navigation around them). L3S classes 1 (headline) and 2 (full text) are content, 0, 4 (related "
        "content) and 5 (user comments) leftover, 3 (supplemental: dates, captions, bylines) is left out of the binary measures and shown in "
        "the class table. Readers' comments: L3S-GN1 marks them (class 5, leftover), Readability's and CleanEval's gold mostly leave them "
        "out, and Dragnet's, as merged, keeps them as content (its content-and-comments variant); a line of a page with plain gold that "
        "trafilatura (defaults, `bare_extraction`) returns as the page's comment section and that the gold holds is left out of the "
        "binary measures, like class 3, rather than counted as article on one data set and as a leftover on another "
        "(`scraped_lines`, \"User comments\"; the share of them each method flags is in scraped.json as `kept_comments_flagged`)."),
        (f"- **Splits**: each page's site is its registrable domain, from CleanEval's crawl URL, else the page's canonical link, og:url or base "
        f"href, else the host most of its absolute links go to ({', '.join(f'{k}: {v}' for k, v in sites['sources'].items())} pages). "
        f"Sites go to dev or test by a hash of the domain seeded with {sl.SPLIT_SEED}, so no site is on both sides: "
        f"{sites['sites']['dev']} dev sites, {sites['sites']['test']} test sites; pages per dataset dev/test: "
        + ", ".join(f"{d} {v['dev']}/{v['test']}" for d, v in sites["pages"].items())
        + (f" (sites per dataset: {', '.join(f'{d} {n}' for d, n in sites['sites_by_dataset'].items())}; a dataset with few sites cannot split evenly)" if "sites_by_dataset" in sites else "")
        + ". `benchmarks/scraped_lines.py` caches lines, labels and splits (`load_lines(split=..., extractor=...)`) for training code."),
        "- **Methods** (same lines for all): " + "; ".join(f"`{m}`: {METHODS[m]}" for m in methods) + ".",
    ]
    centroid = next((r["notes"].get("centroid") for r in results.values() if r["notes"].get("centroid")), None)
    if "centroid" in methods:
        cuts = ", ".join(f"{e}: cut {r['notes']['centroid']['cut']:.3f} at {pct(r['notes']['centroid']['dev_article_share'])}" for e, r in results.items())
        lines.append(
            f"- **Centroid cut**: the naive centroid (1 - cosine to the mean of the page's other lines, `baselines.naive_centroid_scores`) flags "
            f"above the cut at which it flags, on dev, the same share of article lines as `{centroid['reference'] if centroid else 'coherence'}` "
            f"flags there ({cuts})."
        )
    if "c4" in methods:
        c4 = next(r["notes"]["c4"] for r in results.values() if "c4" in r["notes"])
        lines.append(
            f"- **C4 rules** (datatrove's `C4QualityFilter`, its constants imported): a line is flagged without terminal punctuation "
            f"({' '.join(c4['end_punctuation'])}; an ellipsis does not count, wiki-style citations cut first), with fewer than "
            f"{c4['min_words_per_line']} words, with a word over {c4['max_word_length']} characters, with \"javascript\" or a policy phrase "
            f"({', '.join(c4['policy'])}); score = rules broken. Curly quotes are not terminal in datatrove, nor here. The page-level rules "
            "(lorem ipsum, curly brackets, fewer than 5 sentences) drop whole pages and are not applied."
        )
    if "justext" in methods:
        lines.append(
            "- **jusText**: the page's lines as `<p>` paragraphs through `justext.justext` with the English stop list and default thresholds "
            "(context-free classes, then the revision by neighbours); flagged unless *good*; score = 1 - stop-word density."
        )
    lines += ["", "## Lines", "", counts_table(results, splits), ""]
    lines += summary(results, methods, "test" if "test" in splits else splits[0])
    lines += data_notes(results)
    for split in [s for s in ("test", "dev") if s in splits]:
        lines += [f"## {split.capitalize()} split", ""]
        for extractor, r in results.items():
            ev = r["evaluation"][split]
            lines += [f"### {extractor}, all datasets", "", method_table(ev[ALL], methods), ""]
            if ev[ALL].get("lost_by_reason"):
                lines += [f"Article lines lost, by what flagged them (share of {extractor}'s {split} article lines): "
                          + "; ".join(f"`{m}` " + (", ".join(f"{k} {pct(v)}" for k, v in why.items()) or "none") for m, why in ev[ALL]["lost_by_reason"].items()), ""]
                lines += ["Pages losing > 5% of their article lines, and those that lose a single line (a page short enough that one flag is over 5%): "
                          + "; ".join(f"{METHODS[m]} {pct(ev[ALL]['methods'][m]['pages_losing'])}, by one line {pct(ev[ALL]['methods'][m]['pages_losing_one_line'])}" for m in methods), ""]
            for m, spread in ev[ALL].get("lost_by_page", {}).items():
                if spread["lost"]:
                    lines += [losing_pages_text(m, spread), ""]
            if split == "test" or len(splits) == 1:
                lines += [
                    f"#### {extractor} by dataset (AUROC / recall / article lines flagged)", "", dataset_table(ev, methods), "",
                    f"#### {extractor}, L3S-GN1: share of each class's lines flagged", "", class_table(ev.get("l3s-gn1", ev[ALL]), methods), "",
                ]
    if "coherence" in methods:
        worse = worse_than(results, methods, "test" if "test" in splits else splits[0])
        lines += ["## Where coherence is worse than a baseline", "", "Every measure on which a baseline beats `coherence` (page as one text) by more than 0.005 (AUROC) or half a point:", ""]
        lines += [f"- {w}" for w in worse] or ["- nowhere on these measures"]
    lines += ["", "Times (s): " + "; ".join(f"{e}: " + ", ".join(f"{m} {s:.0f}" for m, s in r["seconds"].items()) for e, r in results.items())]
    cached = {e: r["notes"].get("cached_pages", {}) for e, r in results.items()}
    if any(v for c in cached.values() for v in c.values()):
        lines += [
            "(a method's time covers only the pages it scored in this run; pages taken from the score cache, "
            "scored by the same package in an earlier run: "
            + "; ".join(f"{e}: " + ", ".join(f"{m} {n}" for m, n in c.items()) for e, c in cached.items() if c) + ")"
        ]
    lines += [""]
    return "\n".join(lines)


def summary(results: dict[str, Any], methods: Sequence[str], split: str) -> list[str]:
    """One line per extractor: coherence against the best baseline on AUROC, and what each
    flags, on all datasets of `split`."""
    if "coherence" not in methods:
        return []
    out = [f"## In short ({split} split, all datasets)", ""]
    for extractor, r in results.items():
        group = r["evaluation"][split][ALL]["methods"]
        me = group["coherence"]
        others = [m for m in methods if not m.startswith("coherence")]
        text = (
            f"- `{extractor}`: coherence line AUROC {num(me['auroc'])}, finds {pct(me['recall'])} of leftover lines at "
            f"{pct(me['precision'])} precision and flags {pct(me['article_flagged'])} of article lines"
        )
        if others:
            best = max(others, key=lambda m: -1 if math.isnan(group[m]["auroc"]) else group[m]["auroc"])
            b = group[best]
            text += (
                f"; the best baseline by AUROC, {METHODS[best]}, has {num(b['auroc'])}, finding {pct(b['recall'])} at "
                f"{pct(b['precision'])} precision and flagging {pct(b['article_flagged'])} of article lines"
            )
        out.append(text + ".")
    behind = [e for e, r in results.items() if _behind(r["evaluation"][split][ALL]["methods"], methods)]
    if behind:
        out += ["", (
            f"Plainly: on {', '.join(behind)} lines coherence tells leftover from article lines less well than a rule baseline "
            "(lower line AUROC than C4 rules or jusText). It was built to find sentences from another story in an article; much of a "
            "scraped page's leftover (navigation, bylines, comment furniture, related-story links) is likely on the page's topic or "
            "too short to carry one (not measured here)."
        )]
    return [*out, ""]


def _behind(group: dict[str, Any], methods: Sequence[str]) -> bool:
    """Whether a rule baseline has a higher line AUROC than coherence."""
    rules = [group[m]["auroc"] for m in ("c4", "justext") if m in methods and not math.isnan(group[m]["auroc"])]
    return bool(rules) and not math.isnan(group["coherence"]["auroc"]) and max(rules) > group["coherence"]["auroc"]


def data_notes(results: dict[str, Any]) -> list[str]:
    """Label noise, extraction failures and language, per extractor."""
    out = ["## What to trust in the labels", ""]
    for extractor, r in results.items():
        n, p = r["noise"], r["pages"]
        out.append(
            f"- `{extractor}`: {pct(n['short_share'])} of lines have 1-2 words ({pct(n['short_content_share'])} of them labelled content: "
            f"such a line counts as content only where it sits in the gold beside a neighbour, and may still match by chance); {pct(n['l3s_multi_class_share'])} of the longer L3S-GN1 lines occur "
            f"under more than one class; {n['mixed_leftover']} leftover lines ({pct(n['mixed_share_of_leftover'])} of leftover) carry a run of "
            f"{sl.MIXED_RUN}+ words of gold text (article and page furniture on one line, or gold marked more narrowly than the extractor's "
            f"line). Extraction gave nothing for {p['failed']} of {p['pages']} pages ({counted(p['failed_by_dataset']) or 'none'}). "
            f"{p['non_english']} of {p['language_measured']} pages with 50+ words have under {ENGLISH_MIN_STOPWORDS:.0%} English stop words "
            f"(likely not English: {counted(p['non_english_by_dataset']) or 'none'})."
        )
    out.append("")
    out.append("No threshold or setting was tuned to these labels; the numbers are reported as they came.")
    out.append("")
    return out


# -- main ---------------------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=sl.DEFAULT_DATA, help="pages.jsonl.gz (default: %(default)s)")
    parser.add_argument("--limit", type=int, default=None, help="only N pages spread evenly through the file, for quick runs (default: all)")
    parser.add_argument(
        "--methods", default=",".join(m for m in METHODS if m not in OPTIONAL_METHODS),
        help=f"comma-separated, of {', '.join(METHODS)} (default: all but {' and '.join(OPTIONAL_METHODS)})",
    )
    parser.add_argument("--extractors", default=",".join(DEFAULT_EXTRACTORS), help=f"comma-separated, of {', '.join(sl.EXTRACTORS)} (default: %(default)s)")
    parser.add_argument("--splits", default=",".join(SPLITS), help="comma-separated: dev, test; the centroid's cut is always set on dev (default: %(default)s)")
    parser.add_argument("--backend", choices=("onnx", "torch"), default="onnx", help="how the detector runs its model (default: %(default)s)")
    parser.add_argument("--workers", type=int, default=2, help="extraction processes (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=ROOT / "reports", help="folder for scraped.md and scraped.json (default: reports/)")
    parser.add_argument(
        "--no-score-cache", dest="score_cache", action="store_false",
        help=f"score every page again instead of reusing (and keeping) the detector's per-page results under {SCORE_CACHE}, "
        "which are keyed by a fingerprint of the coherence package, so a changed detector never reuses them",
    )
    parser.add_argument("--from-json", type=Path, default=None, help="only write scraped.md again from a scraped.json of an earlier run (no scoring)")
    args = parser.parse_args(argv)
    args.method_list = _choices(args.methods, METHODS, parser, "--methods")
    args.extractor_list = _choices(args.extractors, sl.EXTRACTORS, parser, "--extractors")
    args.split_list = _choices(args.splits, SPLITS, parser, "--splits")
    return args


def _choices(value: str, allowed: Sequence[str], parser: argparse.ArgumentParser, flag: str) -> list[str]:
    """A comma-separated option as a list in the canonical order; unknown names are an error."""
    names = [v.strip() for v in value.split(",") if v.strip()]
    unknown = [n for n in names if n not in allowed]
    if unknown or not names:
        parser.error(f"{flag}: unknown {unknown or 'empty'}; choose from {', '.join(allowed)}")
    return [a for a in allowed if a in names]


def site_summary(data: Path, limit: int | None) -> dict[str, Any]:
    """Where sites came from, sites and pages per split."""
    sites = sl.load_sites(data, limit)
    per_split = {s: {v["site"] for v in sites.values() if v["split"] == s} for s in SPLITS}
    pages: dict[str, dict[str, int]] = {}
    for v in sites.values():
        pages.setdefault(v["dataset"], {s: 0 for s in SPLITS})[v["split"]] += 1
    return {
        "sources": dict(Counter(v["source"] for v in sites.values()).most_common()),
        "sites": {s: len(v) for s, v in per_split.items()},
        "pages": dict(sorted(pages.items())),
        "shared_sites": len(per_split["dev"] & per_split["test"]),
        "sites_by_dataset": dict(sorted(Counter(d for d, _ in {(v["dataset"], v["site"]) for v in sites.values()}).items())),
    }


def run_all(args: argparse.Namespace, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Extract (or read the cache), score every method on every extractor's lines, measure."""
    started = time.perf_counter()
    scoring_splits = sorted(set(args.split_list) | ({"dev"} if "centroid" in args.method_list else set()))
    log(f"extracting / reading the cache ({', '.join(args.extractor_list)})")
    folder = sl.prepare(args.data, args.extractor_list, args.limit, args.workers, log)
    log(f"cache: {folder}")
    detector = detector_for(args.backend) if {*DETECTOR_METHODS, "centroid"} & set(args.method_list) else None
    results: dict[str, Any] = {}
    for extractor in args.extractor_list:
        everything = sl.load_lines("all", extractor, args.data, args.limit, with_failed=True)
        failed = sl.failed_keys(extractor, args.data, args.limit)
        pages = [p for p in everything if p.lines and p.split in scoring_splits]
        log(f"{extractor}: scoring {len(pages)} pages")
        scored = score_all(pages, args.method_list, detector, log, args.backend if args.score_cache else None)
        results[extractor] = {
            "evaluation": evaluate(scored, args.split_list),
            "noise": noise([p for p in pages if p.split in args.split_list]),
            "pages": page_notes(pages, failed, [p.key for p in everything]),
            "seconds": scored.seconds,
            "notes": scored.notes,
        }
    pages_by_dataset = Counter(v["dataset"] for v in sl.load_sites(args.data, args.limit).values())
    meta = {
        "data": str(args.data),
        "pages": sum(pages_by_dataset.values()),
        "pages_by_dataset": dict(sorted(pages_by_dataset.items())),
        "versions": sl.extractor_versions(),
        "machine": machine(),
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "detector_version": detector_version(),
        "cache": str(folder),
        "seconds": time.perf_counter() - started,
    }
    return {"methods": args.method_list, "splits": args.split_list, "results": results, "meta": meta, "sites": site_summary(args.data, args.limit)}


def _nan_back(value: Any) -> Any:
    """A saved run with its nulls as NaN again (the report prints them as n/a)."""
    if isinstance(value, dict):
        return {k: _nan_back(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_nan_back(v) for v in value]
    return math.nan if value is None else value


def print_tables(run: dict[str, Any]) -> None:
    """The main tables on stdout: every extractor, overall, per split."""
    for split in run["splits"]:
        for extractor, r in run["results"].items():
            c = r["evaluation"][split][ALL]["counts"]
            print(f"\n{split}, {extractor}: {c['pages']} pages, {c['lines']} lines, {c['leftover']} leftover")
            print(method_table(r["evaluation"][split][ALL], run["methods"]))


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark, write scraped.md and scraped.json, print the tables."""
    args = parse_args(argv)
    if args.from_json is not None:
        saved = json.loads(args.from_json.read_text())
        args.backend = saved["config"]["backend"]
        if Path(saved["config"]["data"]).exists():  # newer fields of the site summary, from the cache
            saved["sites"] = site_summary(Path(saved["config"]["data"]), saved["config"]["limit"])
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "scraped.md").write_text(render(args, _nan_back(saved)))
        print(f"report: {args.out / 'scraped.md'} (from {args.from_json})")
        return
    run = run_all(args)
    run["argv"] = sys.argv[1:] if argv is None else argv
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "scraped.md").write_text(render(args, run))
    config = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    (args.out / "scraped.json").write_text(json.dumps(json_ready({"config": config, **run}), indent=1) + "\n")
    print_tables(run)
    print(f"\nreport: {args.out / 'scraped.md'} ({run['meta']['seconds']:.0f} s)")


if __name__ == "__main__":
    main()

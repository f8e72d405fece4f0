"""Training pages for the page reader: the scraped benchmark's dev pages, line by line, labelled
leftover or article against the human gold (`benchmarks/scraped_lines.py`), tokenised as the
reader reads them (each line one unit, windows unanchored).

Two extractors' views of every dev page are used, trafilatura at its defaults (few leftovers,
mixed in with prose) and a whole-page text dump (mostly furniture), so the model sees leftovers
both rare and common. The dev sites are cut into the same five site folds as the line model's
(`training.fit_leftovers.site_folds`); the last fold is written apart: the page reader never
trains on it, so what combines the reader with the line model is fitted on pages it never saw.
Test sites are never read.

`--news-pages N` adds N made-up pages to the training file (never to the held one): news
articles of the news corpus's train split, each a line a paragraph (lines the line model
already calls leftovers, such as "Hide Caption", dropped, and those it is unsure of left out of
the loss, as the gold's unsure lines are), with 0 to 3 runs of real leftover
lines of the training sites' pages put at the top, the bottom or between paragraphs. The
scraped data sets hold about a thousand sites' pages; these add the prose of hundreds of
outlets as article text, so the reader learns what the article is as well as what the
furniture is. Tried once (1,500 such pages beside the 2,215 real ones, the shipped recipe):
the validation AUROC on held pages at step 500 was 0.771 for trafilatura output and 0.934
for whole pages, against 0.796 and 0.939 for the shipped run at step 400; stopped at step
680 and not shipped. Made-up pages teach where furniture sits in news prose, not the page
layouts the real leftovers come from.

    python -m training.page_reader_data --out ~/.cache/coherence-fit/page_reader
"""

from __future__ import annotations

import argparse
import pickle
import sys
from pathlib import Path

import numpy as np

from benchmarks import scraped_lines as sl
from coherence.models.reader_layout import reader_tokenizer
from training.fit_leftovers import site_folds
from training.reader_data import PAGE, Planted

EXTRACTORS = ("trafilatura", "whole-page")
HELD_FOLD = 4  # the fold kept out of the page reader's training
NEWS_SEED = 21
RUNS_PER_PAGE = (0, 1, 2, 3)
RUNS_PER_PAGE_SHARE = (0.25, 0.4, 0.25, 0.1)
LONGEST_RUN = 6  # leftover lines put in at one place
DROPPED, UNSURE = 0.5, 0.15  # a news line the line model gives this is dropped, left out of the loss


def page_units(extractor: str, tok) -> tuple[list[Planted], list[str]]:
    """Every dev page of one extractor as a `Planted` of lines, and each page's site."""
    out, sites = [], []
    for page in sl.load_lines(split="dev", extractor=extractor):
        kept = [(line.strip(), label) for line, label in zip(page.lines, page.labels) if line.strip()]
        if len(kept) < 2:
            continue
        ids = [e.ids for e in tok.encode_batch([line for line, _ in kept], add_special_tokens=False)]
        labels = np.array([label for _, label in kept], dtype=np.int8)
        text = "\n".join(line for line, _ in kept)
        out.append(Planted(page.key, f"web:{page.dataset}", PAGE + extractor, ids, labels, text, anchored=False))
        sites.append(page.site)
    return out, sites


def leftover_runs(pages: list[Planted]) -> list[list[str]]:
    """Every run of consecutive leftover lines of the pages (cut to LONGEST_RUN)."""
    runs = []
    for page in pages:
        lines = page.text.split("\n")
        start = None
        for k, label in enumerate(list(page.labels) + [0]):
            if label == 1 and start is None:
                start = k
            elif label != 1 and start is not None:
                for first in range(start, k, LONGEST_RUN):
                    runs.append(lines[first:min(first + LONGEST_RUN, k)])
                start = None
    return runs


def news_pages(count: int, runs: list[list[str]], tok) -> list[Planted]:
    """`count` news articles of the train split as pages with leftover runs put in (see the docstring)."""
    from benchmarks.news_corpus import load_news, news_split
    from coherence.evidence.lines import PageLines
    from coherence.models.leftovers import LeftoverModel

    rng = np.random.default_rng(NEWS_SEED)
    articles = news_split(load_news(), "train")
    trees = LeftoverModel.default()
    out: list[Planted] = []
    for index in rng.permutation(len(articles)):
        if len(out) == count:
            break
        lines = [line.strip() for line in articles[index].text.split("\n") if line.strip()]
        if len(lines) < 3:
            continue
        probability = trees.probability(PageLines(lines))
        units = [(line, 0 if p < UNSURE else -1) for line, p in zip(lines, probability) if p < DROPPED]
        for _ in range(int(rng.choice(RUNS_PER_PAGE, p=RUNS_PER_PAGE_SHARE))):
            run_lines = runs[int(rng.integers(len(runs)))]
            where = rng.choice(("top", "bottom", "inside"), p=(0.35, 0.4, 0.25))
            at = 0 if where == "top" else len(units) if where == "bottom" else int(rng.integers(1, max(len(units), 2)))
            units[at:at] = [(line, 1) for line in run_lines]
        ids = [e.ids for e in tok.encode_batch([line for line, _ in units], add_special_tokens=False)]
        labels = np.array([label for _, label in units], dtype=np.int8)
        out.append(Planted(articles[index].id, "news", PAGE + "news", ids, labels, "\n".join(line for line, _ in units), anchored=False))
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="folder for pages.pkl (training) and held.pkl")
    parser.add_argument("--news-pages", type=int, default=0, help="made-up news pages added to the training file (default: none)")
    args = parser.parse_args(argv)
    tok = reader_tokenizer()
    pages, sites = [], []
    for extractor in EXTRACTORS:
        found, their_sites = page_units(extractor, tok)
        pages += found
        sites += their_sites
        print(f"{extractor}: {len(found)} pages", file=sys.stderr, flush=True)
    held = set(site_folds(sites)[HELD_FOLD].tolist())
    args.out.mkdir(parents=True, exist_ok=True)
    training = [p for k, p in enumerate(pages) if k not in held]
    if args.news_pages:
        training += news_pages(args.news_pages, leftover_runs(training), tok)
        print(f"news: {args.news_pages} made-up pages", file=sys.stderr, flush=True)
    for name, part in (("pages.pkl", training), ("held.pkl", [pages[k] for k in sorted(held)])):
        with open(args.out / name, "wb") as handle:
            pickle.dump(part, handle, protocol=pickle.HIGHEST_PROTOCOL)
        print(f"wrote {len(part)} pages to {args.out / name}", file=sys.stderr)


if __name__ == "__main__":
    main()

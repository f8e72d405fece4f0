"""Training pages for the page reader: the scraped benchmark's dev pages, line by line, labelled
leftover or article against the human gold (`benchmarks/scraped_lines.py`), tokenised as the
reader reads them (each line one unit, windows unanchored).

Two extractors' views of every dev page are used, trafilatura at its defaults (few leftovers,
mixed in with prose) and a whole-page text dump (mostly furniture), so the model sees leftovers
both rare and common. The dev sites are cut into the same five site folds as the line model's
(`training.fit_leftovers.site_folds`); the last fold is written apart: the page reader never
trains on it, so what combines the reader with the line model is fitted on pages it never saw.
Test sites are never read.

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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="folder for pages.pkl (training) and held.pkl")
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
    for name, part in (("pages.pkl", [p for k, p in enumerate(pages) if k not in held]), ("held.pkl", [pages[k] for k in sorted(held)])):
        with open(args.out / name, "wb") as handle:
            pickle.dump(part, handle, protocol=pickle.HIGHEST_PROTOCOL)
        print(f"wrote {len(part)} pages to {args.out / name}", file=sys.stderr)


if __name__ == "__main__":
    main()

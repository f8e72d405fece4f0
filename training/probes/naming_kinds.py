"""Probe for issue 18 (not shipped): would the line model gain from the wordings that now only
name a flagged line's kind (`coherence.text.line_kinds.NAMING_ONLY`: "Thank you for signing
up", "in your inbox", "with reporting by", "Source: ...") if they were features too?

Both feature sets are measured in one run, on the same rows, folds and words models as
`python -m training.fit_leftovers --check`: first the shipped features, then the same rows
with each `NAMING_ONLY` wording folded into its kind's column (the kinds it names, call to
action, byline and caption, feed no context feature, so only those columns move). Prints
both held-out reports and how many rows the fold changes.

Run: PYTHONPATH=. python -m training.probes.naming_kinds   (the `bench` extra; about 20 min on 2 cores)
"""

from __future__ import annotations

import re
import time

import numpy as np

from benchmarks import scraped_lines as sl
from coherence.evidence.lines import LINE_FEATURES
from coherence.text.line_kinds import NAMING_ONLY
from training import fit_leftovers as lines_fit

_MAX_CHARS = 300  # as `coherence.text.line_kinds`: longer lines are prose and match no kind


def folded_columns(data: lines_fit.Pages) -> int:
    """Set each kind's column where one of its `NAMING_ONLY` wordings matches; returns the
    number of rows changed."""
    changed = 0
    patterns = [(LINE_FEATURES.index(f"kind_{name}"), re.compile(pattern, re.IGNORECASE)) for name, pattern in NAMING_ONLY]
    for page, features in zip(data.pages, data.features):
        for row, line in enumerate(page.lines):
            if len(line) > _MAX_CHARS:
                continue
            for column, pattern in patterns:
                if features[row, column] == 0 and pattern.search(line):
                    features[row, column] = 1.0
                    changed += 1
    return changed


def main() -> None:
    start = time.time()
    data = lines_fit.training_pages(measure_news=True)
    _, y, index, _ = data.stacked()
    source = np.array(data.sources)[index]
    counted = np.array([page.site_repeats is not None for page in data.pages])[index]
    groups = lines_fit.page_folds(data)
    terms = lines_fit.row_terms(data)
    print(f"{len(data.pages)} pages, {int((y != sl.EXCLUDED).sum())} labelled lines, {time.time() - start:.0f}s", flush=True)
    shipped = lines_fit.out_of_fold(data, groups, terms)
    lines_fit.report("shipped features", shipped, y, source, counted)
    print(f"  ({time.time() - start:.0f}s)", flush=True)
    kinds = [LINE_FEATURES.index(f"kind_{name}") for name, _ in NAMING_ONLY]
    before = np.vstack(data.features)[:, kinds]
    changed = folded_columns(data)
    rows = (np.vstack(data.features)[:, kinds] != before).any(axis=1)  # rows whose kinds moved
    folded = lines_fit.out_of_fold(data, groups, terms)
    print(f"NAMING_ONLY folded into the kinds: {changed} cells set on {int(rows.sum())} rows")
    lines_fit.report("NAMING_ONLY folded", folded, y, source, counted)
    for name, use in (("all rows", rows), *((s, rows & (source == s)) for s in (*lines_fit.EXTRACTORS, lines_fit.NEWS, lines_fit.NEWS_HELD))):
        labelled = use & (y != sl.EXCLUDED)
        if labelled.any():
            print(
                f"  changed rows, {name}: {int(labelled.sum())} labelled ({int(y[labelled].sum())} leftover); "
                f"mean probability of the leftover ones {shipped[labelled & (y == 1)].mean():.3f} -> {folded[labelled & (y == 1)].mean():.3f}, "
                f"of the article ones {shipped[labelled & (y == 0)].mean() if (labelled & (y == 0)).any() else float('nan'):.3f} -> "
                f"{folded[labelled & (y == 0)].mean() if (labelled & (y == 0)).any() else float('nan'):.3f}"
            )
    print(f"done in {time.time() - start:.0f}s")


if __name__ == "__main__":
    main()

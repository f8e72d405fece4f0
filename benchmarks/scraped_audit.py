"""A person's audit of the scraped benchmark's errors: what the lines it counts against coherence are.

The benchmark's labels come from the data sets' gold text: a line is *article* when the gold
holds its text. Gold conventions differ (CleanEval keeps menus and dates, Dragnet keeps reader
comments, L3S-GN1 drops them), so "article lines flagged" mixes real losses with page
furniture the gold kept. This audit draws a seeded sample of the test lines the benchmark
counts as lost (labelled article, flagged, no copy kept) and of the leftover lines coherence
misses, a person gives each a verdict, and the report scales the benchmark's rates by what
the sample holds (with 95% Wilson intervals).

    python -m benchmarks.scraped_audit sample --out ~/audit.tsv    # scores test pages, writes a sheet
    # fill the verdict column: article, furniture, comment, language, unclear
    python -m benchmarks.scraped_audit report --verdicts benchmarks/audit/trafilatura_test.tsv

The committed verdicts keep no page text (only page key, line number and a digest of the
line, checked against the cached lines when the report is written).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import math
import re
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from benchmarks import scraped_lines as sl

VERDICTS = {
    "article": "text of the article itself: flagging it loses content",
    "furniture": "page furniture the gold kept: navigation, headings of other content, dates, bylines, calls to action, credits, contact lines",
    "comment": "a reader comment or its controls (Dragnet's gold keeps comments, L3S-GN1's does not)",
    "language": "a line in another language than the article (a translation, a quote)",
    "unclear": "cannot tell from the page's text",
}
KINDS = {"lost": "labelled article, flagged by coherence (counted as lost)", "missed": "labelled leftover, not flagged"}
COLUMNS = ("kind", "key", "line", "digest", "verdict")
SEED = 18


def digest(line: str) -> str:
    """A short fingerprint of a line, to check a verdict still names the same text."""
    return hashlib.sha1(line.strip().encode("utf-8")).hexdigest()[:12]


def wilson(hits: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a proportion; (nan, nan) for no trials."""
    if n == 0:
        return math.nan, math.nan
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def draw(candidates: Sequence[tuple[str, int]], n: int, seed: int = SEED) -> list[tuple[str, int]]:
    """A seeded sample of (page key, line) pairs, independent of the order they came in."""
    ordered = sorted(candidates)
    rng = np.random.default_rng(seed)
    picked = rng.choice(len(ordered), size=min(n, len(ordered)), replace=False) if ordered else []
    return [ordered[i] for i in sorted(picked)]


_COUNT = re.compile(r"#\s*(\w+)=(\d+)\s*")  # a population count in the sheet's header


def read_verdicts(path: Path) -> tuple[list[dict[str, str]], dict[str, int], list[str]]:
    """The rows of a verdict sheet, the population counts of its `# name=value` header lines
    and its other `#` lines (notes, such as the commit the sample was drawn at)."""
    rows, population, notes = [], {}, []
    with open(path, newline="", encoding="utf-8") as handle:
        lines = [line for line in handle]
    for line in (line for line in lines if line.startswith("#")):
        count = _COUNT.fullmatch(line.strip())
        if count:
            population[count.group(1)] = int(count.group(2))
        else:
            notes.append(line[1:].strip())
    body = [line for line in lines if not line.startswith("#")]
    for row in csv.DictReader(body, delimiter="\t"):
        missing = [c for c in COLUMNS if c not in row]
        if missing:
            raise ValueError(f"{path}: columns {missing} missing")
        if row["verdict"] not in VERDICTS:
            raise ValueError(f"{path}: verdict {row['verdict']!r} for {row['key']} line {row['line']} is not one of {sorted(VERDICTS)}")
        rows.append(row)
    return rows, population, notes


def line_form(line: str) -> str:
    """A line's form, to say what kind of article text is lost: a table or code row, a list
    item, a heading (4 words or fewer, no end punctuation) or prose."""
    text = line.strip()
    if text.count("|") >= 2 or "\u2502" in text:
        return "table or code row"
    if text[:1] in "-\u2022*" or text.split(".")[0].isdigit() and "." in text[:4]:
        return "list item"
    if len(text.split()) <= 4 and not text.endswith((".", "!", "?", '"', "\u201d")):
        return "heading or label"
    return "prose"


def shares(rows: Sequence[dict[str, str]], kind: str) -> dict[str, tuple[int, int, float, float]]:
    """For each verdict among the rows of one kind: (count, sample size, low, high)."""
    of_kind = [r for r in rows if r["kind"] == kind]
    counted = Counter(r["verdict"] for r in of_kind)
    return {v: (counted[v], len(of_kind), *wilson(counted[v], len(of_kind))) for v in VERDICTS}


# -- sample ---------------------------------------------------------------------------------
def sample(args: argparse.Namespace) -> None:
    from benchmarks.scraped import SCORE_CACHE, coherence_pages, copy_ids, detector_for, kept_elsewhere, through_cache
    from benchmarks.score_cache import ScoreCache

    pages = [p for p in sl.load_lines(split="test", extractor=args.extractor) if p.lines]
    print(f"scoring {len(pages)} test pages ({args.extractor})", file=sys.stderr, flush=True)
    detector = detector_for("onnx")
    (_, flags, _), _ = through_cache(pages, lambda todo: coherence_pages(todo, detector), ScoreCache.open(SCORE_CACHE, "coherence", "onnx"))
    lost, missed, article, leftover = [], [], 0, 0
    for page, flag in zip(pages, flags):
        copy_of = copy_ids([page])
        labels = np.asarray(page.labels)
        gone = flag & ~kept_elsewhere(copy_of, flag)
        article += int((labels == sl.CONTENT).sum())
        leftover += int((labels == sl.LEFTOVER).sum())
        lost += [(page.key, i) for i in np.flatnonzero((labels == sl.CONTENT) & gone)]
        missed += [(page.key, i) for i in np.flatnonzero((labels == sl.LEFTOVER) & ~flag)]
    text = {p.key: p.lines for p in pages}
    with open(args.out, "w", newline="", encoding="utf-8") as handle:
        for name, value in (("article_lines", article), ("lost_lines", len(lost)), ("leftover_lines", leftover), ("missed_lines", len(missed))):
            handle.write(f"# {name}={value}\n")
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(COLUMNS + ("text",))
        for kind, pool in (("lost", lost), ("missed", missed)):
            for key, i in draw(pool, args.n):
                line = text[key][i]
                writer.writerow((kind, key, int(i), digest(line), "", line.replace("\t", " ")[:300]))
    print(f"wrote {args.out}: {min(args.n, len(lost))} lost and {min(args.n, len(missed))} missed lines to judge", file=sys.stderr)


# -- report ---------------------------------------------------------------------------------
def report(args: argparse.Namespace) -> list[str]:
    rows, population, notes = read_verdicts(args.verdicts)
    lines_of = {p.key: p.lines for p in sl.load_lines(split="test", extractor=args.extractor)}
    for row in rows:
        page, index = lines_of.get(row["key"], []), int(row["line"])
        line = page[index] if index < len(page) else None
        if line is None or digest(line) != row["digest"]:
            raise ValueError(f"{row['key']} line {row['line']}: not the line that was judged (labels or extraction changed)")
        row["text"] = line.strip()
    out = [
        f"# Audit of the scraped benchmark's errors ({args.extractor} output, test split)",
        "",
        f"Generated by `python -m benchmarks.scraped_audit report --verdicts {args.verdicts}`. One person read each sampled line "
        "with its page's extracted text around it and gave one verdict; the sample was drawn with a fixed seed from "
        "the lines of coherence's default run (page as one text), before any verdict. Nothing was tuned to it.",
        "",
        *notes,
        "",
        "Verdicts: " + "; ".join(f"**{v}**: {d}" for v, d in VERDICTS.items()) + ".",
        "",
    ]
    for kind, described in KINDS.items():
        found = shares(rows, kind)
        n = next(iter(found.values()))[1]
        pool = population.get("lost_lines" if kind == "lost" else "missed_lines", 0)
        out += [f"## {described}: {n} of {pool} lines", "", "| verdict | lines | share | 95% interval |", "|---|---:|---:|---:|"]
        out += [f"| {v} | {c} | {c / n:.0%} | {lo:.0%} - {hi:.0%} |" for v, (c, n, lo, hi) in found.items() if n]
        out.append("")
        if kind == "lost" and population.get("article_lines"):
            rate = population["lost_lines"] / population["article_lines"]
            c, n, lo, hi = found["article"]
            out.append(
                f"The benchmark counts {rate:.1%} of article lines lost; scaled by the sample, the lines that are "
                f"article text make {rate * c / n:.1%} of article lines (interval {rate * lo:.1%} - {rate * hi:.1%})."
            )
        if kind == "lost":
            forms = Counter(line_form(r["text"]) for r in rows if r["kind"] == kind and r["verdict"] == "article")
            out.append("The lost lines that are article text, by form: " + ", ".join(f"{f} {c}" for f, c in forms.most_common()) + ".")
        if kind == "missed" and population.get("leftover_lines"):
            c, n, lo, hi = found["article"]
            leftover, missed = population["leftover_lines"], population["missed_lines"]
            out.append(
                f"Of the missed leftover lines, {c / n:.0%} (interval {lo:.0%} - {hi:.0%}) are article text that the gold left out; "
                f"without them the benchmark's recall of {1 - missed / leftover:.1%} would be "
                f"{(leftover - missed) / (leftover - missed * c / n):.1%}."
            )
        out += ["", "Examples:", ""]
        for v in VERDICTS:
            for row in [r for r in rows if r["kind"] == kind and r["verdict"] == v][:3]:
                out.append(f"- {v}: `{row['text'][:100]}` ({row['key'].split('/')[0]})")
        out.append("")
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    draw_it = commands.add_parser("sample", help="score the test pages and write a sheet of lines to judge")
    draw_it.add_argument("--out", type=Path, required=True, help="the sheet (holds page text: keep it out of the repository)")
    draw_it.add_argument("--n", type=int, default=100, help="lines of each kind (default: %(default)s)")
    judge = commands.add_parser("report", help="write reports/scraped_audit.md from a filled sheet")
    judge.add_argument("--verdicts", type=Path, required=True)
    judge.add_argument("--report", type=Path, default=Path("reports/scraped_audit.md"))
    for command in (draw_it, judge):
        command.add_argument("--extractor", default="trafilatura", choices=sorted(sl.EXTRACTORS))
    args = parser.parse_args(argv)
    if args.command == "sample":
        sample(args)
    else:
        text = "\n".join(report(args)) + "\n"
        args.report.write_text(text, encoding="utf-8")
        print(text)


if __name__ == "__main__":
    main()

#!/usr/bin/env python
"""Benchmark coherence.text.segment against baseline sentence splitters.

Compares ``split_sentences`` with a naive regex splitter and pysbd (optional,
benchmark-only dependency) on the labelled cases: exact-match accuracy per
case and boundary precision/recall/F1 (boundaries are character offsets,
matched after whitespace normalisation).  Also measures throughput on a
synthetic ~1 MB news-like text and the time on 200 KB without punctuation.
Prints a markdown report and writes it to ``--out``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import re
import textwrap
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Callable

from coherence.text.segment import split_sentences

ROOT = Path(__file__).resolve().parents[1]

Splitter = Callable[[str], list[str]]
_NAIVE = re.compile(r"(?<=[.!?])\s+")
_TOKEN = re.compile(r"\S+")
_DOUBLE_DOT = re.compile(r"(?<!\.)\.\.(?!\.)")


def ours(text: str) -> list[str]:
    return [s.text for s in split_sentences(text)]


def naive(text: str) -> list[str]:
    return [p for p in _NAIVE.split(text) if p.strip()]


def make_pysbd() -> tuple[Splitter | None, str]:
    """Return a pysbd splitter and a version note, or (None, reason) if missing."""
    try:
        import pysbd  # benchmark-only dependency
    except ImportError:
        return None, "pysbd not installed (pip install pysbd) - skipped"
    seg = pysbd.Segmenter(language="en", clean=False)
    return (lambda text: seg.segment(text) if text.strip() else []), f"pysbd {pysbd.__version__}"


def _norm(s: str) -> str:
    return " ".join(s.split())


def sentence_ends(text: str, sents: list[str]) -> tuple[set[int], int]:
    """Map sentences to end offsets in ``text`` (whitespace-insensitive).

    Returns the set of internal boundaries (the end of the text is excluded)
    and the number of sentences that could not be located.
    """
    chars: list[str] = []
    index: list[int] = []  # normalised position -> original offset
    for m in _TOKEN.finditer(text):
        if chars:
            chars.append(" ")
            index.append(m.start() - 1)
        chars.extend(m.group())
        index.extend(range(m.start(), m.end()))
    norm = "".join(chars)
    ends: set[int] = set()
    pos = missing = 0
    for s in map(_norm, sents):
        if not s:
            continue
        i = norm.find(s, pos)
        if i < 0:
            missing += 1
            continue
        pos = i + len(s)
        ends.add(index[pos - 1] + 1)
    if norm:
        ends.discard(index[-1] + 1)
    return ends, missing


def evaluate(split: Splitter, cases: list[dict]) -> dict:
    """Exact-match accuracy and micro-averaged boundary P/R/F1 on the cases."""
    tp = fp = fn = exact = missing = 0
    per_cat: dict[str, int] = defaultdict(int)
    for c in cases:
        pred = split(c["text"])
        ok = [_norm(s) for s in pred if _norm(s)] == [_norm(s) for s in c["sentences"]]
        exact += ok
        per_cat[c["category"]] += ok
        gold, _ = sentence_ends(c["text"], c["sentences"])
        got, miss = sentence_ends(c["text"], pred)
        missing += miss
        tp += len(gold & got)
        fp += len(got - gold)
        fn += len(gold - got)
    p, r, f1 = prf(tp, fp, fn)
    return {"exact": exact, "p": p, "r": r, "f1": f1, "missing": missing, "per_cat": dict(per_cat)}


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    """Precision, recall and F1 from counts."""
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def synthetic_text(n_chars: int, seed: int = 0) -> tuple[str, list[str]]:
    """Deterministic news-like text (boilerplate lines, quotes, abbreviations,
    wrapped paragraphs, stray leading dots) and its gold sentences."""
    rng = random.Random(seed)
    names = ["Mr. Smith", "Dr. Jones", "George W. Bush", "Mrs. Clinton", "the U.S. -led coalition", "Gen. Petraeus"]
    places = ["Deir al-Zour", "Washington, D.C.", "St. Petersburg", "the U.K.", "Ankara", "Tehran"]
    templates = [
        "{n} said the talks in {p} would resume on Jan. {d}.",
        '"We are moving forcefully and quickly", {n} said.',
        "Inflation rose to {d}.{d}% while the company raised ${d}.{d}bn in {p}.",
        "The missiles travelled {d}0-{d}70 kilometers, according to the ministry.",
        'He said "it is over."|Then {n} left {p} at {d} a.m. local time.',
        "Is this the end?!|Nobody in {p} knows...|Officials declined to comment.",
        "Supplies of food, fuel, medicine, etc. were running low in {p}.",
        "“There are dead people in the hospital”, {n} told reporters in {p}.",
    ]
    boiler = ["Related news", "Share this article", "By Maria Petrova, Reuters", "Read more:"]
    paras: list[str] = []
    gold: list[str] = []
    size = 0
    while size < n_chars:
        kind = rng.random()
        if kind < 0.15:
            lines = rng.sample(boiler, 2)
            para = "\n".join(lines)
            gold += lines
        else:
            sents = []
            for _ in range(rng.randint(2, 6)):
                s = rng.choice(templates).format(n=rng.choice(names), p=rng.choice(places), d=rng.randint(1, 9))
                s = _DOUBLE_DOT.sub(".", s)  # "D.C.." -> "D.C."
                sents += (x[0].upper() + x[1:] for x in s.split("|"))  # "|" separates gold sentences
            if kind > 0.6 and kind <= 0.7:
                sents.insert(0, ".")
            para = " ".join(sents)
            if kind > 0.7:
                para = textwrap.fill(para, 72, break_on_hyphens=False)
            gold += sents
        paras.append(para)
        size += len(para) + 2
    return "\n\n".join(paras), gold


def timed(split: Splitter, text: str, repeat: int) -> tuple[float, list[str]]:
    best, out = float("inf"), []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = split(text)
        best = min(best, time.perf_counter() - t0)
    return best, out


def run(cases_path: Path, out_path: Path, n_chars: int) -> str:
    cases = [json.loads(x) for x in cases_path.read_text(encoding="utf-8").splitlines() if x.strip()]
    pysbd_split, pysbd_note = make_pysbd()
    splitters: dict[str, tuple[Splitter, int]] = {"coherence.text.segment": (ours, 3), "naive regex": (naive, 3)}
    if pysbd_split is not None:
        splitters["pysbd"] = (pysbd_split, 1)  # slow: a single timed run
    big, big_gold = synthetic_text(n_chars)
    gold_ends, _ = sentence_ends(big, big_gold)
    small = big[: len(big) // 10]  # throughput at 1/10 of the size shows scaling
    nopunct = ("lorem ipsum dolor sit amet " * 8000)[:200_000]

    rows, cats = [], {}
    for name, (split, repeat) in splitters.items():
        m = evaluate(split, cases)
        t_small, _ = timed(split, small, repeat)
        t_big, big_pred = timed(split, big, repeat)
        got, _ = sentence_ends(big, big_pred)
        syn = prf(len(got & gold_ends), len(got - gold_ends), len(gold_ends - got))
        t_np, pieces = timed(split, nopunct, repeat)
        cats[name] = m["per_cat"]
        rows.append(
            f"| {name} | {m['exact']}/{len(cases)} ({m['exact'] / len(cases):.0%}) | {m['p']:.3f} | {m['r']:.3f} "
            f"| {m['f1']:.3f} | {m['missing']} | {' / '.join(f'{x:.3f}' for x in syn)} "
            f"| {len(small) / t_small:,.0f} | {len(big) / t_big:,.0f} | {t_np * 1000:.1f} ms "
            f"| {max(map(len, pieces)):,} |"
        )

    n_cat = Counter(c["category"] for c in cases)
    cat_rows = [
        f"| {cat} | {n_cat[cat]} | " + " | ".join(str(cats[name].get(cat, 0)) for name in splitters) + " |"
        for cat in sorted(n_cat)
    ]
    xfails = [c["id"] for c in cases if "xfail" in c]
    lines = [
        "# Sentence segmentation benchmark",
        "",
        f"- Date: {dt.datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"- Machine: {platform.platform()}, {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}",
        f"- Labelled cases: N = {len(cases)} (`{cases_path.relative_to(ROOT) if cases_path.is_relative_to(ROOT) else cases_path}`)",
        f"- Synthetic text: {len(big):,} chars, {len(big_gold):,} gold sentences from templates "
        f"(throughput also on its first {len(small):,} chars); "
        f"no-punctuation text: {len(nopunct):,} chars",
        f"- Baselines: naive regex `(?<=[.!?])\\s+`; {pysbd_note}",
        "",
        "| splitter | exact match | boundary P | boundary R | boundary F1 | unmapped sents | synthetic P / R / F1 "
        f"| chars/s ({len(small) / 1e3:,.0f} KB) | chars/s ({len(big) / 1e3:,.0f} KB) "
        "| time, 200 KB no punct | longest piece (200 KB) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        "Exact matches per category:",
        "",
        "| category | cases | " + " | ".join(splitters) + " |",
        "|---|---|" + "---|" * len(splitters),
        *cat_rows,
        "",
        "Notes:",
        "",
        "- Exact match compares the whitespace-normalised sentence lists; boundaries are the end offsets "
        "of all but the last sentence, micro-averaged over cases. *Unmapped* counts predicted sentences "
        "that could not be located in the input (0 means offsets were comparable). *Synthetic* P/R/F1 "
        "are the same boundary metrics on the synthetic text, whose gold sentences are known by construction.",
        "- The labelled cases and the synthetic templates were written together with `coherence.text.segment` "
        "and target its design (scraped-news quirks: standalone lines, hard wraps, stray leading `.`), "
        "so they favour it; treat the accuracy columns as a regression check, not an unbiased evaluation. "
        "Some differences are labelling conventions (e.g. a trailing ` ...` stays with the previous "
        "sentence here, pysbd makes it a sentence).",
        f"- Known failures of `coherence.text.segment` (xfail in tests): {', '.join(xfails) or 'none'}.",
        "- Timings are best of 3 runs (pysbd: 1 run) on the machine above; throughput is given at two "
        "input sizes to show how it scales with length.",
        "",
    ]
    report = "\n".join(lines)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(report, encoding="utf-8")
    return report


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=Path, default=ROOT / "tests" / "data" / "segmentation_cases.jsonl",
                    help="labelled JSONL cases (default: %(default)s)")
    ap.add_argument("--out", type=Path, default=ROOT / "reports" / "segmentation.md",
                    help="markdown report to write (default: %(default)s)")
    ap.add_argument("--synthetic-chars", type=int, default=1_000_000,
                    help="size of the synthetic throughput text (default: %(default)s)")
    args = ap.parse_args(argv)
    print(run(args.cases.resolve(), args.out, args.synthetic_chars))


if __name__ == "__main__":
    main()

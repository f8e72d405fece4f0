"""Corpus report on BBC articles with planted intruders, and its cost at scale.

    python -m benchmarks.corpus_report --corpus ../shared/data/bbc
    python -m benchmarks.corpus_report --scale 100000      # also time the report on 100,000 records

Takes --n articles of the corpus's test half (fixed seed) and plants intruders in them with
benchmarks/intrusions.py: a third are left clean, a third get 1-3 sentences of an article of
another category (cross), a third 1-3 of the same category (same). A share of all of them
(--scraped) also get what a scraper leaves: the headline again and a boilerplate line. The
set is scored with `coherence.engines.local.score_file` (as `coherence batch` does) and reported with
`coherence.report.corpus_report`, map of flagged sentences included. Writes
reports/corpus.html, reports/corpus.png and reports/corpus_report.md (how many planted
sentences the report's flags found, per condition).

With --scale N, the input and scored records are repeated (new ids) into N records of
.jsonl.gz and `coherence report` runs on them in a fresh process, without and with --input:
seconds and peak RSS go into the .md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.batch import _MEASURE
from benchmarks.intrusions import DEFAULT_CORPUS, Case, build_cases, is_planted, load_corpus, split_half
from benchmarks.metrics import machine
from coherence.engines.local import score_file, summary_path
from coherence.report import corpus_report

ROOT = Path(__file__).resolve().parents[1]
CONDITIONS = ("clean", "cross", "same")
SCRAPED_LINES = ("Share this article", "Related stories", "Sign up for our newsletter", "Advertisement")


def planted_corpus(sources: list[Any], n: int, seed: int, scraped: float) -> list[Case]:
    """n test-half articles, a third per condition, with `scraped` of them given a repeated
    headline and a boilerplate line after the first paragraph."""
    rng = random.Random(seed)
    picked = rng.sample(sources, min(n, len(sources)))
    cases: list[Case] = []
    for k, condition in enumerate(CONDITIONS):
        group = picked[k::3]
        cases += build_cases(group, condition, seed=seed, n_planted=(1, 3))
    for case in cases:
        if rng.random() < scraped:
            headline, _, rest = case.text.partition("\n")
            extra = f"\n\n{headline}\n\n{rng.choice(SCRAPED_LINES)}\n"
            shift = len(extra)
            case.text = headline + extra + rest
            case.planted = [(a + shift, b + shift) for a, b in case.planted]
    return cases


def write_input(cases: list[Case], path: Path) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        for case in cases:
            handle.write(json.dumps({"id": f"{case.condition}/{case.id}", "condition": case.condition, "text": case.text}) + "\n")
    return path


def planted_found(cases: list[Case], output: Path) -> list[dict[str, Any]]:
    """Per condition: articles, pass rate, articles with an off_topic flag, planted sentences
    flagged off_topic."""
    records = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    rows = []
    for condition in CONDITIONS:
        pairs = [(c, r) for c, r in zip(cases, records) if c.condition == condition]
        planted = sum(len(c.planted) for c, _ in pairs)
        found = sum(
            sum(1 for a, b in c.planted if any(f["reason"] == "off_topic" and is_planted(f["start"], f["end"], [(a, b)]) for f in r["flags"]))
            for c, r in pairs
        )
        rows.append({
            "condition": condition,
            "articles": len(pairs),
            "pass_rate": round(sum(r["passed"] for _, r in pairs) / max(len(pairs), 1), 3),
            "off_topic_articles": round(sum(any(f["reason"] == "off_topic" for f in r["flags"]) for _, r in pairs) / max(len(pairs), 1), 3),
            "planted": planted,
            "found": found,
        })
    return rows


def scale_run(source: Path, output: Path, records: int, work: Path) -> list[dict[str, Any]]:
    """`coherence report` on `records` records made by repeating the input's and the output's
    (new ids), without and with --input, each in a fresh process: seconds, peak RSS."""
    inputs = [json.loads(line) for line in source.read_text(encoding="utf-8").splitlines()]
    outputs = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    big_in, big_out = work / f"scale-{records}-input.jsonl.gz", work / f"scale-{records}.jsonl.gz"
    with gzip.open(big_in, "wt", encoding="utf-8") as into, gzip.open(big_out, "wt", encoding="utf-8") as out:
        for k in range(records):
            into.write(json.dumps(dict(inputs[k % len(inputs)], id=f"{k}:{inputs[k % len(inputs)]['id']}")) + "\n")
            out.write(json.dumps(dict(outputs[k % len(outputs)], id=f"{k}:{outputs[k % len(outputs)]['id']}")) + "\n")
    runs = []
    for extra in ([], ["--input", str(big_in), "--id-field", "id"]):
        page = work / "scale.html"
        command = [sys.executable, "-m", "coherence.cli", "report", str(big_out), "-o", str(page), *extra]
        started = time.perf_counter()
        printed = subprocess.run([sys.executable, "-c", _MEASURE, *command], capture_output=True, text=True, check=True).stdout.split()
        seconds = time.perf_counter() - started
        if int(printed[-1]) != 0:
            raise SystemExit(f"coherence report failed with exit code {printed[-1]}")
        runs.append({"records": records, "input": bool(extra), "seconds": round(seconds, 1),
                     "peak_rss_mb": round(int(printed[-2]) / 1024, 1), "page_kb": round(page.stat().st_size / 1024, 1)})
    return runs


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--n", type=int, default=300, help="test-half articles (default 300)")
    parser.add_argument("--scraped", type=float, default=0.1, help="share given a repeated headline and a boilerplate line")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--scale", type=int, default=0, help="also time the report on this many (repeated) records")
    parser.add_argument("--out-dir", type=Path, default=ROOT / "reports")
    parser.add_argument("--keep", type=Path, help="keep the planted input and the scored output in this folder")
    args = parser.parse_args(argv)
    if not args.corpus.exists():
        parser.error(f"corpus not found: {args.corpus}")
    cases = planted_corpus(split_half(load_corpus(args.corpus), "test"), args.n, args.seed, args.scraped)
    with tempfile.TemporaryDirectory(prefix="coherence-corpus-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        source = write_input(cases, work / "bbc_planted.jsonl")
        output = work / "bbc_planted_scored.jsonl"
        for earlier in (output, summary_path(output)):  # a kept folder's last run
            earlier.unlink(missing_ok=True)
        started = time.perf_counter()
        score_file(source, output, id_field="id", keep_fields=["condition"], progress=False)
        scoring = time.perf_counter() - started
        started = time.perf_counter()
        args.out_dir.mkdir(parents=True, exist_ok=True)
        corpus_report(output, args.out_dir / "corpus.html", figures=[args.out_dir / "corpus.png"], inputs=[source], seed=args.seed)
        reporting = time.perf_counter() - started
        rows = planted_found(cases, output)
        scale = scale_run(source, output, args.scale, work) if args.scale else []
    report = {"date": dt.date.today().isoformat(), "machine": machine(), "n": len(cases), "seed": args.seed,
              "scraped": args.scraped, "scoring_seconds": round(scoring, 1), "report_seconds": round(reporting, 1),
              "rows": rows, "scale": scale}
    text = render(report)
    (args.out_dir / "corpus_report.md").write_text(text, encoding="utf-8")
    print(text)


def render(report: dict[str, Any]) -> str:
    rows = "\n".join(
        f"| {r['condition']} | {r['articles']} | {r['pass_rate']:.1%} | {r['off_topic_articles']:.1%} | {r['planted']} | "
        + (f"{r['found']} ({r['found'] / r['planted']:.0%})" if r["planted"] else "-") + " |"
        for r in report["rows"]
    )
    at_scale = "".join(
        f"\nAt scale: `coherence report` on {r['records']:,} records (the scored records repeated, .jsonl.gz"
        + (", with --input: the map embeds its sample and the input is read once" if r["input"] else ", no --input")
        + f") took {r['seconds']} s with a peak RSS of {r['peak_rss_mb']} MB (fresh process); the page is {r['page_kb']} KB.\n"
        for r in report["scale"]
    )
    return f"""# Corpus report on BBC articles with planted intruders

Generated by `benchmarks/corpus_report.py` on {report['date']}; machine: {report['machine']}.
{report['n']} BBC test-half articles (seed {report['seed']}): a third clean, a third with 1-3 sentences of an article of
another category planted (cross), a third with 1-3 of the same category (same); {report['scraped']:.0%} of all also got the
headline again and a boilerplate line. Scored in {report['scoring_seconds']} s (`coherence.engines.local.score_file`, default
settings); the page, map included, took {report['report_seconds']} s.

Page: [`corpus.html`](corpus.html) (open it in a browser); its overview figure: `corpus.png`.

| condition | articles | pass rate | articles with an off-topic flag | planted sentences | flagged off-topic |
|---|---:|---:|---:|---:|---:|
{rows}
{at_scale}"""


if __name__ == "__main__":
    main()

"""Batch throughput and memory: `coherence batch` on corpora sampled (with repeats) from a corpus.

    python -m benchmarks.batch --corpus ../shared/data/bbc

Runs the CLI as a fresh process per measurement, on JSONL inputs sampled with replacement
(fixed seed) from the corpus:
- throughput: articles/s with 1 and 2 worker processes on the same --speed-records articles
  (model loading included, as a user sees it);
- memory: peak RSS of one single-process run on --small and on --large records: streaming
  means the larger must stay within 1.2x of the smaller.
--speed and --backend pick the detector tier (as on the command line). With --baseline DIR (a
checkout of an earlier commit), every measurement is also run on that code, right after this
tree's, so a change is measured against what it replaced on the same machine in the same run.
Writes reports/batch.md and reports/batch.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.intrusions import DEFAULT_CORPUS, load_corpus
from benchmarks.metrics import machine

ROOT = Path(__file__).resolve().parents[1]
RSS_LIMIT = 1.2

# Runs a command and prints the peak RSS (KiB) of its largest process, then its exit code.
_MEASURE = (
    "import resource, subprocess, sys;"
    "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode;"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, code)"
)


def write_sample(sources: list[Any], n: int, seed: int, path: Path) -> Path:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as handle:
        for k in range(n):
            source = rng.choice(sources)
            handle.write(json.dumps({"id": f"{k}:{source.id}", "text": source.text}) + "\n")
    return path


def run_batch(source: Path, workers: int, work: Path, options: list[str], code: Path = ROOT) -> dict[str, Any]:
    """One `coherence batch` run in a fresh process on the package in `code`: seconds,
    articles/s, peak RSS."""
    out = work / f"out-{source.stem}-{workers}-{code.name}.jsonl"
    for stale in (out, out.with_name(out.name + ".summary.json")):
        stale.unlink(missing_ok=True)
    command = [sys.executable, "-m", "coherence.cli", "batch", str(source), "-o", str(out), "--id-field", "id", "--workers", str(workers), *options]
    env = {**os.environ, "PYTHONPATH": str(code)}
    started = time.perf_counter()
    printed = subprocess.run([sys.executable, "-c", _MEASURE, *command], capture_output=True, text=True, check=True, env=env).stdout.split()
    seconds = time.perf_counter() - started
    rss_kib, code = int(printed[-2]), int(printed[-1])
    if code != 0:
        raise SystemExit(f"coherence batch failed with exit code {code}")
    summary = json.loads(out.with_name(out.name + ".summary.json").read_text())
    records = summary["records"]
    return {
        "records": records,
        "workers": workers,
        "seconds": round(seconds, 1),
        "articles_per_second": round(records / seconds, 2),
        "peak_rss_mb": round(rss_kib / 1024, 1),
        "errors": summary["errors"],
        "pass_rate": summary["pass_rate"],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--speed-records", type=int, default=5000, help="articles for the 1- and 2-worker runs")
    parser.add_argument("--small", type=int, default=2000, help="records of the smaller memory run")
    parser.add_argument("--large", type=int, default=20000, help="records of the larger memory run")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--speed", choices=("default", "fast"), default="default", help="the detector tier")
    parser.add_argument("--backend", choices=("torch", "onnx"), default="onnx", help="the default tier's backend (default: %(default)s)")
    parser.add_argument("--baseline", type=Path, help="a checkout of an earlier commit, measured beside this tree")
    parser.add_argument("--workers", default="1,2", help="worker counts of the throughput runs (default 1,2)")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory runs (throughput only)")
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "batch.md")
    args = parser.parse_args(argv)
    if not args.corpus.exists():
        parser.error(f"corpus not found: {args.corpus}")
    if args.baseline is not None and not (args.baseline / "coherence" / "__init__.py").exists():
        parser.error(f"--baseline needs a checkout of coherence, got {args.baseline}")
    sources = load_corpus(args.corpus)
    options = ["--speed", args.speed, *(["--backend", args.backend] if args.speed == "default" else [])]
    trees = {"this tree": ROOT, **({"baseline": args.baseline.resolve()} if args.baseline else {})}
    rows = []
    with tempfile.TemporaryDirectory(prefix="coherence-batch-") as tmp:
        work = Path(tmp)
        speed = write_sample(sources, args.speed_records, args.seed, work / "speed.jsonl")
        for workers in [int(w) for w in args.workers.split(",") if w]:
            for name, code in trees.items():
                rows.append({"run": "throughput", "code": name, **run_batch(speed, workers, work, options, code)})
                print(rows[-1], flush=True)
        for n in () if args.no_memory else (args.small, args.large):
            sample = write_sample(sources, n, args.seed, work / f"memory-{n}.jsonl")
            for name, code in trees.items():
                rows.append({"run": "memory", "code": name, **run_batch(sample, 1, work, options, code)})
                print(rows[-1], flush=True)
    memory = [r for r in rows if r["run"] == "memory" and r["code"] == "this tree"]
    ratio = memory[1]["peak_rss_mb"] / memory[0]["peak_rss_mb"] if memory else float("nan")
    report = {
        "date": dt.date.today().isoformat(),
        "machine": machine(),
        "corpus": str(args.corpus),
        "seed": args.seed,
        "options": " ".join(options),
        "commits": {name: _commit(code) for name, code in trees.items()},
        "rows": rows,
        "rss_ratio_large_to_small": round(ratio, 3) if memory else None,
        "rss_within_limit": ratio <= RSS_LIMIT if memory else None,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    args.out.write_text(render(report), encoding="utf-8")
    print(render(report))


def _commit(code: Path) -> str:
    done = subprocess.run(["git", "-C", str(code), "describe", "--always", "--dirty"], capture_output=True, text=True)
    return done.stdout.strip() or "unknown"


def render(report: dict[str, Any]) -> str:
    commits = ", ".join(f"{name} {commit}" for name, commit in report.get("commits", {}).items())
    lines = [
        "# Batch throughput and memory",
        "",
        f"Generated by `benchmarks/batch.py` on {report['date']}; machine: {report['machine']}.",
        f"Inputs: JSONL sampled with replacement (seed {report['seed']}) from `{Path(report['corpus']).name}`;",
        f"each run is `coherence batch IN.jsonl -o OUT.jsonl {report.get('options', '')}` in a fresh process, model loading included.",
        f"Code: {commits}." if commits else "",
        "",
        "| run | code | records | workers | seconds | articles/s | peak RSS (MB) | errors | pass rate |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in report["rows"]:
        lines.append(
            f"| {r['run']} | {r.get('code', 'this tree')} | {r['records']:,} | {r['workers']} | {r['seconds']} | {r['articles_per_second']} "
            f"| {r['peak_rss_mb']} | {r['errors']} | {r['pass_rate']} |"
        )
    if report["rss_ratio_large_to_small"] is not None:
        verdict = "within" if report["rss_within_limit"] else "NOT within"
        lines += [
            "",
            f"Peak RSS of the larger memory run is {report['rss_ratio_large_to_small']:.3f}x the smaller: {verdict} the 1.2x limit.",
            "Peak RSS is the largest single process (the memory runs use one process).",
        ]
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    main()

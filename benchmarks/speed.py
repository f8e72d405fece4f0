"""Speed: end-to-end sentences/s and articles/s of the detector, side by side with plain
sentence-transformers encoding and the naive centroid pipeline, in one run.

    python -m benchmarks.speed --corpus ../shared/data/bbc --n 2000

Every method runs in a fresh process of its own (so one's threads or imports never slow
another), on the same articles; its model is loaded before the clock starts (load time is
reported apart) and its peak RSS is read from the process itself:
- `sentence-transformers fp32`: plain `SentenceTransformer(model).encode(sentences)` (its
  defaults) of exactly the content sentences the detector embeds, and nothing else: the
  reference;
- `int8 ONNX encoder`: `coherence.encoders.onnx_encoder.OnnxEncoder.encode` of the same sentences;
- `naive centroid`: segmentation + fp32 encoding + cosine to the leave-one-out centroid;
- `coherence, backend=torch` and `coherence, backend=onnx`: `Detector.score_many`, the whole
  pipeline (segmentation, rules, embedding, evidence, context model, verdicts);
- `coherence, speed=fast`: the fast tier's `Detector.score_many` (one process, so one core),
  and the same through `coherence.engines.local.score_file` with 2 worker processes (JSONL in and
  out, worker start-up included): how a crawl would be triaged on both cores.
Then the wall time from process start to the printed result of `coherence score ARTICLE`
(median of --repeats runs, cached models already built). Writes reports/speed.md and
reports/speed.json.
"""

from __future__ import annotations

import argparse
import os
import datetime as dt
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.intrusions import DEFAULT_CORPUS, load_corpus
from benchmarks.metrics import machine

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # every model is loaded from disk
METHODS = ("st_fp32", "onnx_encode", "naive", "torch", "onnx", "no_reader", "reader", "fast", "fast_batch")
LABELS = {
    "st_fp32": "sentence-transformers fp32 (encode only)",
    "onnx_encode": "coherence int8 ONNX encoder (encode only)",
    "naive": "naive centroid (segment + fp32 encode + cosine)",
    "torch": "coherence, backend=torch (end to end)",
    "onnx": "coherence, backend=onnx (end to end; default: the reader reads what is in doubt)",
    "no_reader": "coherence, reader='never' (end to end: int8 encoder, no reader model)",
    "reader": "coherence, reader='always' (end to end: int8 encoder + reader model on every article)",
    "fast": "coherence, speed=fast (end to end, 1 process)",
    "fast_batch": "coherence, speed=fast, `score_file` with 2 workers (JSONL to JSONL)",
}
FAST_WORKERS = 2
TARGET_FAST_SPEEDUP = 20.0
TARGET_SPEEDUP = 2.5
TARGET_START_SECONDS = 1.0  # issue 20: the default starts to result within 1 s once built (issue 6 asked 1.5 s)
TARGET_AUROC_GAP = 0.005
CACHE_ENTRIES = 10_000  # Detector's default embedding_cache


def run_method(method: str, articles: Path, sentences: Path) -> dict[str, Any]:
    """Time one method in this process (called in a child process by `main`)."""
    import resource

    import numpy as np

    texts = json.loads(articles.read_text())
    started = time.perf_counter()
    if method == "st_fp32":
        from sentence_transformers import SentenceTransformer

        from coherence.encoders.base import default_model_path

        plain = SentenceTransformer(str(default_model_path()), device="cpu")
        plain.encode(["warm up"])
    elif method == "onnx_encode":
        from coherence.encoders.onnx_encoder import OnnxEncoder

        encoder = OnnxEncoder()
        encoder.encode(["warm up"])
    elif method == "naive":
        from coherence.encoders.torch_encoder import SentenceEncoder

        encoder = SentenceEncoder()
        encoder.encode(["warm up"])
    elif method == "fast_batch":
        from coherence import Detector

        Detector(speed="fast").prepare()  # the table is built; workers load it after the clock starts
    else:
        from coherence import Detector

        options = {"fast": {"speed": "fast"}, "reader": {"reader": "always"}, "no_reader": {"reader": "never"}}.get(method, {"backend": method})
        detector = Detector(**options)
        detector.score("Warm up. The model loads here. Then the clock starts. It ends after the last article.")
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    if method in ("st_fp32", "onnx_encode"):
        batch = json.loads(sentences.read_text())
        started = time.perf_counter()
        (plain if method == "st_fp32" else encoder).encode(batch)
        count = len(batch)
    elif method == "naive":
        from coherence.text.segment import split_sentences

        count = 0
        for text in texts:
            parts = [s.text for s in split_sentences(text)]
            vectors = encoder.encode(parts)
            total = vectors.sum(axis=0)
            others = (total[None, :] - vectors) / max(len(parts) - 1, 1)
            others /= np.linalg.norm(others, axis=1, keepdims=True) + 1e-9
            _ = (vectors * others).sum(axis=1)
            count += len(parts)
    elif method == "fast_batch":
        from coherence.engines.local import score_file

        with tempfile.TemporaryDirectory() as work:
            source, target = Path(work) / "in.jsonl", Path(work) / "out.jsonl"
            source.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
            started = time.perf_counter()
            score_file([source], target, workers=FAST_WORKERS, progress=False, speed="fast")
            seconds = time.perf_counter() - started
            records = [json.loads(line) for line in target.read_text().splitlines()]
        if len(records) != len(texts) or any(r["error"] for r in records):
            raise RuntimeError("the batch run lost or failed records")
        count = sum(r["n_sentences"] for r in records)
    else:
        results = list(detector.score_many(texts))
        count = sum(len(r.sentences) for r in results)
    if method != "fast_batch":
        seconds = time.perf_counter() - started
    # the largest process: this one, or for the batch run its largest worker
    rss_mb = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)) / 1024
    return {"method": method, "seconds": seconds, "load_seconds": loaded, "sentences": count, "articles": len(texts), "peak_rss_mb": rss_mb}


# `coherence score` options of each way of running it
START_OPTIONS = {"onnx": ["--backend", "onnx"], "torch": ["--backend", "torch"], "fast": ["--speed", "fast"], "reader": ["--reader", "always"]}


def start_to_result(article: Path, options: list[str], repeats: int) -> list[float]:
    """Wall seconds from process start to `coherence score ARTICLE` having printed its table."""
    command = [sys.executable, "-m", "coherence.cli", "score", str(article), *options]
    subprocess.run(command, check=True, capture_output=True)  # builds or warms caches first
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return times


class _Counter:
    """A stand-in encoder for counting cache hits: hits do not depend on the vectors."""

    def encode(self, sentences: list[str]) -> Any:
        import numpy as np

        return np.zeros((len(sentences), 1), dtype=np.float32)


def cache_hit_rate(texts: list[str], entries: int, per_call: int = 64) -> dict[str, Any]:
    """Share of content sentences an embedding cache of `entries` sentences would serve, fed
    as `Detector.score_many` feeds it (the sentences of 64 articles per call)."""
    from coherence import Detector
    from coherence.encoders.caching import CachingEncoder

    detector, cache = Detector(), CachingEncoder(_Counter(), max_entries=entries)
    for start in range(0, len(texts), per_call):
        cache.encode([t for text in texts[start : start + per_call] for t in detector._prepare(text).content_texts])
    return {"articles": len(texts), "sentences": cache.hits_ + cache.misses_, "hits": cache.hits_, "hit_rate": cache.hit_rate}


def content_sentences(texts: list[str]) -> list[str]:
    """The sentences the detector embeds (no model needed to find them)."""
    from coherence import Detector

    detector = Detector()
    return [t for text in texts for t in detector._prepare(text).content_texts]


def render(run: dict[str, Any]) -> str:
    rows = {r["method"]: r for r in run["methods"]}
    reference = rows["st_fp32"]["sentences"] / rows["st_fp32"]["seconds"]
    lines = [
        "# Speed (issue 6)",
        "",
        f"Date {run['date']}; machine: {run['machine']}; CPU: {run['cpu']}.",
        f"Corpus `{run['corpus']}`: {run['articles']} articles (seed {run['seed']}), {run['content_sentences']:,} content sentences "
        "(the sentences the detector embeds). Each method ran in a fresh process, its model loaded before the clock started.",
        "",
        "| method | seconds | sentences/s | articles/s | vs sentence-transformers fp32 | model load (s) | peak RSS (MB) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for method in [m for m in METHODS if m in rows]:
        r = rows[method]
        rate = r["sentences_for_rate"] / r["seconds"]
        lines.append(
            f"| {LABELS[method]} | {r['seconds']:.1f} | {rate:.0f} | {r['articles'] / r['seconds']:.2f} | "
            f"{rate / reference:.2f}x | {r['load_seconds']:.1f} | {r['peak_rss_mb']:.0f} |"
        )
    lines += [
        "",
        "sentences/s counts the content sentences for every method (the same "
        f"{run['content_sentences']:,}), so the rates compare the same work; the naive pipeline embeds every segment "
        "of the article, boilerplate included.",
        "",
        "## Start to result: `coherence score ARTICLE`",
        "",
        f"`{run['start_article']}`, median of {run['repeats']} runs, cached models already built (goal: within "
        f"{TARGET_START_SECONDS} s).",
        "",
        "| options | median seconds | runs |",
        "|---|---:|---|",
    ]
    for name, times in run["start"].items():
        lines.append(f"| `{' '.join(START_OPTIONS[name])}` | {statistics.median(times):.2f} | {', '.join(f'{t:.2f}' for t in times)} |")
    lines += [
        "",
        "## Embedding cache",
        "",
        f"Share of content sentences served by the detector's embedding cache ({run['cache_entries']:,} sentences, least "
        f"recently used out first; the default `embedding_cache`), fed 64 articles at a time as `score_many` does, on "
        f"`{run['corpus']}`. No scraped corpus is at hand: the first row counts the repeats the corpus really has (republished "
        "stories, recurring lines); the second stands for a crawl that meets pages again (mirrors, syndication).",
        "",
        "| corpus | articles | content sentences | from the cache | hit rate |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, c in run["cache"].items():
        lines.append(f"| {name} | {c['articles']:,} | {c['sentences']:,} | {c['hits']:,} | {c['hit_rate']:.1%} |")
    reports = ROOT / "reports"
    lines += ["", "## Quality: int8 (the default) against fp32", ""] + quality_comparison(
        reports / "quality_torch" / "quality.json", reports / "quality.json", ("torch fp32", "onnx int8"), TARGET_AUROC_GAP
    )
    lines += ["", "## Quality: the fast tier against the default", ""] + quality_comparison(
        reports / "quality.json", reports / "quality_fast" / "quality.json", ("default", "speed=fast"), None
    )
    rate = {m: rows[m]["sentences_for_rate"] / rows[m]["seconds"] for m in rows}
    onnx = rate["onnx"]
    lines += [
        "",
        "## Targets",
        "",
        f"- default (backend=onnx) end to end vs sentence-transformers fp32 encoding: {onnx / reference:.2f}x (goal {TARGET_SPEEDUP}x): "
        f"**{'PASS' if onnx / reference >= TARGET_SPEEDUP else 'FAIL'}**",
        f"- `coherence score` start to result, default (onnx): {statistics.median(run['start']['onnx']):.2f} s "
        f"(goal {TARGET_START_SECONDS} s): **{'PASS' if statistics.median(run['start']['onnx']) <= TARGET_START_SECONDS else 'FAIL'}**",
    ]
    if run["start"].get("torch"):
        lines.append(f"- `coherence score` start to result, torch: {statistics.median(run['start']['torch']):.2f} s (for reference)")
    for fast in ("fast", "fast_batch"):
        for default in ("torch", "onnx"):
            if fast not in rate or default not in rate:  # a run of some methods only (--methods)
                continue
            ratio = rate[fast] / rate[default]
            lines.append(
                f"- {LABELS[fast]} vs {LABELS[default]}: {ratio:.1f}x (goal {TARGET_FAST_SPEEDUP:.0f}x): "
                f"**{'PASS' if ratio >= TARGET_FAST_SPEEDUP else 'FAIL'}**"
            )
    for other in ("no_reader", "reader"):
        if other in rate:
            lines.append(
                f"- {LABELS[other]}: {rate[other] / reference:.2f}x sentence-transformers fp32, "
                f"{rate[other] / onnx:.2f}x the default's rate (the price or saving of reading; for reference)"
            )
    lines.append("")
    return "\n".join(lines) + "\n"


def quality_comparison(reference: Path, other: Path, labels: tuple[str, str], goal: float | None) -> list[str]:
    """The quality benchmark's detector AUROC per set and condition, `reference` against
    `other` (two quality.json files), and the recall and clean share at the default point."""
    if not (reference.is_file() and other.is_file()):
        missing = reference if not reference.is_file() else other
        return [f"(comparison skipped: run `python -m benchmarks.quality` for both first; missing {missing})"]
    runs = [json.loads(path.read_text()) for path in (reference, other)]
    lines = [
        f"Detector sentence AUROC on the quality benchmark's test half (`{reference.relative_to(ROOT)}`: "
        f"{runs[0]['version']}; `{other.relative_to(ROOT)}`: {runs[1]['version']}"
        + (f"; goal: within {goal} in every condition)." if goal is not None else ")."),
        "",
        f"| set | condition | {labels[0]} | {labels[1]} | difference |" + (" within goal |" if goal is not None else ""),
        "|---|---|---:|---:|---:|" + ("---|" if goal is not None else ""),
    ]
    for name in ("natural", "truncated", "concatenated"):
        for condition in ("cross", "same"):
            a, b = (run["evaluated"][name]["methods"]["coherence"][condition]["auroc"] for run in runs)
            verdict = f" {'yes' if abs(b - a) <= goal else '**no**'} |" if goal is not None else ""
            lines.append(f"| {name} | {condition} | {a:.4f} | {b:.4f} | {b - a:+.4f} |{verdict}")
    shares = [run["evaluated"]["natural"]["methods"]["coherence"] for run in runs]
    lines += [
        "",
        "At the default operating point (articles as they are): clean articles flagged "
        f"{shares[0]['clean_flag_share']:.1%} ({labels[0]}) and {shares[1]['clean_flag_share']:.1%} ({labels[1]}); same-category "
        f"recall {shares[0]['same']['recall']:.1%} and {shares[1]['same']['recall']:.1%}; cross recall "
        f"{shares[0]['cross']['recall']:.1%} and {shares[1]['cross']['recall']:.1%}; top-k hit rate (same) "
        f"{shares[0]['same']['top_k']:.1%} and {shares[1]['same']['top_k']:.1%}.",
    ]
    return lines


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="folder of .txt articles or JSONL (default: %(default)s)")
    parser.add_argument("--n", type=int, default=2000, help="articles (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=3, help="seed of the article sample (default: %(default)s)")
    parser.add_argument("--repeats", type=int, default=5, help="runs of `coherence score` to time (default: %(default)s)")
    parser.add_argument("--article", type=Path, default=ROOT / "examples" / "flood_barrier.txt", help="article for the start-to-result time")
    parser.add_argument("--methods", default=",".join(METHODS), help="comma-separated subset of " + ", ".join(METHODS))
    parser.add_argument("--out-dir", type=Path, default=ROOT / "reports", help="where the report goes (default: reports/)")
    parser.add_argument("--report-only", action="store_true", help="render speed.md again from --out-dir's speed.json, no runs")
    parser.add_argument("--child", nargs=3, metavar=("METHOD", "ARTICLES", "SENTENCES"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(run_method(args.child[0], Path(args.child[1]), Path(args.child[2]))))
        return
    if args.report_only:
        report = render(json.loads((args.out_dir / "speed.json").read_text()))
        (args.out_dir / "speed.md").write_text(report)
        print(report)
        return
    sources = load_corpus(args.corpus)
    random.Random(args.seed).shuffle(sources)
    texts = [s.text for s in sources[: args.n]]
    sentences = content_sentences(texts)
    results = []
    with tempfile.TemporaryDirectory() as work:
        articles_file, sentences_file = Path(work) / "articles.json", Path(work) / "sentences.json"
        articles_file.write_text(json.dumps(texts))
        sentences_file.write_text(json.dumps(sentences))
        for method in args.methods.split(","):
            printed = subprocess.run(
                [sys.executable, "-m", "benchmarks.speed", "--child", method, str(articles_file), str(sentences_file)],
                check=True, capture_output=True, text=True,
            ).stdout
            row = json.loads(printed.strip().splitlines()[-1])
            row["sentences_for_rate"] = len(sentences)
            results.append(row)
            print(f"{LABELS[method]}: {row['seconds']:.1f} s, {len(sentences) / row['seconds']:.0f} sentences/s", flush=True)
    start = {name: start_to_result(args.article, options, args.repeats) for name, options in START_OPTIONS.items()}
    everything = [s.text for s in load_corpus(args.corpus)]
    resampled = random.Random(args.seed).choices(everything, k=5000)
    cache = {
        "corpus as it is": cache_hit_rate(everything, CACHE_ENTRIES),
        "5,000 pages drawn with repeats": cache_hit_rate(resampled, CACHE_ENTRIES),
    }
    run = {
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": machine(),
        "cpu": cpu_name(),
        "corpus": args.corpus.name,
        "articles": len(texts),
        "seed": args.seed,
        "content_sentences": len(sentences),
        "methods": results,
        "start_article": args.article.name,
        "repeats": args.repeats,
        "start": start,
        "cache_entries": CACHE_ENTRIES,
        "cache": cache,
    }
    args.out_dir.mkdir(parents=True, exist_ok=True)
    (args.out_dir / "speed.json").write_text(json.dumps(run, indent=1) + "\n")  # first: a report error loses no run
    report = render(run)
    (args.out_dir / "speed.md").write_text(report)
    print(report)


if __name__ == "__main__":
    main()

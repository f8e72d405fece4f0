"""The report page of a scored corpus: coherence distribution and gate, thresholds against
the share of articles they fail, flags per reason, the worst articles, and (given the input
texts) a map of a sample of flagged sentences among their articles."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args

import numpy as np

from coherence.engines.local import summary_path
from coherence.encoders.base import Backend
from coherence.io.records import MAX_CHARS
from coherence.report.corpus_plots import corpus_figure, plot_distribution, plot_fail_share, plot_flag_map, plot_reasons
from coherence.report.corpus_stats import CorpusStats, summarise_results
from coherence.report.flagmap import FlagMap, flag_map, input_texts, mapped_flags
from coherence.report.projection import Projection
from coherence.report.render import inline_svg, render_page, save_figure
from coherence.report.style import REASON_LABELS
from coherence.thresholds import coherence_threshold, rate_table

if TYPE_CHECKING:
    from coherence.encoders.base import Encoder

__all__ = ["RunSettings", "TARGET_RATES", "corpus_page", "corpus_report", "marked_text", "run_settings", "target_thresholds"]

TARGET_RATES = (0.01, 0.02, 0.05, 0.10, 0.20, 0.30)
THRESHOLD_GRID = tuple(round(0.5 + 0.05 * k, 2) for k in range(10))
DEFAULT_THRESHOLD = 0.8
ARTICLE_CHARS = 20_000  # the worst articles are shown up to this many characters


@dataclass(frozen=True)
class RunSettings:
    """What the corpus page takes from the batch run's summary file (defaults without one)."""

    threshold: float | None = None
    text_field: str = "text"
    id_field: str | None = None
    model: str | None = None
    backend: Backend | None = None
    html: bool = False  # the text field held HTML pages, scored as their extracted text
    max_chars: int = MAX_CHARS


def run_settings(results: str | Path) -> RunSettings:
    """The settings `coherence batch` recorded beside `results` (OUT.summary.json), if any."""
    path = summary_path(results)
    try:
        settings = json.loads(path.read_text(encoding="utf-8")).get("settings") or {}
    except (OSError, ValueError, AttributeError):
        return RunSettings()
    detector = settings.get("detector") or {}
    model = detector.get("model")
    threshold = detector.get("threshold")
    backend = detector.get("backend")
    return RunSettings(
        threshold=float(threshold) if isinstance(threshold, (int, float)) else None,
        text_field=settings.get("text_field") or "text",
        id_field=settings.get("id_field"),
        model=model if isinstance(model, str) and not model.startswith("<") else None,
        backend=backend if backend in get_args(Backend) else None,
        html=settings.get("html") is True,
        max_chars=max_chars if isinstance(max_chars := settings.get("max_chars"), int) and max_chars > 0 else MAX_CHARS,
    )


def target_thresholds(values: np.ndarray, rates: Sequence[float] = TARGET_RATES) -> list[tuple[float, float]]:
    """(rate, the highest threshold that fails at most that share of articles) per rate."""
    if len(values) == 0:
        return []
    return [(rate, coherence_threshold(({"coherence": v, "error": None} for v in values), rate)) for rate in rates]


def marked_text(text: str, flags: list[dict[str, Any]], limit: int = ARTICLE_CHARS) -> list[dict[str, Any]]:
    """`text` (its first `limit` characters) cut into pieces, each flagged span a piece of its
    own with its reason: [{"text", "reason", "label", "explanation"}]."""
    pieces: list[dict[str, Any]] = []
    at = 0
    spans = sorted((f for f in flags if isinstance(f.get("start"), int) and isinstance(f.get("end"), int)), key=lambda f: f["start"])
    for span in spans:
        start, end = max(span["start"], at), min(span["end"], limit)
        if start >= end:
            continue
        if start > at:
            pieces.append({"text": text[at:start], "reason": None})
        pieces.append({"text": text[start:end], "reason": span["reason"], "label": REASON_LABELS.get(span["reason"], span["reason"]),
                       "explanation": span.get("explanation")})
        at = end
    if at < min(len(text), limit):
        pieces.append({"text": text[at:limit], "reason": None})
    return pieces


def corpus_page(
    stats: CorpusStats,
    *,
    title: str,
    threshold: float,
    threshold_source: str,
    flags: FlagMap | None = None,
    map_note: str | None = None,
    texts: dict[int, str] | None = None,
) -> str:
    """The HTML page of a summarised corpus (self-contained); `texts` (by position) shows
    the worst articles whole, flagged sentences marked."""
    from coherence import __version__

    values = stats.coherence
    targets = target_thresholds(values)
    grid = sorted(set(THRESHOLD_GRID) | {round(threshold, 4)})
    summary = stats.summary
    scored = max(summary.scored, 1)
    texts = texts or {}
    worst = [
        {
            **item,
            "flags": [{**span, "label": REASON_LABELS.get(span.get("reason"), span.get("reason"))} for span in item["flags"]],
            "pieces": marked_text(texts[item["position"]], item["flags"]) if item["position"] in texts else None,
            "cut": item["position"] in texts and len(texts[item["position"]]) > ARTICLE_CHARS,
        }
        for item in stats.worst
    ]
    return render_page(
        "corpus.html.j2",
        title=title,
        summary=summary,
        threshold=threshold,
        threshold_source=threshold_source,
        fail_share=stats.fail_share(threshold),
        sentences=stats.sentences,
        flagged_articles=stats.flagged_articles,
        threshold_rows=[{"threshold": t, "share": s, "count": int(round(s * len(values))), "gate": abs(t - threshold) < 1e-9}
                        for t, s in rate_table(values, grid)],
        target_rows=[{"rate": r, "threshold": t} for r, t in targets],
        reason_rows=[{"reason": r, "label": label, "sentences": summary.flags.get(r, 0), "articles": summary.articles_flagged.get(r, 0),
                      "share": summary.articles_flagged.get(r, 0) / scored} for r, label in REASON_LABELS.items()],
        worst=worst,
        distribution_svg=inline_svg(plot_distribution(values, threshold), "distribution", "Histogram of article coherence"),
        fail_svg=inline_svg(plot_fail_share(values, threshold, targets=targets), "fail", "Share of articles failing by threshold"),
        reasons_svg=inline_svg(plot_reasons(summary), "reasons", "Flags per reason"),
        map_svg=None if flags is None else inline_svg(
            plot_flag_map(flags.coords, flags.reasons, flags.labels(), flags.method), "flagmap", "Map of sampled flagged sentences"),
        map_counts=None if flags is None else {"articles": flags.reasons.count(None), "sentences": len(flags.reasons) - flags.reasons.count(None)},
        map_method=None if flags is None else flags.method,
        map_note=map_note,
        version=__version__,
    )


def corpus_report(
    results: str | Path,
    output: str | Path | None = None,
    *,
    figures: Sequence[str | Path] = (),
    inputs: Sequence[str | Path] = (),
    text_field: str | None = None,
    id_field: str | None = None,
    threshold: float | None = None,
    model: str | os.PathLike[str] | Encoder | None = None,
    backend: Backend | None = None,
    worst: int = 20,
    sample: int = 100,
    projection: Projection = "auto",
    seed: int = 0,
) -> CorpusStats:
    """Read `coherence batch` output in one streaming pass, write its report page to
    `output` and its overview figure to each of `figures` (.png or .svg); return what was read.

    Args:
        results: the batch output (.jsonl, .jsonl.gz or .parquet).
        inputs: the batch run's inputs, for the map of flagged sentences (optional).
        text_field, id_field, model: as in the batch run (default: read from the run's
            summary file beside `results`, else "text", positions, the default model);
            `model` may also be a loaded encoder (`Detector.encoder`).
        backend: how to run a model given by name for the map (default: the run's, else the detector's default, onnx).
        threshold: the gate to show (default: the run's, else 0.8).
        worst: how many of the lowest-coherence articles to list.
        sample: flagged sentences per reason drawn for the map (fixed seed).
    """
    settings = run_settings(results)
    stats = summarise_results(results, worst=worst, sample=sample, seed=seed)
    if threshold is not None:
        gate, source = threshold, "given"
    elif settings.threshold is not None:
        gate, source = settings.threshold, "the batch run's"
    else:
        gate, source = DEFAULT_THRESHOLD, "the default"
    if figures:
        figure = corpus_figure(stats.coherence, stats.summary, gate, target_thresholds(stats.coherence))
        for path in figures:
            save_figure(figure, path)
    if output is None:
        return stats
    flags, texts = None, {}
    note = "Give the batch run's input (--input) to draw a map of flagged sentences among their articles."
    if inputs:
        wanted = {item["position"]: item["id"] for item in [*mapped_flags(stats), *stats.worst]}
        texts = input_texts(
            wanted, inputs, text_field=text_field or settings.text_field, id_field=id_field or settings.id_field,
            html=settings.html, max_chars=settings.max_chars,
        )
        flags = flag_map(
            stats, texts, model=model or settings.model, backend=backend or settings.backend, projection=projection, seed=seed
        )
        note = "No sentence is flagged off-topic or as a repeat, so there is no map."
    page = corpus_page(
        stats, title=Path(results).name, threshold=gate, threshold_source=source, flags=flags, map_note=note, texts=texts
    )
    Path(output).write_text(page, encoding="utf-8")
    return stats

"""Metrics and report helpers shared by the benchmarks."""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
from argparse import ArgumentParser, Namespace
from pathlib import Path
from typing import Any, get_args

import numpy as np

from coherence.encoders.base import ReaderUse

ROOT = Path(__file__).resolve().parents[1]


def add_reader_option(parser: ArgumentParser) -> None:
    """`--reader`, as the command line has it: which articles the detector's reader model reads
    (auto, the default: those in doubt; `--reader` alone: always; never: the detector without it)."""
    parser.add_argument(
        "--reader", nargs="?", choices=get_args(ReaderUse), const="always", default="auto",
        help="which articles the reader model reads, Detector(reader=...): auto (default), always (--reader alone), never",
    )  # fmt: skip


def machine() -> str:
    """One line describing the machine a benchmark ran on."""
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, "
        f"{platform.python_implementation()} {platform.python_version()}"
    )


def detector_version() -> str:
    """Commit of the checkout and any uncommitted changes under coherence/."""
    def git(*args: str) -> str:
        """Output of a git command in the checkout."""
        return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=True).stdout.strip()

    try:
        commit, dirty = git("rev-parse", "--short", "HEAD"), git("status", "--porcelain", "--", "coherence")
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    changed = [line.split(maxsplit=1)[-1] for line in dirty.splitlines()]
    return f"commit {commit}" + (f", with uncommitted changes in {', '.join(changed)}" if changed else "")


def num(value: float | None, digits: int = 3) -> str:
    """A number for a report, n/a when missing or NaN."""
    return "n/a" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def pct(value: float | None) -> str:
    """A share as a percentage for a report, n/a when missing or NaN."""
    return "n/a" if value is None or math.isnan(value) else f"{value:.1%}"


def threshold_at_rate(worst: np.ndarray, rate: float) -> float:
    """The score above which at most `rate` of the clean articles would get a flag, given
    each clean article's highest sentence score (`worst`)."""
    return float(np.quantile(worst, 1.0 - rate)) if rate > 0 else np.inf


def baseline_at_rate(scores_clean: list[np.ndarray], scores_planted: list[np.ndarray], labels: list[np.ndarray], rate: float) -> tuple[float, float]:
    """Recall of a baseline whose threshold flags `rate` of clean articles (its max score)."""
    worst = np.array([s.max() for s in scores_clean])
    threshold = threshold_at_rate(worst, rate)
    clean_rate = float((worst > threshold).mean())
    hits = np.concatenate([s[y] for s, y in zip(scores_planted, labels)])
    return clean_rate, float((hits > threshold).mean())


def top_k_hit_rate(scores: np.ndarray, labels: np.ndarray) -> float:
    """Share of an article's k planted sentences among its k highest scores (k = number
    planted); sentences tied at the cut share the remaining places in proportion, which is
    the expected hit count under random tie-breaking."""
    labels = np.asarray(labels, dtype=bool)
    k = int(labels.sum())
    if k == 0:
        return float("nan")
    cut = np.sort(scores)[::-1][k - 1]
    above, tied = scores > cut, scores == cut
    hits = (labels & above).sum() + (k - above.sum()) * (labels & tied).sum() / tied.sum()
    return float(hits / k)


def json_ready(value: Any) -> Any:
    """NaN and numpy scalars to plain JSON."""
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if isinstance(value, (np.floating, float)):
        return None if math.isnan(value) or math.isinf(value) else float(value)
    if isinstance(value, (np.integer, np.bool_)):
        return value.item()
    return value


def write_raw(path: Path, args: Namespace, run: dict[str, Any]) -> None:
    """A benchmark's raw numbers as JSON: its options, the machine and the run."""
    config = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    path.write_text(json.dumps(json_ready({"config": config, "machine": machine(), **run}), indent=1) + "\n")


def write_markdown(path: Path, lines: list[str]) -> None:
    """Write a report's lines (its folder made when missing) and print them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))
    print("\n".join(lines))

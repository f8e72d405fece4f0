"""Figures of a scored corpus: coherence distribution, fail share by threshold, flags per
reason, and a map of a sample of flagged sentences among their articles."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from coherence.report.render import axes_for
from coherence.report.style import FAIL_COLOUR, PASS_COLOUR, REASON_COLOURS, REASON_LABELS, REASON_MARKERS
from coherence.io.summary import BatchSummary
from coherence.thresholds import rate_table

__all__ = ["coherence_range", "corpus_figure", "plot_distribution", "plot_fail_share", "plot_flag_map", "plot_reasons"]


def coherence_range(values: np.ndarray, threshold: float) -> tuple[float, float]:
    """The x range of the corpus figures: from a little below the lowest of (nearly all) the
    values and the threshold, in steps of 0.1, up to 1."""
    low = min(float(np.quantile(values, 0.002)) if len(values) else 0.0, threshold) - 0.05
    return max(0.0, np.floor(low * 10) / 10), 1.0


def plot_distribution(values: np.ndarray, threshold: float, ax: Any = None) -> Any:
    """Histogram of article coherence with the gate threshold; returns the figure."""
    ax = axes_for(ax, (6.4, 3.6))
    low, high = coherence_range(values, threshold)
    edges = np.linspace(low, high, int(round((high - low) / 0.01)) + 1)
    counts, _ = np.histogram(np.clip(values, low, high), bins=edges)
    centres = (edges[:-1] + edges[1:]) / 2
    fails = centres < threshold
    ax.bar(centres[~fails], counts[~fails], width=edges[1] - edges[0], color=PASS_COLOUR, edgecolor="#333333", linewidth=0.3)
    ax.bar(centres[fails], counts[fails], width=edges[1] - edges[0], color=FAIL_COLOUR, edgecolor="#333333", linewidth=0.3, hatch="///")
    failing = float((values < threshold).mean()) if len(values) else 0.0
    ax.axvline(threshold, color="black", linestyle="--", linewidth=1.2)
    ax.annotate(f"threshold {threshold:.2f}\n{failing:.1%} fail (orange, hatched)", (threshold, 1.0), xycoords=("data", "axes fraction"),
                xytext=(-6, -4), textcoords="offset points", ha="right", va="top", fontsize=9)
    ax.set_xlim(low, high)
    below = int((values < low).sum())
    ax.set_xlabel("article coherence" + (f" ({below:,} below {low:.1f} counted in the first bar)" if below else ""))
    ax.set_ylabel("articles")
    ax.set_title(f"Coherence of {len(values):,} scored articles", fontsize=11)
    ax.spines[["top", "right"]].set_visible(False)
    return ax.figure


def plot_fail_share(values: np.ndarray, threshold: float, ax: Any = None, targets: Sequence[tuple[float, float]] = ()) -> Any:
    """Share of articles that would fail, against the threshold; `targets` are (rate,
    threshold) pairs to mark. Returns the figure."""
    ax = axes_for(ax, (6.4, 3.6))
    low, high = coherence_range(values, threshold)
    grid = np.linspace(low, high, 401)
    shares = np.array([share for _, share in rate_table(values, grid)]) * 100
    ax.plot(grid, shares, color="#542788", linewidth=2)
    top = min(100.0, max(40.0, 1.3 * 100 * max((rate for rate, _ in targets), default=0.3)))
    label_y = 0.0
    for rate, cut in sorted(targets):
        ax.plot([cut], [rate * 100], marker="o", color="#b35806", markeredgecolor="black", zorder=3)
        label_y = max(rate * 100 + 0.06 * top, label_y + 0.075 * top)  # stacked, never below the axis or each other
        ax.annotate(f"fail {rate:.0%}: {cut:.3f}", (cut, rate * 100), xytext=(cut - 0.02 * (high - low), label_y),
                    ha="right", va="center", fontsize=8, zorder=4, arrowprops={"arrowstyle": "-", "color": "#777777", "lw": 0.6},
                    bbox={"boxstyle": "round,pad=0.1", "facecolor": "white", "edgecolor": "none"})
    ax.axvline(threshold, color="black", linestyle="--", linewidth=1.2)
    ax.set_xlim(low, high)
    ax.set_ylim(0, top)
    ax.set_xlabel("coherence threshold")
    ax.set_ylabel("articles that would fail (%)")
    ax.set_title("Pick a threshold by the share it fails", fontsize=11)
    ax.grid(True, color="#e0e0e0", linewidth=0.6)
    ax.spines[["top", "right"]].set_visible(False)
    return ax.figure


def plot_reasons(summary: BatchSummary, ax: Any = None) -> Any:
    """Share of scored articles with at least one flag of each reason; returns the figure."""
    ax = axes_for(ax, (6.4, 2.8))
    reasons = list(REASON_LABELS)
    scored = max(summary.scored, 1)
    shares = [100 * summary.articles_flagged.get(r, 0) / scored for r in reasons]
    y = np.arange(len(reasons))[::-1]
    ax.barh(y, shares, color=[REASON_COLOURS[r] for r in reasons], edgecolor="black", linewidth=0.5)
    for yy, share, reason in zip(y, shares, reasons):
        ax.annotate(f"{share:.1f}%  ({summary.flags.get(reason, 0):,} sentences)", (share, yy), xytext=(4, 0),
                    textcoords="offset points", va="center", fontsize=8.5)
    ax.set_yticks(y, [REASON_LABELS[r] for r in reasons])
    ax.set_xlim(0, max(max(shares) * 1.45, 5))
    ax.set_xlabel("articles with at least one such flag (%)")
    ax.set_title("Flags per reason", fontsize=11)
    ax.spines[["top", "right"]].set_visible(False)
    return ax.figure


def plot_flag_map(
    coords: np.ndarray,
    reasons: Sequence[str | None],
    labels: dict[int, str],
    method: str,
    ax: Any = None,
) -> Any:
    """Map of flagged sentences (marked by reason) among their articles (grey dots, for
    reasons None); `labels` maps point indices to the text written beside them."""
    from matplotlib.lines import Line2D

    ax = axes_for(ax, (10.0, 7.0))
    reasons_array = np.array([r or "" for r in reasons])
    articles = reasons_array == ""
    ax.scatter(coords[articles, 0], coords[articles, 1], s=14, color="#bdbdbd", edgecolor="none", zorder=1)
    handles: list[Any] = [Line2D([], [], linestyle="", marker="o", color="#bdbdbd", label="an article (its opening)")]
    for reason, label in REASON_LABELS.items():
        which = reasons_array == reason
        if which.any():
            ax.scatter(coords[which, 0], coords[which, 1], s=46, marker=REASON_MARKERS[reason], color=REASON_COLOURS[reason],
                       edgecolor="black", linewidth=0.5, zorder=3)
            handles.append(Line2D([], [], linestyle="", marker=REASON_MARKERS[reason], color=REASON_COLOURS[reason],
                                  markeredgecolor="black", markersize=8, label=f"flagged: {label} ({int(which.sum())})"))
    for index, text in labels.items():
        ax.annotate(text, coords[index], xytext=(5, 4), textcoords="offset points", fontsize=7.5, zorder=4,
                    bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.8})
    ax.set_xticks([])
    ax.set_yticks([])
    low, high = coords.min(axis=0), coords.max(axis=0)
    span = np.maximum(high - low, 1e-6)
    ax.set_xlim(low[0] - 0.05 * span[0], high[0] + 0.3 * span[0])  # room for the labels on the right
    ax.set_ylim(low[1] - 0.05 * span[1], high[1] + 0.05 * span[1])
    ax.set_title(f"Off-topic flags and repeats among their articles ({'UMAP' if method == 'umap' else 'PCA'})", fontsize=11)
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.01), ncol=len(handles), fontsize=9, frameon=False)
    return ax.figure


def corpus_figure(values: np.ndarray, summary: BatchSummary, threshold: float, targets: Sequence[tuple[float, float]] = ()) -> Any:
    """Distribution, fail share and flags per reason in one figure."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(16, 4.2), layout="constrained")
    left, middle, right = figure.subplots(1, 3)
    plot_distribution(values, threshold, left)
    plot_fail_share(values, threshold, middle, targets)
    plot_reasons(summary, right)
    return figure

"""Figures of one article: per-sentence scores against the flag cut, and the sentence map."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from coherence.report.projection import Projection, project
from coherence.report.render import axes_for
from coherence.report.style import REASON_COLOURS, REASON_LABELS, REASON_MARKERS, score_colour, score_colourmap
from coherence.text.language import is_english
from coherence.verdict import companion_cut_in_effect

if TYPE_CHECKING:
    from coherence.detector import ScoredArticle
    from coherence.results import ArticleResult

__all__ = ["article_figure", "plot_map", "plot_scores"]

_MIN_CONFIDENCE = 0.2  # the Detector's default
TOPIC_SHADE = "#dde6f0"
RULED = ("boilerplate", "duplicate", "fragment")  # flagged by rule; count as 0 in an article's coherence


def plot_scores(
    result: ArticleResult,
    ax: Any = None,
    *,
    off_topic_cut: float | None = None,
    min_confidence: float = _MIN_CONFIDENCE,
    companion_cut: float | None = None,
) -> Any:
    """Bar chart of every sentence's score, flagged ones marked by reason; returns the figure.

    Args:
        result: a scored article.
        ax: matplotlib axes to draw on; default: a new figure.
        off_topic_cut: draw the sentence score below which off_topic flags are given.
        min_confidence: sentences below it (not flagged) are hatched: too little topic
            information to be called off-topic.
        companion_cut: draw the score below which further sentences are flagged in an article
            that has an off_topic flag (drawn only when this one has one).
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    n = len(result.sentences)
    ax = axes_for(ax, (max(8.0, min(14.0, 3.0 + 0.28 * n)), 3.8))
    x = np.arange(1, n + 1)
    scores = np.array([s.score for s in result.sentences], dtype=float)
    topical = is_english(result.language)  # else no sentence is read for topic: none is "vague"
    vague = [topical and not s.flagged and s.confidence < min_confidence for s in result.sentences]
    ruled = [s.reason in RULED for s in result.sentences]
    colours = ["white" if r else score_colour(v) for r, v in zip(ruled, scores)]
    bars = ax.bar(x, scores, width=0.75, color=colours, edgecolor="#333333", linewidth=0.5)
    for bar, low, rule in zip(bars, vague, ruled):
        if low:
            bar.set_hatch("///")
        if rule:
            bar.set_linestyle("--")
    handles: list[Any] = []
    for reason, label in REASON_LABELS.items():
        rows = [k for k, s in enumerate(result.sentences) if s.reason == reason]
        if not rows:
            continue
        ax.scatter(
            x[rows], np.minimum(scores[rows], 1.0) + 0.07, marker=REASON_MARKERS[reason], s=70,
            color=REASON_COLOURS[reason], edgecolor="black", linewidth=0.6, zorder=3,
        )
        handles.append(Line2D([], [], linestyle="", marker=REASON_MARKERS[reason], markersize=8,
                              color=REASON_COLOURS[reason], markeredgecolor="black", label=f"flagged: {label}"))
    if off_topic_cut is not None:
        ax.axhline(off_topic_cut, color="black", linestyle="--", linewidth=1)
        handles.append(Line2D([], [], color="black", linestyle="--", label=f"off-topic cut {off_topic_cut:.2f}"))
    companion_cut = companion_cut_in_effect(off_topic_cut, companion_cut)
    if companion_cut is not None and any(s.reason == "off_topic" for s in result.sentences):
        ax.axhline(companion_cut, color="black", linestyle=":", linewidth=1)
        handles.append(Line2D([], [], color="black", linestyle=":", label=f"companion cut {companion_cut:.2f} (article has a flag)"))
    if any(vague):
        handles.append(Patch(facecolor="white", edgecolor="#333333", hatch="///", label="little topic information: never off-topic"))
    if any(r and v > 0 for r, v in zip(ruled, scores)):
        handles.append(Patch(facecolor="white", edgecolor="#333333", linestyle="--", label="boilerplate, repeat, fragment: 0 in coherence"))
    verdict = "PASS" if result.passed else "FAIL"
    coherence = "n/a" if result.coherence is None else f"{result.coherence:.3f}"
    ax.set_title(f"Sentence scores: coherence {coherence}, {verdict} at threshold {result.threshold:.2f}", fontsize=11)
    ax.set_xlabel("sentence")
    ax.set_ylabel("score (1 = fits the topic)")
    ax.set_ylim(0, 1.15)
    ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.set_xlim(0.3, n + 0.7)
    step = 1 if n <= 40 else 5
    ax.set_xticks([k for k in x if k == 1 or k % step == 0])
    ax.spines[["top", "right"]].set_visible(False)
    if handles:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=9, frameon=False)
    return ax.figure


def plot_map(
    scored: ScoredArticle,
    ax: Any = None,
    *,
    projection: Projection = "auto",
    seed: int = 0,
    colourbar: bool = True,
) -> Any:
    """2-D map of the article's content sentences (numbered as in the text), the dominant
    topic shaded, flagged sentences marked and labelled; returns the figure."""
    from matplotlib.lines import Line2D

    ax = axes_for(ax, (6.0, 5.6))
    sentences = scored.result.sentences
    ax.set_xticks([])
    ax.set_yticks([])
    if len(scored.content) == 0:
        ax.text(0.5, 0.5, "no content sentences to map", ha="center", va="center", transform=ax.transAxes)
        return ax.figure
    coords, method = project(scored.vectors, projection, seed)
    rows = [sentences[i] for i in scored.content]
    scores = np.array([s.score for s in rows])
    topic = np.asarray(scored.in_topic, dtype=bool)
    _shade_topic(ax, coords[topic])
    flagged = np.array([s.flagged for s in rows])
    cmap = score_colourmap()
    points = ax.scatter(
        coords[~flagged, 0], coords[~flagged, 1], c=scores[~flagged], cmap=cmap, vmin=0, vmax=1, s=70,
        edgecolor=np.where(topic[~flagged], "#555555", "black").tolist(), linewidth=np.where(topic[~flagged], 0.6, 1.6), zorder=3,
    )
    for reason in REASON_LABELS:
        which = np.array([s.reason == reason for s in rows])
        if which.any():
            ax.scatter(coords[which, 0], coords[which, 1], c=scores[which], cmap=cmap, vmin=0, vmax=1,
                       marker=REASON_MARKERS[reason], s=150, edgecolor="black", linewidth=1.0, zorder=4)
    for k, (i, s) in enumerate(zip(scored.content, rows)):
        label = f"{i + 1} {REASON_LABELS[s.reason]}" if s.reason else str(i + 1)
        ax.annotate(
            label, coords[k], xytext=(6, 5), textcoords="offset points", zorder=5,
            fontsize=11 if s.flagged else 9, fontweight="bold" if s.flagged else "normal",
            color=REASON_COLOURS[s.reason] if s.reason else "#444444",
        )
    _pad_limits(ax, coords)
    outside = int((~topic).sum())
    ax.set_title(
        f"Sentence map ({'UMAP' if method == 'umap' else 'PCA'}, {len(rows)} sentences; {outside} outside the main topic)",
        fontsize=11,
    )
    handles: list[Any] = [
        Line2D([], [], linestyle="", marker="o", markersize=16, color=TOPIC_SHADE, label="dominant topic (shaded)"),
        Line2D([], [], linestyle="", marker="o", markersize=7, markerfacecolor="white", markeredgecolor="#555555", label="sentence in the topic"),
        Line2D([], [], linestyle="", marker="o", markersize=7, markerfacecolor="white", markeredgecolor="black", markeredgewidth=1.8, label="outside the topic"),
    ]
    for reason, label in REASON_LABELS.items():
        if any(s.reason == reason for s in rows):
            handles.append(Line2D([], [], linestyle="", marker=REASON_MARKERS[reason], markersize=9, markerfacecolor="white",
                                  markeredgecolor="black", label=f"flagged: {label}"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.0, -0.02), ncol=2, fontsize=9, frameon=False)
    if colourbar:
        bar = ax.figure.colorbar(points, ax=ax, shrink=0.7, pad=0.02)
        bar.set_label("score (orange: does not fit, purple: fits)", fontsize=9)
    return ax.figure


def article_figure(
    scored: ScoredArticle,
    *,
    off_topic_cut: float | None = None,
    min_confidence: float = _MIN_CONFIDENCE,
    companion_cut: float | None = None,
    projection: Projection = "auto",
    seed: int = 0,
) -> Any:
    """The map and the score chart side by side, in one figure."""
    from matplotlib.figure import Figure

    n = len(scored.result.sentences)
    figure = Figure(figsize=(6.4 + max(6.0, min(12.0, 2.0 + 0.28 * n)), 5.6), layout="constrained")
    map_ax, score_ax = figure.subplots(1, 2, width_ratios=[1.0, max(1.0, min(1.9, 0.3 + 0.045 * n))])
    plot_map(scored, map_ax, projection=projection, seed=seed)
    plot_scores(scored.result, score_ax, off_topic_cut=off_topic_cut, min_confidence=min_confidence, companion_cut=companion_cut)
    return figure


def _shade_topic(ax: Any, points: np.ndarray) -> None:
    """A light halo behind each sentence of the dominant topic: together they shade its area
    without claiming the empty space between (a hull would, on a non-linear map)."""
    if len(points):
        ax.scatter(points[:, 0], points[:, 1], s=900, color=TOPIC_SHADE, edgecolor="none", zorder=1)


def _pad_limits(ax: Any, coords: np.ndarray) -> None:
    low, high = coords.min(axis=0), coords.max(axis=0)
    span = np.maximum(high - low, 1e-6)
    ax.set_xlim(low[0] - 0.12 * span[0], high[0] + 0.2 * span[0])
    ax.set_ylim(low[1] - 0.12 * span[1], high[1] + 0.12 * span[1])

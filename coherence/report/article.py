"""The report page of one article: its text shaded by score, the map and the score chart."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coherence.report.article_plots import article_figure, plot_map, plot_scores
from coherence.report.projection import Projection
from coherence.report.render import inline_svg, render_page, save_figure
from coherence.report.style import REASON_LABELS, score_colour
from coherence.results import language_note
from coherence.text.language import is_english
from coherence.verdict import companion_cut_in_effect

if TYPE_CHECKING:
    from coherence.detector import Detector, ScoredArticle
    from coherence.results import SentenceResult

__all__ = ["SentenceView", "article_page", "article_report", "background", "sentence_views"]

# Share of the score colour in a sentence's background (the rest is white): light for the
# sentences that fit, stronger for those that do not, so the eye goes to them.
_TINT_FIT, _TINT_MISFIT = 0.2, 0.6


@dataclass(frozen=True)
class SentenceView:
    """What the page shows of one sentence."""

    number: int  # 1-based, as in the figures and the `coherence score` table
    text: str
    score: float
    confidence: float
    background: str
    reason: str | None
    label: str | None
    explanation: str | None
    vague: bool  # too little topic information to be called off-topic
    fixed_by: str | None = None  # "rule" or "language": what flagged it, its score a constant rather than a model's


def tint(colour: str, share: float) -> str:
    """`colour` mixed with white: `share` of the colour."""
    channels = [int(colour[k : k + 2], 16) for k in (1, 3, 5)]
    return "#" + "".join(f"{round(share * c + (1 - share) * 255):02x}" for c in channels)


def background(score: float) -> str:
    """A sentence's background colour for its score."""
    return tint(score_colour(score), _TINT_FIT + (_TINT_MISFIT - _TINT_FIT) * (1.0 - score))


def sentence_views(sentences: list[SentenceResult], min_confidence: float, topical: bool = True) -> list[list[SentenceView]]:
    """The sentences grouped into paragraphs (pre-split input: one paragraph). `topical`:
    the topic model read the article (English); else no sentence is marked vague."""
    paragraphs: list[list[SentenceView]] = []
    last: int | None = -1
    for n, s in enumerate(sentences, 1):
        view = SentenceView(
            number=n,
            text=" ".join(s.text.split()),
            score=s.score,
            confidence=s.confidence,
            background=background(s.score),
            reason=s.reason,
            label=REASON_LABELS[s.reason] if s.reason else None,
            explanation=s.explanation,
            vague=topical and not s.flagged and s.confidence < min_confidence,
            fixed_by=s.evidence if s.flagged and s.evidence in ("rule", "language") else None,
        )
        if not paragraphs or s.paragraph != last:
            paragraphs.append([])
        paragraphs[-1].append(view)
        last = s.paragraph
    return paragraphs


def article_page(
    scored: ScoredArticle,
    *,
    title: str,
    off_topic_cut: float,
    min_confidence: float,
    companion_cut: float | None = None,
    projection: Projection = "auto",
    seed: int = 0,
) -> str:
    """The HTML page of a scored article (self-contained: styles, script and figures inline)."""
    from coherence import __version__

    result = scored.result
    paragraphs = sentence_views(result.sentences, min_confidence, topical=is_english(result.language))
    flagged = [view for paragraph in paragraphs for view in paragraph if view.reason]
    map_figure = plot_map(scored, projection=projection, seed=seed)
    score_figure = plot_scores(result, off_topic_cut=off_topic_cut, min_confidence=min_confidence, companion_cut=companion_cut)
    return render_page(
        "article.html.j2",
        title=title,
        result=result,
        counts={REASON_LABELS[k]: v for k, v in result.counts.items() if v},
        paragraphs=paragraphs,
        flagged=flagged,
        off_topic_cut=off_topic_cut,
        companion_cut=companion_cut_in_effect(off_topic_cut, companion_cut),
        min_confidence=min_confidence,
        language_note=language_note(result.language),
        mapped=len(scored.content),
        map_svg=inline_svg(map_figure, "map", "Map of the article's sentences"),
        score_svg=inline_svg(score_figure, "scores", "Bar chart of every sentence's score"),
        legend=_legend(),
        version=__version__,
    )


def article_report(
    text: str,
    output: str | Path | None = None,
    *,
    figures: Sequence[str | Path] = (),
    detector: Detector | None = None,
    title: str = "Article",
    projection: Projection = "auto",
    seed: int = 0,
) -> ScoredArticle:
    """Score `text`, write its report page to `output` and its figure (map and score chart)
    to each of `figures` (.png or .svg); return the scored article.

    Args:
        text: the article.
        output: the .html page to write (none: no page).
        figures: image files to write the figure to.
        detector: the Detector to score with (default: a new default one).
        title: the page's heading (the file name, say).
        projection: how the sentence map is drawn: UMAP, PCA, or "auto" (PCA for articles
            with too few sentences for UMAP).
        seed: fixes the map's layout.
    """
    from coherence.build import ready_detector

    detector = ready_detector(detector, prepare=False)
    scored = detector.score_with_vectors(text)
    options = dict(
        off_topic_cut=detector.off_topic_cut,
        min_confidence=detector.min_confidence,
        companion_cut=detector.companion_threshold,
        projection=projection,
        seed=seed,
    )
    if output is not None:
        Path(output).write_text(article_page(scored, title=title, **options), encoding="utf-8")  # type: ignore[arg-type]
    if figures:
        figure = article_figure(scored, **options)  # type: ignore[arg-type]
        for path in figures:
            save_figure(figure, path)
    return scored


def _legend() -> list[dict[str, Any]]:
    """The score scale in five steps, for the page's key."""
    return [{"score": v, "background": background(v)} for v in (0.0, 0.25, 0.5, 0.75, 1.0)]

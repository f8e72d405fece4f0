"""Visual reports for curators: one article's page and a scored corpus's page, and their figures.

    from coherence.report import article_report, corpus_report
    article_report(text, "article.html")                    # scores the text
    corpus_report("scored.jsonl", "corpus.html", inputs=["corpus.jsonl"])

Needs the `report` extra (matplotlib, umap-learn, jinja2); they are imported only when a
page or figure is made. Pages are self-contained HTML: styles, script and figures inline,
nothing loaded from the network.
"""

from coherence.report.article import article_page, article_report
from coherence.report.article_plots import article_figure, plot_map, plot_scores
from coherence.report.corpus import corpus_page, corpus_report, run_settings
from coherence.report.corpus_plots import corpus_figure
from coherence.report.corpus_stats import CorpusStats, read_results, summarise_results
from coherence.report.flagmap import flag_map
from coherence.report.projection import Projection, project
from coherence.report.render import save_figure

__all__ = [
    "CorpusStats",
    "Projection",
    "article_figure",
    "article_page",
    "article_report",
    "corpus_figure",
    "corpus_page",
    "corpus_report",
    "flag_map",
    "plot_map",
    "plot_scores",
    "project",
    "read_results",
    "run_settings",
    "save_figure",
    "summarise_results",
]

"""Fit how the reader model's verdict joins the other evidence, and its operating points.

    python -m training.fit_reader_stack --news-articles 1500

The reader (`coherence.models.reader`) and the detector's own models were trained on the news
train split and the BBC dev half; this fit uses articles none of them saw: the news corpus's
`dev` split (the whole BBC dev half went into the context model, so its scores there are in
sample and would overrate the detector's side). Each host is planted once under every condition
(another topic, the same topic, the nearest story, a pasted paragraph, 1-3 sentences) and kept
clean once. A logistic over the two log-odds (the detector's weighed probability, the reader's logit)
is fitted in five folds by article; the operating points come from the out-of-fold scores of
the clean articles, as the detector's own do. Writes the `reader` entry of weights.json and
reports/reader_stack.md (out-of-fold AUROC of each part and of the stack, per condition).
The stack reads the detector's probabilities as they are: after `training.fit_weights` rewrites
weights.json (without this entry), fit it again.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
from pathlib import Path

import numpy as np

from benchmarks.intrusions import build_cases
from benchmarks.news_corpus import NEWS_CORPUS, hosts_of, load_news, news_split
from benchmarks.metrics import write_markdown
from coherence import Detector
from coherence.models.intrusion import ReaderStack
from coherence.models.reader import log_odds
from coherence.thresholds import rate_cut
from training.context_training import ArticleRows, fold_of
from training.fit_weights import OPERATING_RATES, ROOT, article_rows, fit_logistic
from training.reader_data import nearest_of

CONDITIONS = ("cross", "same", "nearest", "paragraph", "clean")
FOLDS = 5


def planted_versions(hosts, donors, nearest, seed: int) -> list:
    return [c for condition in CONDITIONS for c in build_cases(hosts, condition, seed=seed, n_planted=(1, 3), nearest=nearest, donors=donors)]


def stack_inputs(detector: Detector, rows: list[ArticleRows]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per article: the detector's weighed probability and the reader's logit of each content sentence."""
    model = detector.intrusion_model
    weighed = [model.weighed_probability(a.features, a.vectors) for a in rows]
    logits = [detector.reader_for("article").logits(list(a.texts)) for a in rows]
    return weighed, logits


def auroc_by_condition(rows: list[ArticleRows], scores: list[np.ndarray]) -> dict[str, float]:
    """Sentence AUROC of planted sentences of each condition against the clean articles' sentences."""
    from sklearn.metrics import roc_auc_score

    clean = np.concatenate([s for a, s in zip(rows, scores) if a.condition == "clean"])
    out = {}
    for condition in CONDITIONS[:-1]:
        planted = np.concatenate([s[a.planted] for a, s in zip(rows, scores) if a.condition == condition] or [np.zeros(0)])
        if len(planted):
            y = np.r_[np.ones(len(planted)), np.zeros(len(clean))]
            out[condition] = round(float(roc_auc_score(y, np.r_[planted, clean])), 4)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--news-articles", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=701)
    parser.add_argument("--weights", type=Path, default=ROOT / "coherence" / "models" / "weights.json")
    parser.add_argument("--report-dir", type=Path, default=ROOT / "reports")
    args = parser.parse_args(argv)

    detector = Detector(reader=False)
    news = news_split(load_news(NEWS_CORPUS), "dev")
    pool = list(news)
    random.Random(f"{args.seed}-stack").shuffle(pool)
    hosts = hosts_of(pool, args.news_articles)
    print(f"{len(hosts)} news dev hosts", file=sys.stderr, flush=True)
    cases = planted_versions(hosts, news, nearest_of(hosts, pool), args.seed)
    rows = article_rows(detector, cases)
    print(f"{len(rows)} articles; reading them ...", file=sys.stderr, flush=True)
    weighed, logits = stack_inputs(detector, rows)

    model = detector.intrusion_model
    folds = np.array([fold_of(a.id, FOLDS) for a in rows])
    out_of_fold = [np.zeros(len(a.planted)) for a in rows]
    for k in range(FOLDS):
        train = [i for i in range(len(rows)) if folds[i] != k]
        X = np.column_stack([np.concatenate([log_odds(weighed[i]) for i in train]), np.concatenate([logits[i] for i in train])])
        y = np.concatenate([rows[i].planted for i in train]).astype(int)
        fit = fit_logistic(X, y, C=1.0)
        stack = ReaderStack(float(fit.coef_[0][0]), float(fit.coef_[0][1]), float(fit.intercept_[0]), ())
        for i in range(len(rows)):
            if folds[i] == k:
                out_of_fold[i] = stack.probability(weighed[i], logits[i])
    X = np.column_stack([np.concatenate([log_odds(w) for w in weighed]), np.concatenate(logits)])
    y = np.concatenate([a.planted for a in rows]).astype(int)
    fit = fit_logistic(X, y, C=1.0)

    clean = [i for i, a in enumerate(rows) if a.condition == "clean"]
    lowest = np.array([1.0 - np.where(rows[i].eligible, model.stronger(out_of_fold[i], rows[i].features), 0.0).max() for i in clean])
    points = [(rate, rate_cut(lowest, rate)) for rate in OPERATING_RATES]
    stack = ReaderStack(float(fit.coef_[0][0]), float(fit.coef_[0][1]), float(fit.intercept_[0]), tuple(points))

    measured = {
        "detector (weighed)": auroc_by_condition(rows, weighed),
        "reader alone": auroc_by_condition(rows, logits),
        "stack (out of fold)": auroc_by_condition(rows, out_of_fold),
    }
    weights = json.loads(args.weights.read_text())
    weights["reader"] = {
        **stack.to_dict(),
        "fitted_on": {
            "news_dev_hosts": len(hosts),
            "articles": len(rows),
            "clean_articles_for_operating_points": len(clean),
            "conditions": list(CONDITIONS),
            "seed": args.seed,
            "date": dt.date.today().isoformat(),
            "auroc": measured,
        },
    }
    args.weights.write_text(json.dumps(weights, indent=2) + "\n")
    lines = [
        "# Reader stack: the reader model's verdict joined to the detector's evidence",
        "",
        f"Fitted by `python -m training.fit_reader_stack --news-articles {args.news_articles}` on {len(rows)} articles "
        f"(versions of {len(hosts)} news dev hosts, each planted once per condition and kept clean once). Sentence AUROC, planted against the clean articles' sentences, out of fold "
        "for the stack:",
        "",
        "| scores | " + " | ".join(CONDITIONS[:-1]) + " |",
        "|---|" + "---|" * (len(CONDITIONS) - 1),
    ]
    for name, values in measured.items():
        lines.append(f"| {name} | " + " | ".join(f"{values.get(c, float('nan')):.4f}" for c in CONDITIONS[:-1]) + " |")
    lines += [
        "",
        f"Stack: {stack.weighed_coef:.3f} x logit(weighed) + {stack.reader_coef:.3f} x reader logit + {stack.intercept:.3f}.",
        "Operating points (share of clean articles flagged, score cut): "
        + ", ".join(f"{r:.2f}: {c:.3f}" for r, c in points if r in (0.02, 0.05, 0.1, 0.2)),
        "",
    ]
    write_markdown(args.report_dir / "reader_stack.md", lines)


if __name__ == "__main__":
    main()

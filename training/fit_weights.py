"""Refit the intrusion model's weights on synthetic intrusions from the dev half of a corpus.

    python -m training.fit_weights --corpus ../shared/data/bbc

Fits the logistic model on `--n` dev articles, then trains the article-context model
(`coherence.models.context`, needs torch) on every dev article planted under `--context-seeds`, as
an ensemble of fold models; the operating points come from out-of-fold probabilities of the
clean dev articles, so they are not flattered by articles the model has seen.
Writes coherence/models/weights.json, coherence/models/context_weights.npz and reports/weights.md.
With `--speed fast`, fits the fast tier's logistic model on its static vectors instead
(no context model): coherence/models/weights_fast.json and reports/weights_fast.md.
Only the dev half is used; benchmarks report on the test half.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

import numpy as np

from benchmarks.intrusions import DEFAULT_CORPUS, build_cases, is_planted, load_corpus, split_half, subsample
from coherence import Detector
from coherence.models.context import CONTEXT_WEIGHTS
from coherence.encoders.caching import CachingEncoder
from coherence.encoders.torch_encoder import SentenceEncoder
from coherence.evidence.sentences import FEATURES, topic_evidence
from coherence.models.intrusion import WEIGHTS_FILES, IntrusionModel
from coherence.thresholds import rate_cut
from coherence.verdict import off_topic_eligible
from training.context_training import ArticleRows, ContextSettings, train_context

ROOT = Path(__file__).resolve().parents[1]
# Shares of clean dev articles allowed a flag, for which an operating point is stored.
OPERATING_RATES = (0.0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.08, 0.1, 0.12, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)


def article_rows(detector: Detector, cases) -> list[ArticleRows]:
    """Vectors, evidence rows and planted labels of the content sentences of every case that
    is long enough to be judged."""
    out = []
    for case in cases:
        prepared = detector._prepare(case.text)
        content = prepared.content
        if len(content) < detector.min_sentences:
            continue
        texts = prepared.content_texts
        vectors = detector._encode(texts)
        evidence = topic_evidence(texts, vectors)
        planted = [is_planted(prepared.sentences[i].start, prepared.sentences[i].end, case.planted) for i in content]
        eligible = off_topic_eligible(evidence.confidence, detector.min_confidence, detector.min_sentences)
        out.append(ArticleRows(case.id, vectors, evidence.features, np.array(planted), eligible, case.condition))
    return out


def evidence_rows(detector: Detector, cases, groups: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Feature rows of the content sentences of every case, with planted labels (or, with
    `groups`, the index of the case each row belongs to)."""
    articles = article_rows(detector, cases)
    labels = [np.full(len(a.planted), n) if groups else a.planted for n, a in enumerate(articles)]
    return np.vstack([a.features for a in articles]), np.concatenate(labels).astype(int)


def clean_lowest_scores(model: IntrusionModel, articles: list[ArticleRows], weighed: list[np.ndarray]) -> np.ndarray:
    """Each clean article's lowest sentence score among the sentences that may be flagged."""
    return np.array([1.0 - np.where(a.eligible, model.stronger(p, a.features), 0.0).max() for a, p in zip(articles, weighed)])


def fit_logistic(X: np.ndarray, y: np.ndarray, C: float):
    """The L2 logistic fit, solved to its optimum by Newton's method. lbfgs on these unscaled
    features stopped far from it (coefficients up to 2.5 apart when the inputs moved by 1e-7,
    as multi-threaded embedding does between runs); Newton lands on the same point every time."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=C, solver="newton-cholesky", max_iter=1000, tol=1e-10).fit(X, y)


def parse_seeds(text: str) -> list[int]:
    """"101-112" or "1,2,3"."""
    if "-" in text:
        first, last = (int(x) for x in text.split("-"))
        return list(range(first, last + 1))
    return [int(x) for x in text.split(",")]


# Share of sentences kept in the shortened copies of the dev articles (--context-shortened-seeds).
SHORTENED_KEEP = 0.7


def fit_context(
    detector: Detector,
    model: IntrusionModel,
    corpus: Path,
    seeds: list[int],
    shortened_seeds: list[int],
    settings: ContextSettings = ContextSettings(),
) -> tuple[bytes, np.ndarray, dict]:
    """Train the article-context model on every dev article, planted once per seed (1-3
    sentences, cross and same) and clean, and on shortened copies of them (a random 70% of
    their sentences, new copies for each of `shortened_seeds`). Returns the model file, the
    clean dev articles' lowest out-of-fold scores and a description of the fit."""
    sources = split_half(load_corpus(corpus), "dev")
    articles: list[ArticleRows] = []
    versions = [(seed, sources) for seed in seeds]
    versions += [(seed, [subsample(s, SHORTENED_KEEP, seed) for s in sources]) for seed in shortened_seeds]
    for seed, hosts in versions:
        for condition, planted in (("cross", (1, 3)), ("same", (1, 3)), ("clean", (1, 1))):
            articles += article_rows(detector, build_cases(hosts, condition, seed=seed, n_planted=planted))
        print(f"context model: seed {seed}, {len(articles)} training articles", file=sys.stderr, flush=True)
    blob, logits = train_context(articles, FEATURES, detector.encoder.vector_space, settings)
    # every seed plants the same clean articles: count each once, as it first comes (unshortened)
    first: dict[str, int] = {}
    for i, a in enumerate(articles):
        if a.condition == "clean":
            first.setdefault(a.id, i)
    clean = list(first.values())
    weighed = [1.0 / (1.0 + np.exp(-logits[i])) for i in clean]
    lowest = clean_lowest_scores(model, [articles[i] for i in clean], weighed)
    info = {
        "articles": len(sources),
        "seeds": seeds,
        "shortened_seeds": shortened_seeds,
        "shortened_keep": SHORTENED_KEEP,
        "training_articles": len(articles),
        "sentences": int(sum(len(a.planted) for a in articles)),
        "planted": int(sum(a.planted.sum() for a in articles)),
        "clean_articles_for_operating_points": len(clean),
        "settings": settings.__dict__,
    }
    return blob, lowest, info


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="folder of .txt articles or JSONL")
    parser.add_argument("--n", type=int, default=800, help="dev articles for the logistic model")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--C", type=float, default=1.0, help="inverse L2 strength of the logistic fit")
    parser.add_argument(
        "--context-seeds", default="101-112", help="planting seeds of the context model's training sets (a-b or a,b,c)"
    )
    parser.add_argument(
        "--context-shortened-seeds", default="201-206", help="seeds of the shortened article copies it also trains on"
    )
    parser.add_argument("--no-context", action="store_true", help="logistic model only (no torch needed)")
    parser.add_argument(
        "--speed", choices=tuple(WEIGHTS_FILES), default="default", help="the tier to fit (fast: logistic model only)"
    )
    parser.add_argument("--out", type=Path, help="default: coherence/models/weights.json (weights_fast.json for --speed fast)")
    parser.add_argument("--report-only", action="store_true", help="rewrite reports/weights.md from --out, no fit")
    args = parser.parse_args(argv)
    args.out = args.out or ROOT / "coherence" / "models" / WEIGHTS_FILES[args.speed]
    if args.report_only:
        print(write_report(json.loads(args.out.read_text())))
        return

    import random

    sources = split_half(load_corpus(args.corpus), "dev")
    random.Random(args.seed).shuffle(sources)
    sources = sources[: args.n]
    # a fixed cut: the fit must not load the shipped weights it is about to replace
    if args.speed == "fast":
        detector = Detector(speed="fast", off_topic_threshold=0.5)
    else:
        detector = Detector(model=CachingEncoder(SentenceEncoder()), off_topic_threshold=0.5)
    parts = [
        evidence_rows(detector, build_cases(sources, c, seed=args.seed, n_planted=k))
        for c in ("cross", "same")
        for k in ((1, 1), (1, 3))
    ]
    clean = article_rows(detector, build_cases(sources, "clean", seed=args.seed))
    clean_rows = np.vstack([a.features for a in clean])
    X = np.vstack([p[0] for p in parts] + [clean_rows])
    y = np.concatenate([p[1] for p in parts] + [np.zeros(len(clean_rows), dtype=int)])
    fit = fit_logistic(X, y, args.C)
    # The anchoring detector's probability: the share of unanchored sentences that were planted,
    # for two new whole names and for three or more.
    unanchored = X[:, FEATURES.index("unanchored")] > 0
    many = X[:, FEATURES.index("novel_entities")] >= 3
    groups = {"2": unanchored & ~many, "3": unanchored & many}
    unanchored_probability = {key: float(y[rows].mean()) if rows.any() else 0.0 for key, rows in groups.items()}
    model = IntrusionModel(
        fit.coef_[0], float(fit.intercept_[0]), unanchored_probability=(unanchored_probability["2"], unanchored_probability["3"])
    )
    # Operating points: for each share of clean dev articles allowed an off_topic flag, the
    # highest sentence-score cut at which no more than that share carries one (ties included).
    row_lowest = clean_lowest_scores(model, clean, [model.row_probability(a.features) for a in clean])
    row_points = [(rate, rate_cut(row_lowest, rate)) for rate in OPERATING_RATES]
    context_info: dict = {}
    operating_points = row_points
    if args.speed == "fast":
        pass  # the fast tier has no context model: the default tier's stays as it is
    elif args.no_context:
        (ROOT / "coherence" / "models" / CONTEXT_WEIGHTS).unlink(missing_ok=True)
    else:
        blob, lowest, context_info = fit_context(
            detector, model, args.corpus, parse_seeds(args.context_seeds), parse_seeds(args.context_shortened_seeds)
        )
        (ROOT / "coherence" / "models" / CONTEXT_WEIGHTS).write_bytes(blob)
        operating_points = [(rate, rate_cut(lowest, rate)) for rate in OPERATING_RATES]
    weights = {
        "features": list(FEATURES),
        # full precision: the operating points are exact cuts of this very model's scores
        "coef": [float(c) for c in fit.coef_[0]],
        "intercept": float(fit.intercept_[0]),
        "unanchored_probability": unanchored_probability,
        "operating_points": operating_points,  # of the detector's scores (the context model's, if any)
        "row_operating_points": row_points,  # of the logistic model alone (other embedding models)
        "fitted_on": {
            "corpus": args.corpus.name,
            "speed": args.speed,
            "half": "dev",
            "articles": len(sources),
            "conditions": ["cross", "same", "clean"],
            "planted_per_article": [[1, 1], [1, 3]],
            "sentences": int(len(y)),
            "planted": int(y.sum()),
            "unanchored_sentences": {key: int(rows.sum()) for key, rows in groups.items()},
            "seed": args.seed,
            "C": args.C,
            "date": dt.date.today().isoformat(),
            "context_model": context_info or None,
        },
    }
    args.out.write_text(json.dumps(weights, indent=2) + "\n")
    print(write_report(weights))


def write_report(weights: dict) -> str:
    """reports/weights.md from a weights.json document (what was fitted, on what, and the weights)."""
    fit = weights["fitted_on"]
    points = dict(weights["operating_points"])
    table = "\n".join(f"| {f} | {c:+.3f} |" for f, c in zip(weights["features"], weights["coef"]))
    unanchored = fit["unanchored_sentences"]
    probability = weights["unanchored_probability"]
    fast = fit.get("speed") == "fast"
    heading = "# Intrusion model weights of the fast tier (`speed=\"fast\"`, static vectors)" if fast else "# Intrusion model weights"
    report = (
        heading + "\n\n"
        f"Fitted {fit['date']}. Logistic regression over {fit['sentences']} content sentences ({fit['planted']} "
        f"planted) of {fit['articles']} dev-half articles of `{fit['corpus']}`, conditions cross/same (1 and 1-3 "
        f"planted sentences) and clean, seed {fit['seed']}.\n"
    )
    context = fit.get("context_model")
    if context:
        s = context["settings"]
        report += (
            f"\nArticle-context model (`coherence/models/context_weights.npz`): {s['folds']} fold models, each a "
            f"{s['layers']}-layer, {s['heads']}-head pre-norm transformer of width {s['width']} over the article's "
            f"sentences (vector and evidence row per sentence; each head's attention biased by a learned multiple of "
            f"the cosine between two sentences), trained for {s['epochs']} epochs (dropout {s['dropout']}, "
            f"{s['vector_dropout']} on the vectors, weight decay {s['weight_decay']}) on {context['training_articles']} "
            f"versions of the {context['articles']} dev-half articles (planted with seeds {context['seeds'][0]}-"
            f"{context['seeds'][-1]}, cross and same with 1-3 sentences, and clean): {context['sentences']} sentences, "
            f"{context['planted']} planted. Its logits are averaged over the folds. The operating points below come "
            f"from the out-of-fold probabilities of the {context['clean_articles_for_operating_points']} clean dev "
            "articles (each scored by the fold model that never saw it).\n"
        )
    report += (
        "\nOperating points (share of clean dev articles with an off_topic flag: sentence score below which "
        "a sentence is flagged): "
        + ", ".join(f"{rate:.0%}: {points[rate]:.3f}" for rate in (0.01, 0.02, 0.05, 0.1, 0.2) if rate in points)
        + ".\n"
        f"Unanchored sentences in the logistic's training mix: {unanchored['2']} with two new names, of which "
        f"{probability['2']:.1%} were planted, and {unanchored['3']} with three or more, of which "
        f"{probability['3']:.1%} were: their intrusion probability is at least that.\n\n"
        "Logistic weights (they also order the evidence in explanations):\n\n"
        "| feature | weight |\n|---|---|\n" + table + f"\n| intercept | {weights['intercept']:+.3f} |\n"
    )
    (ROOT / "reports").mkdir(exist_ok=True)
    (ROOT / "reports" / ("weights_fast.md" if fast else "weights.md")).write_text(report)
    return report


if __name__ == "__main__":
    main()

"""Refit the intrusion model's weights on synthetic intrusions from the dev half of a corpus.

    python benchmarks/fit_weights.py --corpus ../shared/data/bbc --n 600

Writes coherence/weights.json (the weights and where they came from) and
reports/weights.md. Only the dev half is used; benchmarks report on the test half.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from intrusions import DEFAULT_CORPUS, build_cases, is_planted, load_corpus, split_half  # noqa: E402

from coherence import Detector  # noqa: E402
from coherence.embed import CachingEncoder, SentenceEncoder  # noqa: E402
from coherence.evidence import FEATURES, topic_evidence  # noqa: E402
from coherence.scoring import IntrusionModel  # noqa: E402
from coherence.thresholds import rate_cut  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
# Shares of clean dev articles allowed a flag, for which an operating point is stored.
OPERATING_RATES = (0.0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.08, 0.1, 0.12, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)


def evidence_rows(detector: Detector, cases, groups: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Feature rows of the content sentences of every case, with planted labels (or, with
    `groups`, the index of the case each row belongs to)."""
    rows, labels = [], []
    for n, case in enumerate(cases):
        prepared = detector._prepare(case.text)
        content = prepared.content
        if len(content) < detector.min_sentences:
            continue
        texts = prepared.content_texts
        evidence = topic_evidence(texts, detector._encode(texts))
        rows.append(evidence.features)
        for i in content:
            s = prepared.sentences[i]
            labels.append(n if groups else is_planted(s.start, s.end, case.planted))
    return np.vstack(rows), np.array(labels, dtype=int)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="folder of .txt articles or JSONL")
    parser.add_argument("--n", type=int, default=600, help="dev articles to use")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--C", type=float, default=1.0, help="inverse L2 strength of the logistic fit")
    parser.add_argument("--out", type=Path, default=ROOT / "coherence" / "weights.json")
    args = parser.parse_args(argv)

    from sklearn.linear_model import LogisticRegression

    import random

    sources = split_half(load_corpus(args.corpus), "dev")
    random.Random(args.seed).shuffle(sources)
    sources = sources[: args.n]
    detector = Detector(model=CachingEncoder(SentenceEncoder()))
    parts = [
        evidence_rows(detector, build_cases(sources, c, seed=args.seed, n_planted=k))
        for c in ("cross", "same")
        for k in ((1, 1), (1, 3))
    ]
    clean_rows, clean_groups = evidence_rows(detector, build_cases(sources, "clean", seed=args.seed), groups=True)
    X = np.vstack([p[0] for p in parts] + [clean_rows])
    y = np.concatenate([p[1] for p in parts] + [np.zeros(len(clean_rows), dtype=int)])
    fit = LogisticRegression(C=args.C, max_iter=10000).fit(X, y)
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
    clean_p = model.probability(clean_rows)
    # sentences below the detector's minimum confidence are never flagged
    clean_p[clean_rows[:, FEATURES.index("confidence")] < detector.min_confidence] = 0.0
    lowest = np.array([1.0 - clean_p[clean_groups == g].max() for g in np.unique(clean_groups)])
    operating_points = [(rate, rate_cut(lowest, rate)) for rate in OPERATING_RATES]
    weights = {
        "features": list(FEATURES),
        # full precision: the operating points are exact cuts of this very model's scores
        "coef": [float(c) for c in fit.coef_[0]],
        "intercept": float(fit.intercept_[0]),
        "unanchored_probability": unanchored_probability,
        "operating_points": operating_points,
        "fitted_on": {
            "corpus": args.corpus.name,
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
        },
    }
    args.out.write_text(json.dumps(weights, indent=2) + "\n")
    table = "\n".join(f"| {f} | {c:+.3f} |" for f, c in zip(FEATURES, weights["coef"]))
    report = (
        "# Intrusion model weights\n\n"
        f"Fitted {weights['fitted_on']['date']} on {platform.node() or 'this machine'}: logistic regression "
        f"over {len(y)} content sentences ({int(y.sum())} planted) of {len(sources)} dev-half articles of "
        f"`{args.corpus.name}`, conditions cross/same (1 and 1-3 planted sentences) and clean, seed {args.seed}.\n"
        "Operating points (share of clean dev articles with an off_topic flag: sentence score below which "
        "a sentence is flagged): "
        + ", ".join(f"{rate:.0%}: {cut:.3f}" for rate, cut in operating_points if rate in (0.01, 0.02, 0.05, 0.1, 0.2))
        + ".\n"
        f"Unanchored sentences in the training mix: {int(groups['2'].sum())} with two new names, of which "
        f"{unanchored_probability['2']:.1%} were planted, and {int(groups['3'].sum())} with three or more, of which "
        f"{unanchored_probability['3']:.1%} were: their intrusion probability is at least that.\n\n"
        "| feature | weight |\n|---|---|\n" + table + f"\n| intercept | {weights['intercept']:+.3f} |\n"
    )
    (ROOT / "reports").mkdir(exist_ok=True)
    (ROOT / "reports" / "weights.md").write_text(report)
    print(report)


if __name__ == "__main__":
    main()

"""Fit the fast tier's map from bags of token vectors to the model's sentence vectors.

    python -m training.fit_static --corpus ../shared/data/bbc

Builds (or finds) the token table distilled from the bundled model, embeds every content
sentence of the dev half with the model itself (fp32), and fits a ridge regression from each
sentence's weighted bag of token vectors to its sentence vector. The token weighting
(``a / (a + word frequency)``) and the ridge strength are chosen on a held-out fifth of the
dev articles, then the map is refitted on all of them. Writes coherence/encoders/static_map.npz and
reports/static_map.md, with the map's fidelity on the test half (reported, never fitted on).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

import numpy as np

from benchmarks.intrusions import DEFAULT_CORPUS, Source, load_corpus, split_half
from coherence import Detector
from coherence.encoders.base import DEFAULT_MODEL
from coherence.encoders.torch_encoder import SentenceEncoder
from coherence.encoders.static_encoder import STATIC_MAP, StaticEncoder, StaticMap, bag_of_tokens, token_weights

ROOT = Path(__file__).resolve().parents[1]
SMOOTHINGS = (1e-4, 1e-3, 1e-2)
RIDGES = (0.1, 1.0, 10.0)
HELD_OUT = 0.2


def article_sentences(sources: list[Source]) -> list[list[str]]:
    """The content sentences (what the detector embeds) of each article."""
    detector = Detector(model=SentenceEncoder(), off_topic_threshold=0.5)
    return [detector._prepare(s.text).content_texts for s in sources]


def ridge(X: np.ndarray, Y: np.ndarray, strength: float) -> tuple[np.ndarray, np.ndarray]:
    """Least squares with an L2 penalty on the matrix (not the bias): Y ~ X @ W + b."""
    mean_x, mean_y = X.mean(axis=0), Y.mean(axis=0)
    Xc = X - mean_x
    W = np.linalg.solve(Xc.T @ Xc + strength * np.eye(X.shape[1]), Xc.T @ (Y - mean_y))
    return W, mean_y - mean_x @ W


def unit(X: np.ndarray) -> np.ndarray:
    return X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)


def fidelity(static: np.ndarray, target: np.ndarray, articles: list[int]) -> dict[str, float]:
    """How close the static vectors are to the model's: mean cosine of each pair, and the
    Spearman correlation of the cosines between sentences of the same article (what the
    detector compares)."""
    static, target = unit(static), unit(target)
    a, b = [], []
    bounds = np.cumsum([0] + articles)
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        upper = np.triu_indices(hi - lo, 1)
        a.append((target[lo:hi] @ target[lo:hi].T)[upper])
        b.append((static[lo:hi] @ static[lo:hi].T)[upper])
    x, y = np.concatenate(a), np.concatenate(b)
    rank = lambda v: np.argsort(np.argsort(v)).astype(float)  # noqa: E731 - no ties among float cosines
    return {
        "cosine_to_model": float((static * target).sum(axis=1).mean()),
        "within_article_spearman": float(np.corrcoef(rank(x), rank(y))[0, 1]),
        "within_article_pearson": float(np.corrcoef(x, y)[0, 1]),
        "pairs": int(len(x)),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="folder of .txt articles or JSONL")
    parser.add_argument("--seed", type=int, default=7, help="which dev articles are held out to choose the settings")
    parser.add_argument("--out", type=Path, default=ROOT / "coherence" / "encoders" / STATIC_MAP)
    parser.add_argument("--report", type=Path, default=ROOT / "reports" / "static_map.md")
    args = parser.parse_args(argv)

    corpus = load_corpus(args.corpus)
    halves = {half: article_sentences(split_half(corpus, half)) for half in ("dev", "test")}
    model = SentenceEncoder()
    static = StaticEncoder()
    vectors, frequency = static.raw_table()
    data = {}
    for half, articles in halves.items():
        texts = [t for a in articles for t in a]
        print(f"{half}: embedding {len(texts)} sentences with {DEFAULT_MODEL} ...", file=sys.stderr, flush=True)
        data[half] = (static.token_ids(texts), model.encode(texts), [len(a) for a in articles])

    ids, target, lengths = data["dev"]
    order = np.random.default_rng(args.seed).permutation(len(lengths))
    held = np.zeros(len(lengths), dtype=bool)
    held[order[: int(len(lengths) * HELD_OUT)]] = True
    row_held = np.repeat(held, lengths)
    held_lengths = [n for n, h in zip(lengths, held) if h]
    trials = []
    for smoothing in SMOOTHINGS:
        bags = bag_of_tokens(ids, vectors, token_weights(frequency, smoothing)).astype(np.float64)
        for strength in RIDGES:
            W, b = ridge(bags[~row_held], target[~row_held], strength)
            score = fidelity(bags[row_held] @ W + b, target[row_held], held_lengths)
            trials.append({"smoothing": smoothing, "ridge": strength, **score})
            print(f"a={smoothing:g} ridge={strength:g}: {score}", file=sys.stderr, flush=True)
    best = max(trials, key=lambda t: t["within_article_spearman"])
    weights = token_weights(frequency, best["smoothing"])
    W, b = ridge(bag_of_tokens(ids, vectors, weights).astype(np.float64), target, best["ridge"])
    test_ids, test_target, test_lengths = data["test"]
    test = fidelity(bag_of_tokens(test_ids, vectors, weights) @ W + b, test_target, test_lengths)
    raw = fidelity(bag_of_tokens(test_ids, vectors, weights), test_target, test_lengths)
    meta = {
        "fitted_on": {"corpus": args.corpus.name, "half": "dev", "articles": len(lengths), "sentences": len(ids)},
        "ridge": best["ridge"],
        "date": dt.date.today().isoformat(),
    }
    fitted = StaticMap(W.astype(np.float32), b.astype(np.float32), best["smoothing"], DEFAULT_MODEL, meta)
    args.out.write_bytes(fitted.to_bytes())
    report = write_report(args, trials, best, test, raw, meta, data)
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(report)
    print(report)


def write_report(args, trials, best, test, raw, meta, data) -> str:
    lines = [
        "# The fast tier's static vectors (`speed=\"fast\"`)",
        "",
        f"Fitted {meta['date']} by `training/fit_static.py` on the dev half of `{args.corpus.name}` "
        f"({meta['fitted_on']['articles']} articles, {meta['fitted_on']['sentences']:,} content sentences); "
        f"test half: {len(data['test'][2])} articles, {len(data['test'][0]):,} sentences.",
        "",
        "A sentence's static vector is the weighted mean of its tokens' rows in a table distilled from the bundled "
        "model (each token run through the model alone), token weight `a / (a + word frequency)`, mapped into the "
        "model's sentence space by a ridge-fitted linear map. Fidelity to the model's own (fp32) sentence vectors:",
        "",
        "| vectors | mean cosine to the model's | Spearman of within-article cosines | Pearson |",
        "|---|---:|---:|---:|",
        f"| token table, weighted mean, no map (test half) | {raw['cosine_to_model']:.3f} | "
        f"{raw['within_article_spearman']:.3f} | {raw['within_article_pearson']:.3f} |",
        f"| with the fitted map (test half) | {test['cosine_to_model']:.3f} | "
        f"{test['within_article_spearman']:.3f} | {test['within_article_pearson']:.3f} |",
        "",
        f"Within-article pairs on the test half: {test['pairs']:,}. Settings chosen on a held-out fifth of the dev "
        f"articles: a = {best['smoothing']:g}, ridge = {best['ridge']:g}.",
        "",
        "| a | ridge | held-out cosine | held-out Spearman |",
        "|---:|---:|---:|---:|",
    ]
    for t in trials:
        lines.append(f"| {t['smoothing']:g} | {t['ridge']:g} | {t['cosine_to_model']:.3f} | {t['within_article_spearman']:.3f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()

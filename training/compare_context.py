"""Compare a refitted intrusion model with the shipped one before it replaces it.

    python -m training.compare_context ~/.cache/coherence-fit/teasers --n 300

The candidate is a folder holding what `training/fit_weights.py --out FOLDER/weights.json`
writes (weights.json and context_weights.npz). Both models score the same planted versions of
hosts from the news corpus's dev split (never fitted on: the fit reads the train split) under
every condition of `benchmarks.news_quality` (teaser blocks included), with the reader off, so
the article-context models are compared alone and each at its own operating points. Prints, per
model, the sentence AUROC of each condition and the recall and share of clean articles flagged
at each shipped flag rate; with --out, writes the same as markdown.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from benchmarks.intrusions import Source
from benchmarks.metrics import num, pct, write_markdown
from benchmarks.news_corpus import donor_pool, hosts_of, load_news, nearest_map, news_split
from benchmarks.news_quality import CONDITIONS
from benchmarks.quality import evaluate, operating_points, score_set
from coherence import Detector
from coherence.models.context import CONTEXT_WEIGHTS, ContextModel
from coherence.models.intrusion import IntrusionModel

SEED = 20  # of the host sample and the plantings, apart from the benchmark's test seeds


def candidate_model(folder: Path) -> IntrusionModel:
    """The intrusion model a fit wrote into `folder`."""
    data = json.loads((folder / "weights.json").read_text())
    return IntrusionModel.from_weights(data, ContextModel.from_bytes((folder / CONTEXT_WEIGHTS).read_bytes()))


def measure(detector: Detector, hosts: list[Source], pool: list[Source], nearest: dict[str, str]) -> list[str]:
    """Table lines for one detector on the news dev hosts (their donors and nearest stories given)."""
    timer = {"detector": 0.0, "baselines": 0.0}
    group = score_set(detector, hosts, SEED, 3, timer, conditions=CONDITIONS, nearest=nearest, donors=pool)
    own = evaluate(group, methods=("coherence",))["methods"]["coherence"]
    lines = ["| flag rate | clean articles flagged | " + " | ".join(f"{c} recall" for c in CONDITIONS) + " |"]
    lines.append("|---" * (2 + len(CONDITIONS)) + "|")
    for row in operating_points(group, detector):
        lines.append(f"| {row['flag_rate']:.2f} | {pct(row['clean'])} | " + " | ".join(pct(row[c + "_recall"]) for c in CONDITIONS) + " |")
    aurocs = ", ".join(f"{c} {num(own[c]['auroc'], 4)} (fit {num(own[c].get('fit_auroc', math.nan), 4)})" for c in CONDITIONS)
    return [f"Sentence AUROC: {aurocs}.", "", *lines]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("candidate", type=Path, help="folder with the candidate's weights.json and context_weights.npz")
    parser.add_argument("--n", type=int, default=300, help="news dev hosts (default: %(default)s)")
    parser.add_argument("--out", type=Path, help="write the comparison here as markdown")
    args = parser.parse_args(argv)
    report = [f"# Shipped intrusion model against {args.candidate}", "", f"{args.n} news dev hosts, reader off.", ""]
    shipped = Detector(reader="never")
    candidate = Detector(model=shipped.encoder, reader="never")  # the same encoder and its cache of vectors
    candidate.intrusion_model_ = candidate_model(args.candidate)
    pool = donor_pool(news_split(load_news(), "dev"), SEED)
    hosts = hosts_of(pool, args.n)
    nearest = nearest_map(shipped.encoder, hosts, pool)
    for name, detector in (("shipped", shipped), ("candidate", candidate)):
        section = [f"## {name}", "", *measure(detector, hosts, pool, nearest), ""]
        print("\n".join(section), flush=True)
        report += section
    if args.out is not None:
        write_markdown(args.out, report)


if __name__ == "__main__":
    main()

"""Fit how the reader model's verdict joins the other evidence, and its operating points.

    python -m training.fit_reader_stack --news-articles 600

The reader (`coherence.models.reader`) and the detector's own models were trained on the news
train split and the BBC dev half; this fit uses articles none of them saw: the news corpus's
`dev` split (the whole BBC dev half went into the context model, so its scores there are in
sample and would overrate the detector's side). Each host is planted once under every condition
(another topic, the same topic, the nearest story, a pasted paragraph, 1-3 sentences; a block of
teasers for other stories after it) and kept clean once. A logistic over the two log-odds (the
detector's weighed probability, the reader's logit) and the larger of them is fitted in five folds by article; the operating points come from the out-of-fold scores of
the clean articles, as the detector's own do. Writes the `reader` entry of weights.json and
reports/reader_stack.md (out-of-fold AUROC of each part and of the stack, per condition).
The stack reads the detector's probabilities as they are: after `training.fit_weights` rewrites
weights.json (without this entry), fit it again.

Read where in doubt (`Detector(reader="auto")`, the default): an article with a sentence that may
be flagged at `WHOLE_TRIGGER` or above by the detector's own evidence is read whole; in another,
the windows that hold such a sentence at the trigger or above are read; its operating points come
from the same out-of-fold scores, the stack's where a sentence is read (held by read windows
alone) and the detector's elsewhere. The trigger shipped is the highest of `TRIGGERS` whose recall, with
the default operating point (`DEFAULT_FLAG_RATE`), is within `RECALL_TOLERANCE` of reading every article in every
condition, and at or below the probability the default operating point flags at (so that every
article flagged there has been read: a flag never rests on the evidence the reader is there to
check), or, when none is, the lowest (it reads the most): reading costs a pass of its own, so read no
more than pays. With the fifth run's reader none is (same topic 30.7% at 0.3 against 31.9% always). The report compares the
triggers (share of clean articles read, recall) against never and always reading.
`--inputs FILE` keeps the detector's probabilities and the reader's logits (the slow part, about
25 minutes on 2 cores) outside the repository, so a refit of the stack alone takes seconds; with
the adapters' checksum, so that after the reader is retrained only its logits are computed again.

The stack's form was settled here on 2026-12-06, after the context model learnt teaser blocks
(the detector's side ranks their lines at 0.988, the reader, trained on lone planted lines, at
0.651). Recall at the default point, out of fold, read in doubt from trigger 0.3, cross / same /
nearest / paragraph / teasers: the two log-odds fitted on every condition 47.1 / 25.6 / 11.5 /
13.7 / 64.1% (the teaser blocks' many lines pulled the reader's weight from 0.60 to 0.38); fitted
on the single-donor conditions only 48.8 / 29.1 / 12.2 / 14.4 / 35.0%; with their product and
squares 48.8 / 29.3 / 12.5 / 15.1 / 70.4%, but the probability then falls as the reader's logit
rises on 3% of the sentences; with the larger of the two (rising with either side everywhere)
47.6 / 27.7 / 12.2 / 14.4 / 72.0%, but on the unseen outlets' test hosts (`reports/quality_news.md`)
same-topic AUROC fell 0.951 -> 0.946 and precision 90.1% -> 86.2% (teasers 6.0% -> 87.8% found):
the teaser blocks' many lines pulled the reader's weight down where it disagrees. With each
condition's planted lines weighing the same in all, 49.3 / 29.8 / 13.0 / 15.3 / 62.9%, but on
the unseen outlets same-topic precision stayed at 85.5% (90.1% before teaser blocks), most wrong
flags there companions of a flagged line: the weights had moved the intercept, so the stack's
probabilities ran high (mean 0.042 on the single-source dev articles against 0.034 of their
lines planted; of the lines at 0.5-0.6, 45.5% planted), and a companion needs 0.5. Shipped: the
same weights with the intercept set again on the single-source and clean articles alone
(`CALIBRATION_CONDITIONS`; mean 0.034, 54.7% planted at 0.5-0.6), 48.2 / 28.9 / 12.4 / 15.0 /
61.8%. Never reading: 36.0 / 15.7 / 7.3 / 9.4 / 74.8%.

The windows' overlap (`coherence.models.reader_layout`: each starts halfway through the last,
which doubles what reading costs) was tested here on 2026-12-06, the rank-16 adapters read
without it (each window starting where the last ended; 400 s for the whole fit instead of about
13 minutes): the reader alone ranked same-topic plants at 0.916 instead of 0.930 (another topic
0.940 instead of 0.956), and reading in doubt at trigger 0.3 found 27.4% / 47.1% of them (same /
another topic) instead of 30.2% / 51.0%. Reading fewer articles with the overlap does as well
for about the same cost on a corpus of mostly clean articles: at trigger 0.5 it reads 16.8% of
clean articles instead of 37.7% and finds 27.5% / 49.6%. The overlap stays; the trigger is the
speed knob.

Operating points by article length (2026-12-07, tried on these inputs and not shipped). At the
default point long articles are never flagged clean and their plants are found less often (dev,
read in doubt: clean flagged 7.5% / 3.7% / 2.2% / 0.0% of articles of up to 15 / 30 / 60 / more
content sentences; another topic found 51% / 60% / 46% / 37%; the unseen outlets' test hosts show
the same), so a cut that leans with length looked like free recall. A term b x log(n / 30) added
to each sentence's log-odds (n the article's content sentences; the cut re-set to flag as many
clean articles) moved recall, another topic / same / nearest / paragraph / teasers, from 49.0 /
29.4 / 12.7 / 15.2 / 62.7% (b = 0) to 50.4 / 30.2 / 13.1 / 15.7 / 65.1% at b = 0.5 and 50.0 /
29.2 / 12.7 / 15.4 / 65.7% at b = 1, and lost from b = 1.25 on: about one point, what moving
one of the 16 clean articles flagged here across the cut does. Plants in long articles are
harder to tell, not held to a stricter cut.

The companions' precision, on the same inputs (2026-12-07; `Detector(companion_threshold=0.5)`:
in an article with a flag, another sentence over 0.5 is flagged with it). Read in doubt at the
default point, recall and precision, another topic / same topic: gate flags alone 48.4% at 98.1%
/ 29.1% at 97.5%; with companions over 0.5, 56.5% at 93.6% / 35.0% at 90.6% (companions 73% and
67% right); over 0.6 (`companion_threshold=0.4`), 54.4% at 95.9% / 34.0% at 93.2%. The
companions between 0.5 and 0.6 are right 57% / 44% of the time, as a calibrated 0.5-0.6 should
be: "more likely stray than not" stays the rule, and a curator who wants fewer wrong flags raises
it. The unseen outlets' test hosts flag at 88.5% precision on the same topic, 90.6% here.

Windows in doubt (2026-12-07). Until then `reader="auto"` read every window of an article with a
sentence in doubt (trigger 0.3): 34.1% of the clean dev articles' windows, 68.2% of all. A
sentence's logit is the mean over the windows that hold it, so reading only the windows that hold
the sentences in doubt gives those sentences exactly the logit reading everything gives; a
sentence also held by a window left unread keeps the detector's probability. Windows alone, by
the rule above, from 0.15: 19.7% of the clean windows, recall at the default point (another
topic / same / nearest / paragraph) 50.5 / 31.4 / 14.0 / 16.5% against whole articles' 50.3 / 30.7 /
13.4 / 16.5%, but AUROC same topic 0.936 against 0.943 (another topic 0.975 / 0.977, nearest
0.865 / 0.875): below the cut a planted article's other planted lines went unread. Shipped that
way for an hour and measured on the test splits (not kept): unseen outlets' same-topic AUROC
0.9512 -> 0.9432 (recall 39.7% -> 39.4% at precision 87.1% -> 87.9%), BBC unchanged (same
category 61.0%, clean 5.7% -> 5.8%), and the speed benchmark's default 1.83x plain fp32 with
`reader="never"` at 2.50x in the same run (the reader's cost 1.36x the never rate, against
1.45-1.53x before). Filling the unread sentences' reader logit in (the clean median, or the
detector's own log-odds) moved AUROC by 0.001 or less. At equal cost windows trade ranking
for recall (windows from 0.15 and whole articles from 0.5: 31.4% of clean windows, same-topic
AUROC 0.941, recall 31.4%). Shipped: whole articles from 0.3 as before (`WHOLE_TRIGGER`, so the
ranking is never worse than it was) and windows from the trigger the rule above picks among
`TRIGGERS` (0.2): 38.8% of the clean windows, recall 50.5 / 31.2 / 13.9 / 16.6%, AUROC same topic
0.944. On the held BBC dev articles (`--bbc-held`, that fit pooled) every way of reading
flags 3.7% of the clean ones: the BBC clean articles flagged are those whose sentences are in
doubt, read either way. A cap on the
reader's logit (the BBC tail above), tried the same day with the stack fitted on news alone and
windows read from 0.15: at caps 3 / 2 / 1.5 / 1 the held BBC clean articles flagged went 3.7% ->
3.7 / 3.3 / 2.9 / 3.3% while news same-topic recall fell 31.4% -> 29.6 / 24.5 / 23.4 / 21.5%; not
shipped.

Article-relative reader columns (2026-12-07, tried on these inputs and not shipped): the reader's
logit less its article's median, or less the article's next-highest logit, added to the three
columns. Recall at the default point, read in doubt from trigger 0.3, another topic / same /
nearest / paragraph: 48.2 / 28.9 / 12.4 / 15.0% without them, 48.7 / 28.9 / 12.6 / 15.1% with the
median, 47.8 / 28.3 / 12.7 / 14.9% with the next-highest, 48.2 / 28.4 / 12.8 / 14.9% with both;
the stack's AUROC moved by 0.003 or less (down, with the next-highest). The stack is saturated
on its inputs: what is left to gain is in the reader itself (`training/reader_training.py`, the
fifth run).

BBC's clean articles (2026-12-07, `--bbc-held`: the 242 BBC dev hosts the reader never trained on,
planted and kept clean the same way). With the fifth run's reader the BBC test half's clean
articles flagged at the default point rose from 4.8% to 5.7% (`reports/quality.md`), while the
unseen outlets' stayed at 4.5%. The same shows on these dev articles: at the default point the
detector alone flags 1.2% of the held BBC clean articles (3 of 244) and the shipped stack 3.7% (9),
where on the news dev hosts both flag about 2.5%; the sentences flagged are real digressions (a
nerve-gas check at a film festival, a peace negotiator in a business story). A second outlet in
the fit does not help: out of fold on the news hosts, at the detector's clean share, the stack
fitted with the BBC articles finds 49.9% / 30.2% (another topic / same topic) against 50.3% /
30.7% without them; and matching the cut on both corpora pooled (2.1% of their clean articles)
leaves BBC at 3.7% and takes news down to 1.5%, recall lost on news for nothing on BBC. Not
shipped; holding BBC to the detector's 1.2% would take the stack's recall there down to the
detector's own (81.5% / 47.3%, the stack adding nothing). The stack stays fitted on news only.
Where it comes from is the reader's tail on BBC prose: of the clean articles' eligible sentences,
3.2% of BBC's (4,424) against 1.9% of news' (27,548) get a reader logit over 0, and 0.3% against
0.1% over 2, while planted same-topic sentences read about alike (mean logit 0.59 on BBC, 0.73 on
news). Training the reader on a quarter of the BBC share (the seventh run,
`training/reader_training.py`) left it at 3.3% of the held BBC clean articles.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import pickle
import random
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from benchmarks.intrusions import DEFAULT_CORPUS, build_cases, load_corpus
from benchmarks.news_corpus import NEWS_CORPUS, hosts_of, load_news, news_split
from benchmarks.metrics import write_markdown
from coherence import Detector
from coherence.models.intrusion import DEFAULT_FLAG_RATE, ReaderStack  # recall is compared there; every article flagged there must have been read
from coherence.models.reader import join_inputs
from coherence.models.reader_layout import fully_read, lay_out, reader_tokenizer, windows_wanted
from coherence.thresholds import rate_cut
from training.context_training import ArticleRows, fold_of
from training.fit_weights import OPERATING_RATES, ROOT, article_rows, fit_logistic
from training.reader_data import bbc_reader_part, nearest_of

CONDITIONS = ("cross", "same", "nearest", "paragraph", "teasers", "clean")
# Where the stack's probability is read as one (a companion of a flagged line at 0.5 or more is
# "more likely stray than not"): articles with one stray source, as the detector was calibrated on.
CALIBRATION_CONDITIONS = tuple(c for c in CONDITIONS if c != "teasers")
FOLDS = 5
TRIGGERS = (0.1, 0.15, 0.2, 0.3)  # the detector's own probability from which a sentence is read with its windows (reader="auto"), tried
WHOLE_TRIGGER = 0.3  # from which an article is read whole: the trigger shipped before windows were read (see above)
RECALL_TOLERANCE = 0.01  # the trigger shipped: the highest whose recall is within this of always reading, in every condition


def in_doubt_scores(
    rows: list[ArticleRows], model, weighed: list[np.ndarray], stacked: list[np.ndarray], trigger: float | None,
    plans: list[list[list[int]]], whole_trigger: float | None = None,
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Each article's intrusion probabilities when only what is in doubt is read (`trigger`
    None: every article, whole), which articles were read, and how many of each one's windows
    (`plans`, from `window_plans`), read as `Detector(reader="auto")` reads
    (`ReaderStack.wanted`): whole from `whole_trigger` (None: never whole), else the windows that
    hold a sentence in doubt; a sentence held by read windows alone gets the stack's
    probability, the others their own."""
    policy = ReaderStack(0.0, 0.0, 0.0, (), trigger=trigger, whole_trigger=whole_trigger)
    own = [model.stronger(w, a.features) for a, w in zip(rows, weighed)]
    scores, read, windows = [], np.zeros(len(rows), dtype=bool), np.zeros(len(rows), dtype=int)
    for i, (a, p, s, members) in enumerate(zip(rows, own, stacked, plans)):
        wanted = np.ones(len(p), dtype=bool) if trigger is None else policy.wanted(p, a.eligible)
        if wanted is None:
            scores.append(p)
            continue
        read[i] = True
        windows_read = windows_wanted(members, wanted)
        windows[i] = sum(windows_read)
        scores.append(model.stronger(np.where(fully_read(members, windows_read, len(p)), s, weighed[i]), a.features))
    return scores, read, windows


def window_plans(rows: list[ArticleRows]) -> list[list[list[int]]]:
    """Each article's reader windows (sentence indices), laid out by the reader's own `lay_out`."""
    tokenizer = reader_tokenizer()
    ids = (tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]"))
    return [
        [list(w.sentences) for w in lay_out([e.ids for e in tokenizer.encode_batch(list(a.texts), add_special_tokens=False)], *ids)]
        for a in rows
    ]


def clean_lowest(rows: list[ArticleRows], probabilities: list[np.ndarray]) -> np.ndarray:
    """Each clean article's lowest score among the sentences that may be flagged."""
    return np.array([1.0 - np.where(a.eligible, p, 0.0).max() for a, p in zip(rows, probabilities) if a.condition == "clean"])


def anchored_points(rows: list[ArticleRows], probabilities: list[np.ndarray], shares: dict[float, float]) -> list[tuple[float, float]]:
    """Operating points for `probabilities`: for each named rate, the cut that flags as many of
    these clean articles as the detector's own shipped point of that rate flags (`shares`)."""
    lowest = clean_lowest(rows, probabilities)
    return [(rate, rate_cut(lowest, shares[rate])) for rate in OPERATING_RATES]


def recall_at(rows: list[ArticleRows], probabilities: list[np.ndarray], cut: float) -> dict[str, float]:
    """Share of planted sentences flagged per condition below the score `cut`."""
    out = {}
    for condition in CONDITIONS[:-1]:
        pairs = [((1.0 - p < cut) & a.eligible & a.planted, a.planted) for a, p in zip(rows, probabilities) if a.condition == condition]
        if pairs:
            out[condition] = round(float(sum(f.sum() for f, _ in pairs) / max(sum(t.sum() for _, t in pairs), 1)), 4)
    return out


def planted_versions(hosts, donors, nearest, seed: int) -> list:
    return [c for condition in CONDITIONS for c in build_cases(hosts, condition, seed=seed, n_planted=(1, 3), nearest=nearest, donors=donors)]


def reader_logits(detector: Detector, rows: list[ArticleRows]) -> list[np.ndarray]:
    """Per article: the reader's logit of each content sentence (the slow part)."""
    reader = detector.reader_for("article")
    return [reader.logits(list(a.texts)) for a in rows]


def adapters_checksum(kind: str = "article") -> str:
    """The checksum of the shipped adapters of one reader: saved inputs hold their logits."""
    import hashlib
    from importlib import resources

    from coherence.models.reader import adapters_file

    return hashlib.sha256(resources.files("coherence.models").joinpath(adapters_file(kind)).read_bytes()).hexdigest()


def save_inputs(path: Path, rows: list[ArticleRows], weighed: list[np.ndarray], logits: list[np.ndarray] | None, adapters: str) -> None:
    with path.open("wb") as handle:
        pickle.dump((rows, weighed, logits, adapters), handle)


def corpus_inputs(detector: Detector, cases: Callable[[], list], path: Path | None, adapters: str) -> tuple[list[ArticleRows], list[np.ndarray], list[np.ndarray]]:
    """The articles' rows, the detector's weighed probabilities and the reader's logits, kept in
    `path` when given (read if it exists; after the reader is retrained only its logits are
    computed again)."""
    if path is not None and path.exists():
        with path.open("rb") as handle:
            saved = pickle.load(handle)
        rows, weighed, logits = saved[:3]
        if logits is None or len(saved) < 4 or saved[3] != adapters:  # the reader was retrained: the detector's side stands
            print(f"{len(rows)} articles; the reader's adapters changed, reading them again ...", file=sys.stderr, flush=True)
            logits = reader_logits(detector, rows)
            save_inputs(path, rows, weighed, logits, adapters)
        return rows, weighed, logits
    rows = article_rows(detector, cases())
    weighed = [detector.intrusion_model.weighed_probability(a.features, a.vectors) for a in rows]
    if path is not None:  # saved before the slow part, so a stopped run keeps the detector's side
        save_inputs(path, rows, weighed, None, "")
    print(f"{len(rows)} articles; reading them ...", file=sys.stderr, flush=True)
    logits = reader_logits(detector, rows)
    if path is not None:
        save_inputs(path, rows, weighed, logits, adapters)
    return rows, weighed, logits


def fit_stack(rows: list[ArticleRows], weighed: list[np.ndarray], logits: list[np.ndarray], by_condition: bool = True) -> ReaderStack:
    """The stack's logistic over these articles' sentences (operating points left empty). Each
    condition's planted lines weigh as much in all as another's: a block of teasers plants 6-12
    lines where the other conditions plant 1-5, and would otherwise set the weights alone
    (`by_condition=False`: every line weighs the same)."""
    X = np.vstack([join_inputs(w, r) for w, r in zip(weighed, logits)])
    y = np.concatenate([a.planted for a in rows]).astype(int)
    condition = np.concatenate([np.full(len(a.planted), a.condition) for a in rows])
    weight = np.ones(len(y))
    for c in np.unique(condition[y == 1]) if by_condition else ():
        planted = (condition == c) & (y == 1)
        weight[planted] = 1.0 / planted.sum()
    weight[y == 1] *= (y == 1).sum() / weight[y == 1].sum()
    fit = fit_logistic(X, y, C=1.0, sample_weight=weight)
    coef = fit.coef_[0]
    intercept = float(fit.intercept_[0])
    if by_condition:  # the weights move the intercept: set it again where a probability is read as one
        lone = np.isin(condition, CALIBRATION_CONDITIONS)
        intercept = calibrated_intercept(X[lone] @ coef, y[lone])
    return ReaderStack(float(coef[0]), float(coef[1]), intercept, (), larger_coef=float(coef[2]))


def calibrated_intercept(z: np.ndarray, y: np.ndarray) -> float:
    """The intercept at which the probabilities sigmoid(z + b) sum to the planted count: the
    maximum-likelihood intercept with the weights held."""
    from scipy.optimize import brentq

    return float(brentq(lambda b: float((1.0 / (1.0 + np.exp(-(z + b)))).sum() - y.sum()), -30.0, 30.0))


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
    parser.add_argument("--news-articles", type=int, default=600)
    parser.add_argument("--seed", type=int, default=701)
    parser.add_argument("--weights", type=Path, default=ROOT / "coherence" / "models" / "weights.json")
    parser.add_argument("--report-dir", type=Path, default=ROOT / "reports")
    parser.add_argument("--inputs", type=Path, default=None, help="pickle of the articles' probabilities and reader logits: read if it exists, else written (the BBC articles' beside it, named -bbc-held)")
    parser.add_argument("--bbc-held", action=argparse.BooleanOptionalAction, default=False, help="add the BBC dev articles kept out of the reader's training (training.reader_data.BBC_HELD), planted the same way, to the fit and the operating points, and report their clean articles flagged apart (tried, not shipped: see above)")
    args = parser.parse_args(argv)

    detector = Detector(reader="never")
    news = news_split(load_news(NEWS_CORPUS), "dev")
    pool = list(news)
    random.Random(f"{args.seed}-stack").shuffle(pool)
    hosts = hosts_of(pool, args.news_articles)
    print(f"{len(hosts)} news dev hosts", file=sys.stderr, flush=True)
    adapters = adapters_checksum()
    rows, weighed, logits = corpus_inputs(detector, lambda: planted_versions(hosts, news, nearest_of(hosts, pool), args.seed), args.inputs, adapters)
    bbc_hosts: list = []
    n_news = len(rows)
    if args.bbc_held:
        bbc_hosts = bbc_reader_part(load_corpus(DEFAULT_CORPUS), held=True)
        print(f"{len(bbc_hosts)} BBC dev hosts kept out of the reader's training", file=sys.stderr, flush=True)
        bbc_path = None if args.inputs is None else args.inputs.with_name(args.inputs.stem + "-bbc-held" + args.inputs.suffix)
        more = corpus_inputs(detector, lambda: planted_versions(bbc_hosts, bbc_hosts, nearest_of(bbc_hosts, bbc_hosts), args.seed), bbc_path, adapters)
        rows, weighed, logits = rows + more[0], weighed + more[1], logits + more[2]
    clean_corpus = np.array(["news" if i < n_news else "bbc" for i, a in enumerate(rows) if a.condition == "clean"])

    model = detector.intrusion_model
    folds = np.array([fold_of(a.id, FOLDS) for a in rows])
    out_of_fold = [np.zeros(len(a.planted)) for a in rows]
    for k in range(FOLDS):
        train = [i for i in range(len(rows)) if folds[i] != k]
        stack = fit_stack([rows[i] for i in train], [weighed[i] for i in train], [logits[i] for i in train])
        for i in range(len(rows)):
            if folds[i] == k:
                out_of_fold[i] = stack.probability(weighed[i], logits[i])
    fit = fit_stack(rows, weighed, logits)

    clean = [i for i, a in enumerate(rows) if a.condition == "clean"]
    never = [model.stronger(w, a.features) for a, w in zip(rows, weighed)]
    # A named rate means what the detector's own shipped point means (fitted on thousands of clean
    # articles of both corpora): on these articles, each reading flags as many as that point does.
    # Cuts set to the rate itself on these 600 flagged 13-15% of unseen outlets' articles at 0.10.
    shares = {rate: float((clean_lowest(rows, never) < model.score_cut(rate)).mean()) for rate in OPERATING_RATES}
    plans = window_plans(rows)
    always = in_doubt_scores(rows, model, weighed, out_of_fold, None, plans)
    points = anchored_points(rows, always[0], shares)
    in_doubt = {t: in_doubt_scores(rows, model, weighed, out_of_fold, t, plans, WHOLE_TRIGGER) for t in TRIGGERS}
    reading = {
        "never": (never, np.zeros(len(rows), dtype=bool), np.zeros(len(rows), dtype=int)),
        **{f"windows from {t}, whole from {WHOLE_TRIGGER}": v for t, v in in_doubt.items()},
        **{f"windows from {t} only": in_doubt_scores(rows, model, weighed, out_of_fold, t, plans) for t in (0.15, 0.3)},
        f"whole articles from {WHOLE_TRIGGER} only": in_doubt_scores(rows, model, weighed, out_of_fold, WHOLE_TRIGGER, plans, WHOLE_TRIGGER),
        "always": always,
    }
    every_window, clean_windows = sum(len(m) for m in plans), sum(len(plans[i]) for i in clean)
    compared = {}
    for name, (scores, read, windows) in reading.items():
        cut = float(np.interp(DEFAULT_FLAG_RATE, *zip(*anchored_points(rows, scores, shares))))
        flagged = clean_lowest(rows, scores) < cut
        compared[name] = {
            "clean_read": float(read[clean].mean()), "all_read": float(read.mean()), "default_cut": cut, "recall": recall_at(rows, scores, cut),
            "clean_windows": float(windows[clean].sum() / clean_windows), "all_windows": float(windows.sum() / every_window),
            "clean_flagged": {c: float(flagged[clean_corpus == c].mean()) for c in np.unique(clean_corpus)},
            "auroc": auroc_by_condition(rows, scores),
        }  # fmt: skip
    full = compared["always"]["recall"]
    eligible = [
        t for t in TRIGGERS
        if all(compared[f"windows from {t}, whole from {WHOLE_TRIGGER}"]["recall"][c] >= full[c] - RECALL_TOLERANCE for c in full)
        and t <= 1.0 - compared[f"windows from {t}, whole from {WHOLE_TRIGGER}"]["default_cut"]  # a flag at the default point rests on a reading
    ]  # fmt: skip
    trigger = max(eligible, default=min(TRIGGERS))  # none eligible: read the most that a trigger reads
    auto_points = anchored_points(rows, in_doubt[trigger][0], shares)
    stack = replace(fit, operating_points=tuple(points), trigger=trigger, whole_trigger=WHOLE_TRIGGER, auto_operating_points=tuple(auto_points))

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
            "bbc_held_hosts": len(bbc_hosts),
            "articles": len(rows),
            "clean_articles_for_operating_points": len(clean),
            "conditions": list(CONDITIONS),
            "seed": args.seed,
            "date": dt.date.today().isoformat(),
            "auroc": measured,
            "reading": compared,
        },
    }
    args.weights.write_text(json.dumps(weights, indent=2) + "\n")
    lines = [
        "# Reader stack: the reader model's verdict joined to the detector's evidence",
        "",
        f"Fitted by `python -m training.fit_reader_stack --news-articles {args.news_articles}` on {len(rows)} articles "
        f"(versions of {len(hosts)} news dev hosts"
        + (f" and of the {len(bbc_hosts)} BBC dev hosts kept out of the reader's training" if bbc_hosts else "")
        + ", each planted once per condition and kept clean once). Sentence AUROC, planted against the clean articles' sentences, out of fold "
        "for the stack:",
        "",
        "| scores | " + " | ".join(CONDITIONS[:-1]) + " |",
        "|---|" + "---|" * (len(CONDITIONS) - 1),
    ]
    for name, values in measured.items():
        lines.append(f"| {name} | " + " | ".join(f"{values.get(c, float('nan')):.4f}" for c in CONDITIONS[:-1]) + " |")
    lines += [
        "",
        f"Stack: {stack.weighed_coef:.3f} x logit(weighed) + {stack.reader_coef:.3f} x reader logit + {stack.larger_coef:.3f} x the larger of the two + {stack.intercept:.3f}.",
        "Operating points (flag_rate, score cut; each cut flags as many of these clean articles as the detector's own shipped "
        "point of that rate flags here, "
        + ", ".join(f"{shares[r]:.1%} at {r:.2f}" for r in (0.02, 0.05, 0.1, 0.2)) + "): "
        + ", ".join(f"{r:.2f}: {c:.3f}" for r, c in points if r in (0.02, 0.05, 0.1, 0.2)),
        "",
        f"What to read: never (the detector alone), always, or what is in doubt by the detector's own probability of a sentence "
        f"that may be flagged: the whole article when one is at the whole trigger or above, else the windows that hold one at the "
        f"trigger or above (what `reader=\"auto\"` reads, whole from {WHOLE_TRIGGER}), beside windows alone and whole articles alone "
        f"(`reader=\"auto\"` until 2026-12-07). The cost is the windows read (each one pass of the model), given as a share of all "
        f"windows and of the clean articles' windows (most of a corpus). Recall of planted sentences at each row's own default operating point "
        f"(flag_rate {DEFAULT_FLAG_RATE}: {shares[DEFAULT_FLAG_RATE]:.1%} of these clean articles flagged; out of fold for the stack); `reader=\"auto\"` "
        + (
            f"ships trigger {trigger} (the highest within {RECALL_TOLERANCE:.0%} of always reading in every condition whose default "
            f"operating point, flag_rate {DEFAULT_FLAG_RATE}, flags only above the trigger, so that every sentence flagged there was read), "
            if eligible else
            f"ships trigger {trigger}, the lowest tried (no trigger is within {RECALL_TOLERANCE:.0%} of always reading in every "
            f"condition with its default operating point, flag_rate {DEFAULT_FLAG_RATE}, above it: the one that reads the most), "
        )
        + "operating points "
        + ", ".join(f"{r:.2f}: {c:.3f}" for r, c in auto_points if r in (0.02, 0.05, 0.1, 0.2)) + ".",
        "",
        f"| read | clean articles read | all articles read | clean articles' windows read | all windows read | probability flagged at flag_rate {DEFAULT_FLAG_RATE} | "
        + "".join(f"clean {c} articles flagged | " for c in np.unique(clean_corpus)) + " | ".join(CONDITIONS[:-1]) + " | AUROC, " + " / ".join(CONDITIONS[:-1]) + " |",
        "|---|---:|---:|---:|---:|---:|" + "---:|" * (len(np.unique(clean_corpus)) + len(CONDITIONS)),
    ]
    for name, values in compared.items():
        flagged_at = f"{1.0 - values['default_cut']:.3f}"
        lines.append(
            f"| {name} | {values['clean_read']:.1%} | {values['all_read']:.1%} | {values['clean_windows']:.1%} | {values['all_windows']:.1%} | {flagged_at} | "
            + "".join(f"{share:.1%} | " for share in values["clean_flagged"].values())
            + " | ".join(f"{values['recall'].get(c, float('nan')):.1%}" for c in CONDITIONS[:-1])
            + " | " + " / ".join(f"{values['auroc'].get(c, float('nan')):.4f}" for c in CONDITIONS[:-1]) + " |"
        )
    lines.append("")
    write_markdown(args.report_dir / "reader_stack.md", lines)


if __name__ == "__main__":
    main()

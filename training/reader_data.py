"""Training articles for the reader model: planted intrusions of the news train split and the
BBC benchmark's dev half, as the detector would see them (its content sentences, tokenised).

Each host article is planted once per round under one condition drawn at random: clean, another
topic, the same topic, the nearest other story by title-and-lead vectors, or a pasted
paragraph of a same-topic story; the hard donors (same topic, nearest story, paragraph) are
drawn most often. A fifth of the BBC dev half (by a hash of the id) is kept out of training,
so that what combines the reader with the other evidence can be fitted on articles the reader
never saw; the news corpus keeps its own dev split for that.

    python -m training.reader_data --out ~/.cache/coherence-fit/reader/articles.pkl
"""

from __future__ import annotations

import argparse
import hashlib
import pickle
import random
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.intrusions import DEFAULT_CORPUS, Source, build_cases, is_planted, load_corpus, split_half
from benchmarks.news_corpus import NEWS_CORPUS, hosts_of, lead, load_news, nearest_stories, news_split
from coherence.models.reader_layout import reader_tokenizer

# Share of host articles planted under each condition in a round.
CONDITION_SHARES = {"clean": 0.15, "cross": 0.15, "same": 0.3, "nearest": 0.2, "paragraph": 0.2}
NEAREST_CHUNK = 2000  # hosts compared with the whole pool at once (bounds the similarity matrix)
BBC_HELD = 5  # one BBC dev article in BBC_HELD is kept out of the reader's training
BBC_ROUNDS = 4  # BBC plantings per news round by default: the BBC half is small
PAGE = "page:"  # condition of a scraped page (training/page_reader_data.py): "page:<extractor>"


@dataclass(frozen=True)
class Planted:
    """One article as the reader reads it: token ids of its content sentences, which were planted
    (1), or one scraped page: its lines, which are leftovers (1, -1 where the gold cannot say)."""

    id: str
    corpus: str
    condition: str
    tokens: list[list[int]]
    labels: np.ndarray  # (sentences,) 1 = planted
    text: str = ""  # the planted article as the detector reads it
    anchored: bool = True  # windows open with unit 0 (an article's first sentence); not a scraped page's


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if name == "Planted":  # written by `python -m training.reader_data`, whose module was __main__
            return Planted
        return super().find_class(module, name)


def load_articles(path: Path) -> list[Planted]:
    """Articles written by this module's `main`."""
    with open(path, "rb") as handle:
        return _Unpickler(handle).load()


def bbc_reader_part(sources: list[Source], held: bool) -> list[Source]:
    """The BBC dev half without (or, `held`, only) the articles kept out of the reader's training."""
    def is_held(source: Source) -> bool:
        return int.from_bytes(hashlib.sha1(("reader-" + source.id).encode()).digest()[:4], "big") % BBC_HELD == 0

    return [s for s in split_half(sources, "dev") if is_held(s) == held]


def as_read(cases, corpus: str, tok) -> list[Planted]:
    """The detector's content sentences of each case (rules and line model first, as in
    scoring), tokenised, with their labels."""
    from coherence.preparation import prepare_article

    out = []
    for case in cases:
        prepared = prepare_article(case.text, None, None)
        content = prepared.content
        if len(content) < 2:
            continue
        spans = [prepared.sentences[i] for i in content]
        labels = np.array([is_planted(s.start, s.end, case.planted) for s in spans], dtype=np.int8)
        ids = [e.ids for e in tok.encode_batch([prepared.texts[i] for i in content], add_special_tokens=False)]
        out.append(Planted(case.id, corpus, case.condition, ids, labels, case.text))
    return out


def nearest_of(hosts: list[Source], pool: list[Source]) -> dict[str, str]:
    """Each host's nearest other story of the pool by int8 title-and-lead vectors."""
    from coherence.encoders.factory import make_encoder

    encoder = make_encoder("all-MiniLM-L6-v2")
    vectors = np.asarray(encoder.encode([lead(s) for s in pool]), dtype=np.float32)
    index = {s.id: i for i, s in enumerate(pool)}
    out: dict[str, str] = {}
    for a in range(0, len(hosts), NEAREST_CHUNK):
        chunk = hosts[a : a + NEAREST_CHUNK]
        out.update(nearest_stories(chunk, vectors[[index[s.id] for s in chunk]], pool, vectors))
    return out


def planted_round(hosts: list[Source], donors: list[Source], nearest: dict[str, str], seed: int, corpus: str, tok) -> list[Planted]:
    """Every host planted once, under a condition drawn for it."""
    rng = random.Random(f"reader-{corpus}-{seed}")
    names, shares = zip(*CONDITION_SHARES.items())
    by_condition: dict[str, list[Source]] = {c: [] for c in names}
    for host in hosts:
        by_condition[rng.choices(names, shares)[0]].append(host)
    out = []
    for condition, members in by_condition.items():
        if not members:
            continue
        if condition == "nearest" and not nearest:
            condition = "same"
        cases = build_cases(members, condition, seed=seed, n_planted=(1, 3), nearest=nearest, donors=donors)
        out.extend(as_read(cases, corpus, tok))
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=2, help="plantings of every host article")
    parser.add_argument("--news-articles", type=int, default=0, help="news train hosts (0: all)")
    parser.add_argument("--split", default="train", help="news split to plant (dev: for validation)")
    parser.add_argument("--bbc", choices=("train", "held", "none"), default="train")
    parser.add_argument("--bbc-rounds", type=int, help=f"plantings of every BBC host (default: {BBC_ROUNDS} x --rounds, the BBC half being small)")
    parser.add_argument("--first-round", type=int, default=0, help="seed of the first round (a later round gives other plantings of the same hosts)")
    args = parser.parse_args(argv)
    tok = reader_tokenizer()
    articles: list[Planted] = []
    news = news_split(load_news(NEWS_CORPUS), args.split)
    pool = list(news)
    random.Random("reader-pool").shuffle(pool)
    hosts = hosts_of(pool, args.news_articles or len(pool))
    print(f"news {args.split}: {len(hosts)} hosts; finding nearest stories ...", file=sys.stderr, flush=True)
    nearest = nearest_of(hosts, pool)
    for seed in range(args.first_round, args.first_round + args.rounds):
        articles.extend(planted_round(hosts, news, nearest, 500 + seed, "news", tok))
        print(f"round {seed}: {len(articles)} articles", file=sys.stderr, flush=True)
    if args.bbc != "none":
        bbc = bbc_reader_part(load_corpus(DEFAULT_CORPUS), held=args.bbc == "held")
        bbc_nearest = nearest_of(bbc, bbc)
        bbc_rounds = args.rounds * BBC_ROUNDS if args.bbc_rounds is None else args.bbc_rounds
        first = BBC_ROUNDS * args.first_round  # past the BBC plantings of the default rounds before
        for seed in range(first, first + bbc_rounds):
            articles.extend(planted_round(bbc, bbc, bbc_nearest, 600 + seed, "bbc", tok))
        print(f"with BBC: {len(articles)} articles", file=sys.stderr, flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "wb") as handle:
        pickle.dump(articles, handle, protocol=pickle.HIGHEST_PROTOCOL)
    print(f"wrote {len(articles)} articles to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()

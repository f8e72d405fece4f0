"""Intrusion sets: plant sentences of one article inside another and remember where.

Shared by the benchmarks and the weight fitting. A corpus is a folder of .txt articles (the
category is the parent folder's name, the title the first line) or a JSONL file with `text`
and optional `category` and `id` fields. Articles are split into a dev and a test half by a
hash of their id, so the split never depends on order or on the sample size.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from coherence.text.segment import split_sentences

Condition = Literal["clean", "cross", "same"]
DEFAULT_CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "bbc"


@dataclass(frozen=True)
class Source:
    id: str
    category: str
    text: str


@dataclass
class Case:
    """An article, possibly with planted sentences, and the char spans of what was planted."""

    id: str
    condition: Condition
    text: str
    planted: list[tuple[int, int]] = field(default_factory=list)


def load_corpus(path: Path) -> list[Source]:
    """Read a folder of .txt files or a JSONL file."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.txt") if p.name.lower() != "readme.txt")
        return [
            Source(str(p.relative_to(path)), p.parent.name if p.parent != path else "", p.read_text(encoding="utf-8", errors="replace"))
            for p in files
        ]
    out = []
    with open(path, encoding="utf-8") as handle:
        for n, line in enumerate(handle):
            record = json.loads(line)
            out.append(Source(str(record.get("id", n)), str(record.get("category", "")), record["text"]))
    return out


def split_half(sources: list[Source], half: Literal["dev", "test"]) -> list[Source]:
    """The dev or test half, by a stable hash of each article's id."""
    def is_dev(source: Source) -> bool:
        return hashlib.sha1(source.id.encode()).digest()[0] % 2 == 0

    return [s for s in sources if is_dev(s) == (half == "dev")]


def subsample(source: Source, keep: float, seed: int) -> Source:
    """`source` with each sentence after the headline kept with probability `keep` (seeded by
    `seed` and the article id), paragraphs kept apart: a shorter, new version of the article,
    so a model trained on many plantings of one corpus does not learn its articles by heart."""
    rng = random.Random(f"{seed}-{source.id}")
    paragraphs: dict[int, list[str]] = {}
    for s in split_sentences(source.text):
        if s.paragraph == 0 or rng.random() < keep:
            paragraphs.setdefault(s.paragraph, []).append(s.text)
    return Source(source.id, source.category, "\n\n".join(" ".join(p) for _, p in sorted(paragraphs.items())))


_ENDINGS = (".", "!", "?", '"', "'", "”", "’")


def _body_sentences(text: str) -> list[tuple[int, int]]:
    """Spans of the complete sentences after the first paragraph (the headline): at least
    four words and closed by end punctuation, so a planted one cannot merge with its
    neighbour (list lines such as "9 David Nalbandian (Argentina)" would)."""
    return [
        (s.start, s.end)
        for s in split_sentences(text)
        if s.paragraph > 0 and len(s.text.split()) >= 4 and s.text.endswith(_ENDINGS)
    ]


def build_cases(
    sources: list[Source],
    condition: Condition,
    seed: int = 0,
    n_planted: tuple[int, int] = (1, 1),
) -> list[Case]:
    """One case per source article: untouched (`clean`) or with 1..k sentences of one donor
    article from another category (`cross`) or the same category (`same`) planted at random
    sentence boundaries after the headline."""
    rng = random.Random(f"{seed}-{condition}")
    by_category: dict[str, list[int]] = {}
    for i, s in enumerate(sources):
        by_category.setdefault(s.category, []).append(i)
    cases = []
    for i, source in enumerate(sources):
        if condition == "clean":
            cases.append(Case(source.id, condition, source.text))
            continue
        if condition == "cross":
            pool = [j for j in range(len(sources)) if sources[j].category != source.category]
        else:
            pool = [j for j in by_category[source.category] if j != i]
        donor = sources[rng.choice(pool)].text
        donor_spans = _body_sentences(donor)
        gaps = [end for _, end in _body_sentences(source.text)]
        if not donor_spans or not gaps:
            cases.append(Case(source.id, "clean", source.text))
            continue
        k = rng.randint(*n_planted)
        picked = [donor[a:b] for a, b in rng.sample(donor_spans, min(k, len(donor_spans)))]
        positions = sorted(rng.choice(gaps) for _ in picked)
        cases.append(_plant(source, condition, picked, positions))
    return cases


def _plant(source: Source, condition: Condition, sentences: list[str], positions: list[int]) -> Case:
    text = source.text
    pieces, planted, last, shift = [], [], 0, 0
    for sentence, pos in zip(sentences, positions):
        pieces.append(text[last:pos])
        start = pos + shift + 1
        pieces.append(" " + sentence)
        planted.append((start, start + len(sentence)))
        shift += len(sentence) + 1
        last = pos
    pieces.append(text[last:])
    return Case(source.id, condition, "".join(pieces), planted)


def is_planted(start: int | None, end: int | None, planted: list[tuple[int, int]]) -> bool:
    """Whether a sentence span covers most of a planted sentence."""
    if start is None or end is None:
        return False
    return any(min(end, b) - max(start, a) > 0.5 * (b - a) for a, b in planted)

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
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from coherence.text.segment import split_sentences

Condition = Literal["clean", "cross", "same", "nearest", "paragraph", "teasers"]
PARAGRAPH_MOST = 5  # sentences of a pasted paragraph at most
TEASER_STORIES = (3, 6)  # other stories in a block of teasers, fewest and most
DONOR_TRIES = 5  # donors tried before an article is left clean
DEFAULT_CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "bbc"


@dataclass(frozen=True)
class Source:
    id: str
    category: str
    text: str
    outlet: str = ""  # who published it, where the corpus says (news: for splits by outlet)


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
    return replace(source, text="\n\n".join(" ".join(p) for _, p in sorted(paragraphs.items())))


_ENDINGS = (".", "!", "?", '"', "'", "”", "’")


def _is_complete(sentence) -> bool:
    """A complete body sentence: after the first paragraph (the headline), at least four words
    and closed by end punctuation, so a planted one cannot merge with its neighbour (list
    lines such as "9 David Nalbandian (Argentina)" would)."""
    return sentence.paragraph > 0 and len(sentence.text.split()) >= 4 and sentence.text.endswith(_ENDINGS)


def _body_sentences(text: str) -> list[tuple[int, int]]:
    """Spans of the complete sentences after the headline."""
    return [(s.start, s.end) for s in split_sentences(text) if _is_complete(s)]


def _paragraphs(text: str, most: int = PARAGRAPH_MOST) -> list[list[tuple[int, int]]]:
    """The sentence spans of each body paragraph made only of complete sentences, two or more
    of them (the first `most` of a longer one): what a pasted paragraph of another story
    looks like."""
    by_paragraph: dict[int, list] = {}
    for s in split_sentences(text):
        if s.paragraph > 0:
            by_paragraph.setdefault(s.paragraph, []).append(s)
    return [
        [(s.start, s.end) for s in sentences[:most]]
        for sentences in by_paragraph.values()
        if len(sentences) >= 2 and all(_is_complete(s) for s in sentences)
    ]


def sentence_keys(text: str) -> set[str]:
    """The normalised complete sentences of a text (lower case, words only)."""
    return {" ".join(re.findall(r"\w+", text[a:b].lower())) for a, b in _body_sentences(text)}


def shares_text(host: str, donor: str, host_keys: set[str] | None = None) -> bool:
    """Whether the donor repeats a sentence of the host: the same wire story run by two
    outlets, or an update of it. Its sentences would not be stray in the host. `host_keys`
    (`sentence_keys(host)`) saves splitting the host again for each donor tried."""
    own = sentence_keys(host) if host_keys is None else host_keys
    return not own.isdisjoint(sentence_keys(donor))


def _pick_donor(rng: random.Random, pool: list[int], sources: list[Source], host: str) -> str | None:
    """A donor text from the pool that does not repeat the host (a few tries)."""
    own = sentence_keys(host)
    for _ in range(DONOR_TRIES):
        donor = sources[rng.choice(pool)].text
        if not shares_text(host, donor, own):
            return donor
    return None


def build_cases(
    sources: list[Source],
    condition: Condition,
    seed: int = 0,
    n_planted: tuple[int, int] = (1, 1),
    nearest: Mapping[str, str] | None = None,
    donors: list[Source] | None = None,
) -> list[Case]:
    """One case per source article: untouched (`clean`), with 1..k sentences of one donor
    article planted at random sentence boundaries after the headline, the donor from another
    category (`cross`), the same category (`same`) or the nearest other story (`nearest`:
    `nearest` maps an article id to its donor's id), or with one paragraph of a same-category
    donor pasted between two paragraphs (`paragraph`), or followed by a block of teasers for
    3-6 other stories of any category (`teasers`: each story's headline and first sentence, as a
    "more stories" module leaves them in a scraped page). A donor that repeats a sentence of its
    host is passed over; an article that cannot be planted stays `clean`. Donors come from
    `donors` (default: the sources themselves), never the host itself."""
    if condition == "nearest" and nearest is None:
        raise ValueError("the nearest condition needs the nearest-story map")
    rng = random.Random(f"{seed}-{condition}")
    pool_sources = sources if donors is None else donors
    by_category: dict[str, list[int]] = {}
    for i, s in enumerate(pool_sources):
        by_category.setdefault(s.category, []).append(i)
    by_id = {s.id: s for s in pool_sources}
    cases = []
    for source in sources:
        if condition == "clean":
            cases.append(Case(source.id, condition, source.text))
            continue
        if condition == "teasers":
            cases.append(_append_teasers(rng, source, pool_sources) or Case(source.id, "clean", source.text))
            continue
        if condition == "nearest":
            donor = by_id[nearest[source.id]].text if nearest.get(source.id) in by_id else None
        else:
            pool = (
                [j for j in range(len(pool_sources)) if pool_sources[j].category != source.category]
                if condition == "cross"
                else [j for j in by_category.get(source.category, ()) if pool_sources[j].id != source.id]
            )
            donor = _pick_donor(rng, pool, pool_sources, source.text) if pool else None
        planted = None
        if donor is not None and condition == "paragraph":
            planted = _paste_paragraph(rng, source, donor)
        elif donor is not None:
            planted = _plant_sentences(rng, source, condition, donor, n_planted)
        cases.append(planted or Case(source.id, "clean", source.text))
    return cases


def _plant_sentences(rng: random.Random, source: Source, condition: Condition, donor: str, n_planted: tuple[int, int]) -> Case | None:
    """1..k complete sentences of the donor at random sentence boundaries of the host."""
    donor_spans = _body_sentences(donor)
    gaps = [end for _, end in _body_sentences(source.text)]
    if not donor_spans or not gaps:
        return None
    k = rng.randint(*n_planted)
    picked = [donor[a:b] for a, b in rng.sample(donor_spans, min(k, len(donor_spans)))]
    positions = sorted(rng.choice(gaps) for _ in picked)
    return _plant(source, condition, picked, positions)


def _paste_paragraph(rng: random.Random, source: Source, donor: str) -> Case | None:
    """One paragraph of the donor as a paragraph of its own after a body paragraph of the host."""
    paragraphs = _paragraphs(donor)
    last: dict[int, int] = {}
    for s in split_sentences(source.text):
        if s.paragraph > 0:
            last[s.paragraph] = s.end
    gaps = sorted(last.values())
    if not paragraphs or not gaps:
        return None
    spans = rng.choice(paragraphs)
    pos = rng.choice(gaps)
    a, b = spans[0][0], spans[-1][1]
    start = pos + 2
    text = source.text[:pos] + "\n\n" + donor[a:b] + source.text[pos:]
    planted = [(start + sa - a, start + sb - a) for sa, sb in spans]
    return Case(source.id, "paragraph", text, planted)


def _append_teasers(rng: random.Random, source: Source, pool: list[Source]) -> Case | None:
    """The host followed by teasers for other stories of the pool: each one's headline and
    first body sentence, each a paragraph of its own, the block after the host's last line (where
    related and most-read modules follow an article). Stories that repeat the host are passed over."""
    own = sentence_keys(source.text)
    others = [s for s in pool if s.id != source.id]
    if not others:
        return None
    wanted = rng.randint(*TEASER_STORIES)
    teasers: list[str] = []
    for story in rng.sample(others, min(len(others), wanted * 2)):
        if len(teasers) == 2 * wanted:
            break
        sentences = list(split_sentences(story.text))
        headline = " ".join(s.text for s in sentences if s.paragraph == 0)
        first = next((s.text for s in sentences if _is_complete(s)), None)
        if headline and first is not None and not shares_text(source.text, story.text, own):
            teasers += [headline, first]
    if not teasers:
        return None
    text, planted = source.text.rstrip(), []
    for teaser in teasers:
        text += "\n\n"
        planted.append((len(text), len(text) + len(teaser)))
        text += teaser
    return Case(source.id, "teasers", text, planted)


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

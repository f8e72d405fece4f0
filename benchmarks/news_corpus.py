"""The news corpus (`../shared/data/news`): 37,553 articles of 491 outlets, split so that a model
is tested on outlets it never saw as well as on unseen articles of outlets it did.

Splits, from stable hashes (never from file order or sample size):

- `test_outlets`: every article of about a fifth of the outlets, chosen in each outlet group
  (in the order of a hash of their names, until the group's test share reaches
  `TEST_OUTLET_SHARE`), so every kind of prose is among the unseen outlets; nothing of them is
  fitted on;
- the other outlets' articles by a hash of the article id: `train` (80%), `dev` (10%) and
  `test_random` (10%).

An article is its title, a blank line and its body (the detector reads the first paragraph as the
headline, as in the BBC corpus); its topic label is its category, so a `same` donor is another
story on the same subject. Exact repeats of a body are kept once. Outlets fall into groups
(wire, broadcast, newspaper, opinion, online) so that flag rates can be read per kind of prose.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
from pathlib import Path
from typing import Literal

import numpy as np

from benchmarks.intrusions import Source, sentence_keys, shares_text
from coherence.encoders.base import Encoder
from coherence.text.segment import split_sentences

NEWS_CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "news" / "articles.jsonl.gz"
Split = Literal["train", "dev", "test_random", "test_outlets"]
SPLITS: tuple[Split, ...] = ("train", "dev", "test_random", "test_outlets")
MIN_SENTENCES = 5  # body sentences a host article needs
POOL = 3000  # donor articles drawn from a split
NEAREST_TRIES = 10  # most similar stories looked at for a nearest donor
TEST_OUTLET_SHARE = 0.2  # of each outlet group's articles

# Outlet groups, by the corpus's outlet names. Opinion first: a name that says so, the
# columnists and the opinion magazines; then wire services, broadcasters and newspapers;
# everything else is an online outlet or magazine.
_OPINION_MARKERS = ("opinion", "editorial", "guest writer", "flip side")
_GROUPS: dict[str, tuple[str, ...]] = {
    "opinion": (
        "Townhall", "National Review", "Reason", "American Spectator", "Victor Hanson", "John Stossel",
        "Rich Lowry", "Ben Shapiro", "George Will", "John Fund", "Howard Kurtz", "Damon Linker",
        "Newt Gingrich", "Michelle Malkin", "HotAir", "Daily Kos", "The Nation", "Jacobin", "Quillette",
        "New Republic", "Mother Jones", "The American Conservative",
    ),
    "wire": ("Reuters", "Associated Press", "Bloomberg", "AFP", "United Press International"),
    "broadcast": (
        "CNN (Web News)", "Fox Online News", "Fox News", "Fox News (Online)", "NPR Online News", "BBC News",
        "CBN", "ABC News", "ABC News (Online)", "CBS News", "NBC News (Online)", "NBCNews.com", "MSNBC",
        "PBS NewsHour", "Al Jazeera", "CNBC", "Democracy Now", "BET",
    ),
    "newspaper": (
        "Washington Times", "USA TODAY", "New York Times - News", "New York Times (Online News)",
        "Christian Science Monitor", "The Guardian", "Wall Street Journal - News", "New York Post",
        "Washington Post", "Chicago Sun-Times", "Daily Mail", "The Boston Globe", "Deseret News",
        "Los Angeles Times", "The Epoch Times", "Financial Times",
    ),
}
OUTLET_GROUPS = ("wire", "broadcast", "newspaper", "opinion", "online")
# Outlets whose prose the models already learn from another corpus (the BBC benchmark's dev
# half): never among the unseen test outlets.
SEEN_ELSEWHERE = frozenset({"BBC News"})


def outlet_group(outlet: str) -> str:
    """The kind of outlet: wire, broadcast, newspaper, opinion or online (the rest)."""
    if any(marker in outlet.lower() for marker in _OPINION_MARKERS):
        return "opinion"
    for group, names in _GROUPS.items():
        if outlet in names:
            return group
    return "online"


def _bucket(key: str, n: int) -> int:
    return int.from_bytes(hashlib.sha1(key.encode()).digest()[:4], "big") % n


def held_out_outlets(sources: list[Source]) -> frozenset[str]:
    """The outlets held out: per group, outlets in hash order until a fifth of its articles."""
    counts: dict[str, int] = {}
    for source in sources:
        counts[source.outlet] = counts.get(source.outlet, 0) + 1
    held: set[str] = set()
    for group in OUTLET_GROUPS:
        members = sorted((o for o in counts if outlet_group(o) == group and o not in SEEN_ELSEWHERE), key=lambda o: hashlib.sha1(("outlet-" + o).encode()).digest())
        total, taken = sum(counts[o] for o in members), 0
        for outlet in members:
            if taken >= TEST_OUTLET_SHARE * total:
                break
            held.add(outlet)
            taken += counts[outlet]
    return frozenset(held)


def split_of(source: Source, held_outlets: frozenset[str]) -> Split:
    """The split an article belongs to: its outlet's, else its own by id."""
    if source.outlet in held_outlets:
        return "test_outlets"
    k = int.from_bytes(hashlib.sha1(("article-" + source.id).encode()).digest()[:4], "big") % 10
    return "train" if k < 8 else "dev" if k == 8 else "test_random"


def load_news(path: Path = NEWS_CORPUS) -> list[Source]:
    """The corpus as sources (title + body, topic as category, outlet), exact body repeats
    and empty bodies dropped."""
    seen: set[str] = set()
    out = []
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            body = (record.get("text") or "").strip()
            key = hashlib.sha1(body.encode()).hexdigest()
            if not body or key in seen:
                continue
            seen.add(key)
            title = " ".join((record.get("title") or "").split())
            text = f"{title}\n\n{body}" if title else body
            out.append(Source(str(record["id"]), str(record.get("topic", "")), text, str(record.get("source", ""))))
    return out


def news_splits(sources: list[Source]) -> dict[Split, list[Source]]:
    """Every split's articles, the held-out outlets chosen once."""
    held = held_out_outlets(sources)
    out: dict[Split, list[Source]] = {split: [] for split in SPLITS}
    for source in sources:
        out[split_of(source, held)].append(source)
    return out


def news_split(sources: list[Source], split: Split) -> list[Source]:
    """The articles of one split."""
    return news_splits(sources)[split]


def nearest_stories(hosts: list[Source], host_vectors: np.ndarray, pool: list[Source], pool_vectors: np.ndarray) -> dict[str, str]:
    """For each host, the most similar other article of the pool by the cosine of their
    vectors (e.g. of title and lead) that does not repeat one of its sentences: the hardest
    donor, another story told in nearly the same words."""
    def unit(v: np.ndarray) -> np.ndarray:
        return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)

    similarity = unit(np.asarray(host_vectors, dtype=float)) @ unit(np.asarray(pool_vectors, dtype=float)).T
    out = {}
    for i, host in enumerate(hosts):
        own = sentence_keys(host.text)
        for j in np.argsort(-similarity[i], kind="stable")[:NEAREST_TRIES]:
            if pool[j].id != host.id and not shares_text(host.text, pool[j].text, own):
                out[host.id] = pool[j].id
                break
    return out


def lead(source: Source, sentences: int = 1) -> str:
    """Title and first body sentences: what a story is about, for finding its nearest story."""
    return " ".join(s.text for s in list(split_sentences(source.text))[: sentences + 1])


def donor_pool(sources: list[Source], seed: int, size: int = POOL) -> list[Source]:
    """Up to `size` articles of a split in a seeded order (hosts are its first ones)."""
    pool = list(sources)
    random.Random(f"{seed}-pool").shuffle(pool)
    return pool[:size]


def hosts_of(pool: list[Source], n: int) -> list[Source]:
    """The first n articles of the pool with at least MIN_SENTENCES body sentences."""
    out = []
    for source in pool:
        if sum(1 for s in split_sentences(source.text) if s.paragraph > 0) >= MIN_SENTENCES:
            out.append(source)
            if len(out) == n:
                break
    return out


def nearest_map(encoder: Encoder, hosts: list[Source], pool: list[Source]) -> dict[str, str]:
    """Each host's nearest other story of the pool (hosts are pool members), by the vectors
    of title and first sentence."""
    vectors = np.asarray(encoder.encode([lead(s) for s in pool]))
    index = {s.id: i for i, s in enumerate(pool)}
    return nearest_stories(hosts, vectors[[index[s.id] for s in hosts]], pool, vectors)

"""Word-level evidence: tokens, how much information a word carries, and named entities.

Information is measured against general English word frequencies (``wordfreq``), so a
sentence made of common words ("We are moving forcefully and quickly", he said.) carries
little topic of its own, while names and rare terms carry a lot. Entities are found with
capitalisation cues, which hold for English news without a tagger model.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["WordEvidence", "analyse", "load_word_frequencies", "refers_back", "word_information", "COMMON_ZIPF"]

# Words at or above this Zipf frequency (about once per 100,000 words) carry no topic.
COMMON_ZIPF = 5.0
_MONTHS_AND_DAYS = frozenset(
    "january february march april may june july august september october november december "
    "monday tuesday wednesday thursday friday saturday sunday".split()
)
_TOKEN = re.compile(r"[^\W\d_](?:[\w'’.\-]*\w)?|\d[\d,.]*\d|\d", re.UNICODE)
_OPENING_PUNCT = "\"'“‘([«"
_CLAUSE_OPENERS = frozenset(".!?:" + _OPENING_PUNCT)  # after these, a capital may open a clause


@lru_cache(maxsize=200_000)
def _zipf(word: str) -> float:
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "en")


def load_word_frequencies() -> None:
    """Read the word-frequency table now; wordfreq reads it on first use (about 0.15 s)."""
    _zipf("the")


def word_information(word: str) -> float:
    """Topic information of a word: how far it lies below the common-word frequency (>= 0)."""
    return max(0.0, COMMON_ZIPF - _zipf(word.lower()))


def normalise(token: str) -> str:
    """Fold case, accents, possessives and simple plural endings, so repeats match."""
    token = unicodedata.normalize("NFKD", token).encode("ascii", "ignore").decode() or token
    token = token.lower().replace("’", "'")
    for suffix in ("'s", "'"):
        if token.endswith(suffix):
            token = token[: -len(suffix)]
    token = token.replace(".", "")
    if len(token) > 4 and token.endswith("ies"):
        token = token[:-3] + "y"
    elif len(token) > 3 and token.endswith("s") and not token.endswith("ss"):
        token = token[:-1]
    return token


@dataclass(frozen=True, slots=True)
class WordEvidence:
    """Content of one sentence: its informative words and its entities (normalised)."""

    content: dict[str, float]  # normalised word -> information
    entities: frozenset[str]
    information: float  # total information of the sentence's content words
    names: dict[str, str]  # normalised entity -> its form in the text
    mentions: tuple[tuple[str, ...], ...] = ()  # names as written: runs of entity words
    refers_back: bool = False  # opens with a pronoun ("He said", "But it was") pointing back

    @property
    def n_words(self) -> int:
        return len(self.content)


def _is_entity(token: str, first: bool) -> bool:
    if token[0].isdigit():
        return False
    letters = [c for c in token if c.isalpha()]
    if len(letters) >= 2 and all(c.isupper() for c in letters):
        return _zipf(token.lower()) < 6.0 or len(letters) <= 4  # acronyms: ISIS, EU, U.S.
    if not token[0].isupper():
        return False
    low = token.lower()
    if low in _MONTHS_AND_DAYS:
        return False
    if first:  # sentence-initial capitals are ambiguous: only rare words count as names
        return _zipf(low) < 3.0
    return _zipf(low) < 5.5


@lru_cache(maxsize=200_000)
def _token_facts(token: str, first: bool) -> tuple[bool, str, float]:
    """Whether a token is a name, its normalised form and its information (names count at
    least 1: a name always says something about the topic). Cached: news reuses its words."""
    if token[0].isdigit():
        return False, token, 0.0
    entity = _is_entity(token, first)
    info = word_information(token)
    return entity, normalise(token), max(info, 1.0) if entity else info


_MENTION_JOINERS = ("", " ", "-")  # what may stand between two words of one name
# A sentence opening with one of these (after a linking word) continues an earlier referent.
_BACK_REFERENCES = frozenset("he she it they his her its their him them this these those we i".split())
_LINKING_WORDS = frozenset("but and so yet however still also then even indeed meanwhile instead now".split())
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?", re.UNICODE)


def refers_back(text: str) -> bool:
    """Whether the sentence's first word (after linking words) is a pronoun pointing back."""
    for match in _WORD.finditer(text):
        word = match.group().lower().replace("’", "'").split("'")[0]
        if word in _LINKING_WORDS:
            continue
        return word in _BACK_REFERENCES
    return False


def analyse(text: str) -> WordEvidence:
    """Informative words and entities of one sentence.

    Entity words next to each other form one mention ("Andrew Fastow", "Imam Khomeini
    International Airport"), so a single full name does not count as several things named.
    """
    content: dict[str, float] = {}
    names: dict[str, str] = {}
    mentions: list[list[str]] = []
    first = True
    last_entity_end: int | None = None
    for match in _TOKEN.finditer(text):
        token = match.group().strip("'’.-")
        if not token:
            continue
        entity, key, info = _token_facts(token, first)
        end = match.end()
        if not token[0].isdigit():
            if entity:
                names.setdefault(key, token)
                joined = last_entity_end is not None and text[last_entity_end : match.start()] in _MENTION_JOINERS
                if joined:
                    mentions[-1].append(key)
                else:
                    mentions.append([key])
            if info > 0 and len(key) > 1 and info > content.get(key, 0.0):
                content[key] = info
        last_entity_end = end if entity else None
        # does the next token start a new sentence or quotation? (capitals are ambiguous there)
        rest = text[end : end + 3].lstrip()
        first = bool(rest) and rest[0] in _CLAUSE_OPENERS
    return WordEvidence(
        content,
        frozenset(names),
        float(sum(content.values())),
        names,
        _distinct_names(mentions),
        refers_back(text),
    )


def _distinct_names(mentions: list[list[str]]) -> tuple[tuple[str, ...], ...]:
    """Each name once: repeats dropped, and "Fastow" folded into "Andrew Fastow"."""
    unique = list(dict.fromkeys(tuple(m) for m in mentions))
    return tuple(m for m in unique if not any(set(m) < set(other) for other in unique))


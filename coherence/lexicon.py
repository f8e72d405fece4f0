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

__all__ = ["WordEvidence", "analyse", "word_information", "COMMON_ZIPF"]

# Words at or above this Zipf frequency (about once per 100,000 words) carry no topic.
COMMON_ZIPF = 5.0
_MONTHS_AND_DAYS = frozenset(
    "january february march april may june july august september october november december "
    "monday tuesday wednesday thursday friday saturday sunday".split()
)
_TOKEN = re.compile(r"[^\W\d_](?:[\w'’.\-]*\w)?|\d[\d,.]*\d|\d", re.UNICODE)
_OPENING_PUNCT = "\"'“‘([«"


@lru_cache(maxsize=200_000)
def _zipf(word: str) -> float:
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "en")


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


def analyse(text: str) -> WordEvidence:
    """Informative words and entities of one sentence."""
    content: dict[str, float] = {}
    names: dict[str, str] = {}
    first = True
    for match in _TOKEN.finditer(text):
        token = match.group().strip("'’.-")
        if not token:
            continue
        if not token[0].isdigit():
            key = normalise(token)
            info = word_information(token)
            if _is_entity(token, first):
                names.setdefault(key, token)
                info = max(info, 1.0)  # a name always says something about the topic
            if info > 0 and len(key) > 1:
                content[key] = max(content.get(key, 0.0), info)
        first = _ends_clause(text, match.end())
    return WordEvidence(content, frozenset(names), float(sum(content.values())), names)


def _ends_clause(text: str, end: int) -> bool:
    """True when the next token starts a new sentence or quotation (capitals are ambiguous)."""
    rest = text[end : end + 3].lstrip()
    return bool(rest) and rest[0] in ".!?:" + _OPENING_PUNCT

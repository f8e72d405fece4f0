"""The language of an article and of its lines, by py3langid (its model ships in the wheel).

Language decides what evidence applies: the topic model reads English only, so a
non-English article gets only language-independent flags, and a line in another language
than its article's is a leftover (a menu, a cookie banner, a quote box from a sister site).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

__all__ = ["ENGLISH", "MIN_LINE_WORDS", "language_of", "line_language"]

ENGLISH = "en"
MIN_LINE_WORDS = 6  # shorter lines are named too unreliably ("Photo: Getty Images" reads as pidgin)
_MIN_LINE_CONFIDENCE = 0.95
_MIN_ARTICLE_CONFIDENCE = 0.5


@lru_cache(maxsize=1)
def _identifier() -> Any:
    """The identifier, loaded once per process (about half a second)."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def language_of(text: str) -> str | None:
    """The ISO 639-1 code of the text's language, or None when too little text or too unsure."""
    if len(text.split()) < MIN_LINE_WORDS:
        return None
    code, probability = _identifier().classify(text[:5000])
    return str(code) if probability >= _MIN_ARTICLE_CONFIDENCE else None


def line_language(text: str) -> str | None:
    """A line's language when it is named with high confidence, else None."""
    if len(text.split()) < MIN_LINE_WORDS:
        return None
    code, probability = _identifier().classify(text)
    return str(code) if probability >= _MIN_LINE_CONFIDENCE else None

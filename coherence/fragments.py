"""Fragments: pieces of text too broken to be a sentence.

A fragment has no word at all (".", "* * *", "|"), or is a short piece cut at both ends:
it starts in lower case and stops without end punctuation ("and the minister said").
A short line in title case without a full stop is a headline, not a fragment.
"""

from __future__ import annotations

import re

from coherence.verdict import Verdict

__all__ = ["fragment_verdict"]

_WORD = re.compile(r"[^\W\d_]{2,}|[^\W\d_]\b", re.UNICODE)
_END = tuple(".!?…\"'”’)]:;")


def fragment_verdict(text: str, max_cut_words: int = 6) -> Verdict | None:
    """A `fragment` verdict for text without words or cut at both ends, else None."""
    words = _WORD.findall(text)
    if not words:
        return Verdict("fragment", f"Has no words, only {text.strip()[:40]!r}.")
    stripped = text.strip()
    first_word = words[0]
    if (
        len(words) <= max_cut_words
        and first_word.islower()  # "and the", not a brand such as "iTunes" or "eBay"
        and not stripped.endswith(_END)
    ):
        return Verdict("fragment", "A piece of a sentence: it starts in lower case and has no ending.")
    return None

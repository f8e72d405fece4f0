"""Fragments: pieces of text too broken to be a sentence.

A fragment has no word at all (".", "* * *", "|"), or is a short piece cut at both ends:
it starts in lower case and stops without end punctuation ("and the minister said").
A short line in title case without a full stop is a headline, not a fragment; a line that
opens with a digit, a bullet or a dash ("3rd 1m 15.8s", "- no need for a cable") is a result
or a list item, and a web address is a link the article cites: none is cut from a sentence.
Nor is a piece that follows text left open (no end punctuation, or a colon or semicolon that
leads on): it carries on that text, as the lines of a hard-wrapped paragraph passed one by one
do ("... what", "might be called") and the items of a list after "Ingredients:" do, and what it
is, is left to the line model.
"""

from __future__ import annotations

import re

from coherence.verdict import Verdict

__all__ = ["fragment_verdict", "has_words"]

_WORD = re.compile(r"[^\W\d_]{2,}|[^\W\d_]\b", re.UNICODE)
_CLOSED = tuple(".!?…\"'”’)]")  # text before that ends so closes its sentence
_END = _CLOSED + (":", ";")  # a piece ending so is not cut (":" and ";" lead on to what follows)
_ADDRESS = re.compile(r"https?://|\bwww\.|\.(com|org|net|gov|edu|html?)\b|@\w", re.IGNORECASE)


def has_words(text: str) -> bool:
    """Whether a text holds a word at all ("|" and "* * *" do not)."""
    return _WORD.search(text) is not None


def fragment_verdict(text: str, previous: str | None = None, max_cut_words: int = 6) -> Verdict | None:
    """A `fragment` verdict for text without words or cut at both ends, else None.
    `previous`: the text just before it (None: it opens the article)."""
    words = _WORD.findall(text)
    if not words:
        return Verdict("fragment", f"Has no words, only {text.strip()[:40]!r}.")
    stripped = text.strip()
    first_word = words[0]
    if (
        len(words) <= max_cut_words
        and (previous is None or previous.rstrip().endswith(_CLOSED))  # else it carries on the text before
        and stripped[:1].islower()  # "and the"; not "3rd", "- item", nor a brand such as "iTunes"
        and first_word.islower()
        and not stripped.endswith(_END)
        and _ADDRESS.search(stripped) is None
    ):
        return Verdict("fragment", "A piece of a sentence: it starts in lower case and has no ending.")
    return None

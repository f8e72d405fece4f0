"""Sentence segmentation for scraped news text.

The splitter is a single linear pass over whitespace-delimited tokens:

1. Lines are grouped into paragraphs at blank lines.
2. Each single newline inside a paragraph is classified as a *hard* break
   (standalone lines such as headlines, bylines, "Related news") or a *soft*
   wrap (the line continues the sentence: next line starts lowercase, the
   line ends with a comma or function word, or the paragraph is wrapped at a
   fixed width and the next word would not have fitted). A line that ends a
   sentence, unless wrapping cut it or it ends in an abbreviation or an
   ellipsis, is a block of its own: the next line starts a sentence even in
   lower case or after a dash (a list item, a comment's byline, a URL).
3. Within a paragraph a boundary follows a token ending in ``.``, ``!``,
   ``?``, ``…`` (optionally followed by closing quotes/brackets) unless the
   next token starts lowercase or with a continuation mark, or the token is a
   known abbreviation / initial (``Mr.``, ``U.S.``, ``W.``) not followed by a
   typical sentence starter.  CJK full stops always end a sentence.
4. Stray punctuation opening a sentence (``. Despite...``) becomes its own
   sentence; spans longer than ``max_chars`` are cut at whitespace.

Only the standard library is used and no regular expression has nested
quantifiers, so the running time is linear in the input length.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from collections.abc import Iterator
from itertools import chain

__all__ = ["Sentence", "split_sentences"]


@dataclass(frozen=True, slots=True)
class Sentence:
    """A sentence: ``text == source[start:end]``, stripped of whitespace."""

    text: str
    start: int
    end: int
    paragraph: int


_CJK_STOPS = "。！？｡"
_TERMINALS = ".!?…‼⁇⁈⁉" + _CJK_STOPS
_CLOSERS = "\"'”’»)]}」』）›"
_OPENERS = "\"'“‘«([{「『（‹"
_QUOTE_OPENERS = "\"“‘«「『"
_CONTINUATION = "-‐‑–—,;:%"  # a next token starting with these continues the sentence
_LINE_JOINERS = ",;-‐–—(/&+"  # a line ending with these continues on the next line

_NEWLINE = re.compile(r"\r\n?|\n")
# A token is a whitespace-free run, additionally cut where a sentence is glued
# to the next one ("failed.Officials") and after CJK full stops (CJK text has
# no spaces between sentences).  Lookarounds are fixed-width, consecutive char
# classes are disjoint, the first two alternatives stop at the next CJK stop or
# whitespace and the third is only tried when no stop precedes the whitespace,
# so each character is examined a bounded number of times: linear time.
_TOKEN = re.compile(
    rf"[^\s{_CJK_STOPS}]+?(?<=[a-z]{{2}}[.!?])(?=[A-Z][a-z])"
    rf"|[^\s{_CJK_STOPS}]*[{_CJK_STOPS}]+[{re.escape(_CLOSERS)}]*"
    r"|\S+"
)
_WORD = re.compile(r"[^\W\d_]+")
_INITIALS = re.compile(r"(?:[^\W\d_]\.)*[^\W\d_]")  # W, U.S, e.g, a.m

# Abbreviations that precede a name and (practically) never end a sentence.
_TITLES = frozenset(
    "mr mrs ms mssrs messrs dr prof gen sen rep gov lt col sgt capt cmdr adm "
    "maj brig rev hon pres supt det insp fr mt ft amb mme mlle vs v cf".split()
)
# Abbreviations that may end a sentence: split only before a sentence starter.
_AMBIGUOUS = frozenset(
    "st jr sr inc corp ltd co bros no nos vol pp fig approx est dept univ ave "
    "blvd rd ph.d jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
# Capitalised words that typically open a sentence (used after abbreviations,
# and to recognise a hard line break before a new sentence).
_STARTERS = frozenset(
    "the a an he she it they we you this that these those there here his her "
    "its their our my but and or so yet in on at for from with after before "
    "when while if as however meanwhile also since despite although though "
    "still then now yesterday today according some many most all one what "
    "why how who where is was are were did do does has have had will would "
    "can could should".split()
)
# Lowercase words that cannot end a wrapped line's sentence.
_FUNCTION_WORDS = frozenset(
    "the a an of to in on at by for from with and or but nor as that than "
    "into onto over under about between against its their his her our is "
    "was are were be been has have had will would can could should said".split()
)

_Span = tuple[int, int]
_MIN_WRAP_WIDTH = 40  # narrower paragraphs are never treated as fixed-width wrapped


def split_sentences(text: str, max_chars: int = 1000) -> list[Sentence]:
    """Split ``text`` into sentences with character offsets.

    Every non-whitespace character ends up in exactly one sentence; no
    sentence is longer than ``max_chars`` characters.
    """
    if max_chars < 1:
        raise ValueError("max_chars must be >= 1")
    out: list[Sentence] = []
    for para, lines in enumerate(_paragraphs(text)):
        _split_paragraph(text, lines, para, max_chars, out)
    return out


def _paragraphs(text: str) -> Iterator[list[list[_Span]]]:
    """Yield paragraphs as lists of lines, each line a list of token spans."""
    lines: list[list[_Span]] = []
    pos = 0
    for m in chain(_NEWLINE.finditer(text), (None,)):
        end = m.start() if m else len(text)
        toks = [t.span() for t in _TOKEN.finditer(text, pos, end)]
        if toks:
            lines.append(toks)
        elif lines:
            yield lines
            lines = []
        pos = m.end() if m else end
    if lines:
        yield lines


def _ends_with_terminal(tok: str) -> bool:
    body = tok.rstrip(_CLOSERS)
    return bool(body) and body[-1] in _TERMINALS


def _first_word(s: str) -> str:
    m = _WORD.match(s)
    return m.group().lower() if m else ""


def _split_paragraph(
    text: str, lines: list[list[_Span]], para: int, max_chars: int, out: list[Sentence]
) -> None:
    toks = [t for line in lines for t in line]
    width = max(line[-1][1] - line[0][0] for line in lines)
    last = lines[-1][-1]
    # Wrapped prose: several wide lines, the last one ending a sentence.
    wrapped = len(lines) > 1 and width >= _MIN_WRAP_WIDTH and _ends_with_terminal(text[last[0] : last[1]])
    hard: set[int] = set()
    idx = -1
    for cur, nxt in zip(lines, lines[1:]):
        idx += len(cur)
        if _hard_break(text, cur, nxt, width, wrapped):
            hard.add(idx)
    start = 0
    for i in range(len(toks)):
        if i == len(toks) - 1 or i in hard or _boundary(text, toks, i, start):
            _emit(text, toks, start, i + 1, para, max_chars, out)
            start = i + 1


def _hard_break(text: str, cur: list[_Span], nxt: list[_Span], width: int, wrapped: bool) -> bool:
    """Is the newline between lines ``cur`` and ``nxt`` a sentence boundary?"""
    last = text[cur[-1][0] : cur[-1][1]]
    first = text[nxt[0][0] : nxt[0][1]]
    # Fixed-width wrap: the next word would not have fitted on this line.
    wrap = wrapped and (cur[-1][1] - cur[0][0]) + 1 + len(first) > width
    if _ends_with_terminal(last):
        # A line that ends a sentence and was not cut by wrapping is a block of its own: what
        # follows is a list item, a byline, a URL or a new paragraph, even in lower case.
        return not wrap and not _continues_after(last)
    head = first.lstrip(_OPENERS)
    if head[:1].islower() or last[-1] in _LINE_JOINERS or last.lower() in _FUNCTION_WORDS:
        return False
    if last[-1] == ":" and wrap:
        return False
    return not wrap or _first_word(head) in _STARTERS


def _continues_after(tok: str) -> bool:
    """Whether a token ending in terminal punctuation may still run on into the next line:
    an ellipsis, a title ("Mr."), an ambiguous abbreviation ("St.") or initials ("U.S.")."""
    body = tok.rstrip(_CLOSERS)
    if body.endswith(("..", "…")):
        return True
    if body[-1] != ".":
        return False  # ! ?
    word = body[:-1].strip(_OPENERS + _CLOSERS)
    return word.lower() in _TITLES or word.lower() in _AMBIGUOUS or bool(_INITIALS.fullmatch(word))


def _boundary(text: str, toks: list[_Span], i: int, start: int) -> bool:
    """Does a sentence end after token ``i`` (the sentence began at ``start``)?"""
    tok = text[toks[i][0] : toks[i][1]]
    if i == start and not tok.strip(_TERMINALS):
        return True  # stray punctuation opening a sentence: its own fragment
    body = tok.rstrip(_CLOSERS)
    if not body or body[-1] not in _TERMINALS:
        return False
    if body[-1] in _CJK_STOPS:
        return True
    nxt = text[toks[i + 1][0] : toks[i + 1][1]]
    head = nxt.lstrip(_OPENERS)
    if not head.strip(_TERMINALS + _CLOSERS):
        return False  # trailing quote or "..." stays with this sentence
    if head[0].islower() or head[0] in _CONTINUATION:
        return False
    if body[-1] != "." or body[-2:-1] == ".":
        return True  # ! ? … ?! ...
    if len(body) < len(tok):
        return True  # period inside closing quote or bracket: `over."`
    word = body[:-1].strip(_OPENERS + _CLOSERS)
    low = word.lower()
    if low in _TITLES:
        return False
    if i == start and word.isdigit():
        return False  # list numbering "1."
    if low in _AMBIGUOUS or _INITIALS.fullmatch(word):
        after = _first_word(head)
        return nxt[0] in _QUOTE_OPENERS or after in _STARTERS or (after in _TITLES and nxt[-1] == ".")
    return True


def _emit(
    text: str, toks: list[_Span], a: int, b: int, para: int, max_chars: int, out: list[Sentence]
) -> None:
    """Append tokens ``a:b`` as one sentence, or as pieces of <= max_chars."""
    start, end = toks[a][0], toks[b - 1][1]
    if end - start <= max_chars:
        out.append(Sentence(text[start:end], start, end, para))
        return
    ps = pe = -1
    for s, e in toks[a:b]:
        if ps >= 0 and e - ps <= max_chars:
            pe = e
            continue
        if ps >= 0:
            out.append(Sentence(text[ps:pe], ps, pe, para))
        while e - s > max_chars:  # a single token longer than max_chars
            out.append(Sentence(text[s : s + max_chars], s, s + max_chars, para))
            s += max_chars
        ps, pe = s, e
    out.append(Sentence(text[ps:pe], ps, pe, para))

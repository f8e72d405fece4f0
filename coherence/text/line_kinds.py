"""What kind of page furniture a line looks like: a caption, a call to action, a date stamp...

Each kind is a pattern searched anywhere in a short line, with the words the explanation
uses. Unlike `coherence.text.boilerplate`, whose rules must cover the whole line and flag on
their own, a kind here is only evidence: the leftover model weighs it with the line's form
and place on the page, and names it when the line is flagged ("a caption").

`NAMING_ONLY` holds more wordings of some kinds, found after the leftover model was fitted
(furniture of news outlets flagged as "a teaser for another story": "Thank you for signing up.
For more from ..., check out our latest issue", "STAY UP TO DATE WITH THE FREE ... APP"). They
name a line the model has flagged, so a call to action is `boilerplate`, not `off_topic`; they
are not the model's features (`kind_flags`) until `training.fit_leftovers` is run again with
them folded into `LINE_KINDS`.
"""

from __future__ import annotations

import re

__all__ = ["LINE_KINDS", "NAMING_ONLY", "TABLE_ROW", "TEASER", "describe", "kind_flags", "line_kind"]

_MAX_CHARS = 300  # longer lines are prose, whatever words they hold

# (name, what the explanation calls it, pattern searched case-insensitively)
LINE_KINDS: tuple[tuple[str, str, str], ...] = (
    ("link", "a web address or e-mail", r"https?://|\bwww\.|[\w.+-]+@[\w-]+\.[a-z]{2,}|(^|\s)@\w{2,}"),
    (
        "call_to_action",
        "a call to action",
        r"^\W*(subscribe|follow|sign ?up|sign ?in|share|click|tap|download|listen|watch|join|register"
        r"|log ?in|donate|support us|get (the|our)|contact us|send us|tell us|read more|see more|view more)\b"
        r"|\b(newsletter|click here|sign up (for|to)|subscribe (to|now|today)|follow (us|him|her|me) on"
        r"|available on the app store|get it on google play|listen live)\b",
    ),
    (
        "caption",
        "a caption or picture credit",
        r"^\W*(photo|image|picture|video|caption|credit|illustration|graphic|gallery)s?\b\s*[:|/(]"
        r"|\b(getty images|shutterstock|afp|ap photo|reuters|epa|pa (media|wire)|istock|alamy|file photo)\b"
        r"|\((photo|image|picture|credit|file)\b|\b(photo|image|picture)s? (by|courtesy|credit)\b",
    ),
    (
        "stamp",
        "a date or time stamp",
        r"^\W*(updated|published|posted|last (updated|modified)|first published)\b"
        r"|\b\d{1,2}:\d{2}\s*([ap]\.?m\.?|gmt|utc|[ecmp][sd]t|bst|cet)\b|\b\d+ (minutes?|hours?|days?) ago\b",
    ),
    (
        "byline",
        "a byline, author bio or contact line",
        r"^\W*(by|written by|reporting by|edited by|additional reporting|contact|email|e-mail|tel|phone)\b"
        r"|\b(is an? ([\w-]+ ){0,3}(reporter|writer|editor|correspondent|columnist|contributor|producer)"
        r"|can be reached at|follow (him|her|them) on|contributed to this (report|story))\b",
    ),
    (
        "notice",
        "a legal, affiliate or comment-policy notice",
        r"©|\(c\) ?\d{4}|\bcopyright\b|all rights reserved|\b(affiliate|commission|sponsored|advertisement"
        r"|disclosure|disclaimer|terms of (use|service)|privacy policy|cookies?|comments? (are|is) (closed|moderated)"
        r"|this (article|story) (was|is|has been) (originally|first) published|may not be (published|reproduced))\b",
    ),
    (
        "comment",
        "a reader comment or its controls",
        r"^\W*(\d+\s+)?(comments?|responses?|replies|trackbacks?)\W*$|leave a (comment|reply)|\bposted by\b"
        r"|\(score:\s*\d|^\W*re:\s|\b(says|wrote|said)(:|\.\.\.)\s*$"
        r"|^\W*(delete|report( abuse)?|permalink|reply|like|flag|log in to reply)\W*$",
    ),
    ("tags", "a tag or category list", r"^\W*(tags?|topics?|categor(y|ies)|filed under|keywords?|related topics)\s*:"),
    (
        "navigation",
        "a heading of links to other stories",
        r"^\W*(related|more (from|on|about|stories|news|in)|most (read|popular|viewed|shared)|trending|latest"
        r"|recommended|you may (also )?like|(read|see) (also|next)|top stories|editor'?s picks|what to read next"
        r"|popular|advertisement)\b",
    ),
)
TEASER = ("teaser", "a headline or teaser of another story")  # found by form and runs, not by words
# found by form: a row of two or more filled cells, as trafilatura writes a table ("| a | b |"); a
# one-cell row is how it writes a layout table's line, often another story's headline
TABLE_ROW = ("table_row", "a row of a table")

# (name of a kind of LINE_KINDS, pattern searched case-insensitively): wordings that name a
# flagged line's kind but are not features of the fitted model (see the module's docstring).
NAMING_ONLY: tuple[tuple[str, str], ...] = (
    (
        "call_to_action",
        r"\bthank(s| you) for (signing up|subscribing|registering|reading|your support)\b"
        r"|\bcheck out our\b|\bstay (up to date|informed|connected) with\b"
        r"|\b(get|download) (your|the|our) free\b|\bfree [\w' ]{0,30}\bapps?\W*$|\bin your inbox\b"
        r"|^\W*for more (from|on|about)\b|\bsigning up\b|\b(journalism|reporting|work) (depends|relies) on (readers|you)\b"
        r"|\breaders like you\W*$",
    ),
    ("byline", r"\bwith (assistance|reporting) (by|from)\b|^\W*(additional )?(writing|editing) by\b"),
    ("caption", r"^\W*source:\s"),
    ("notice", r"^\W*this (article|story|post|piece) ([\w ]{0,30} )?(originally|first) appeared (on|in)\b"),
)

_COMPILED = tuple((name, re.compile(pattern, re.IGNORECASE)) for name, _, pattern in LINE_KINDS)
_NAMING = tuple((name, re.compile(pattern, re.IGNORECASE)) for name, pattern in NAMING_ONLY)
_DESCRIPTION = {name: what for name, what, _ in LINE_KINDS} | dict((TEASER, TABLE_ROW))
_HEADLINE_WORDS = 4  # a cell this many words long or more may be another story's headline
_CELL_EDGE = re.compile(r"(?<!\\)\|")  # a pipe not escaped ("\|" is a pipe inside a cell's text)


def kind_flags(text: str) -> dict[str, bool]:
    """Which kinds' patterns a line matches (all False for a long line of prose)."""
    if len(text) > _MAX_CHARS:
        return {name: False for name, _ in _COMPILED}
    return {name: pattern.search(text) is not None for name, pattern in _COMPILED}


def line_kind(text: str) -> str | None:
    """The first kind a line matches, by name, or None: the model's kinds first, then the
    wordings that only name a kind (`NAMING_ONLY`), then a table's row (`TABLE_ROW`)."""
    if len(text) > _MAX_CHARS:
        return None
    named = next((name for name, pattern in (*_COMPILED, *_NAMING) if pattern.search(text)), None)
    return named or (TABLE_ROW[0] if _is_table_row(text) else None)


def _is_table_row(text: str) -> bool:
    """Two or more filled cells, not all of them headline-long (a grid of other stories'
    headlines is teasers, not a table)."""
    row = text.strip()
    if len(row) < 3 or row[0] != "|" or row[-1] != "|" or row[-2] == "\\":
        return False
    cells = [cell for cell in _CELL_EDGE.split(row[1:-1]) if cell.strip()]
    return len(cells) >= 2 and any(len(cell.split()) < _HEADLINE_WORDS for cell in cells)


def describe(kind: str) -> str:
    """What the explanation calls a kind ("a caption or picture credit")."""
    return _DESCRIPTION[kind]

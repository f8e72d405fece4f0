"""Boilerplate: navigation, share and subscribe prompts, cookie notices, bylines, captions.

Rules are whole-line patterns over the sentence, each with the explanation it gives, so a
curator can see which rule fired. A sentence is boilerplate only when the pattern covers it
all (plus a little punctuation): "Related news" is, a sentence that mentions news is not.
"""

from __future__ import annotations

import re

from coherence.verdict import Verdict

__all__ = ["BOILERPLATE_RULES", "boilerplate_verdict"]

_MAX_CHARS = 160  # boilerplate lines are short; long sentences are content

BOILERPLATE_RULES: tuple[tuple[str, str], ...] = (
    (
        r"(related|more|latest|top|recommended|popular|trending|further)\s+"
        r"(news|stories|articles|content|coverage|reading|videos?|links|topics)"
        r"(\s+(on|about|from)\b.{0,60})?",
        "a navigation heading (related / more stories)",
    ),
    (r"(read|see|watch|learn)\s+(more|also|next|the full story)\b.{0,80}", "a link to other content"),
    (r"(click|tap)\s+here\b.{0,100}", "a call to click a link"),
    (
        r"(share|tweet|email|e-mail|print|pin)\s*(this|the)?\s*(article|story|page|post|on\b.{0,40})?"
        r"(\s*(facebook|twitter|whatsapp|linkedin|email|x|reddit|pinterest)[\s,|/]*)*",
        "a share button",
    ),
    (r"(follow|like|find)\s+us\s+on\b.{0,60}", "a social-media prompt"),
    (
        r"(sign\s+up|subscribe|register)\b.{0,80}(newsletter|updates|today|now|free|here|alerts|inbox)\b.{0,40}"
        r"|(subscribe|sign\s+up)(\s+now|\s+today)?",
        "a subscription prompt",
    ),
    (
        r".{0,60}\b(use|uses|using)\s+cookies\b.{0,100}"
        r"|.{0,40}\b(accept|allow|reject|manage|use of)\s+(all\s+)?cookies\b.{0,60}"
        r"|(privacy policy|terms of (use|service)|cookie (policy|settings|preferences))",
        "a cookie or legal notice",
    ),
    (r"(advertisement|advertising|sponsored( content)?|ad)", "an advertisement marker"),
    (
        r"(copyright\s*(©|\(c\)|\d{4})|©).{0,100}|.{0,80}(all rights reserved|©).{0,40}",
        "a copyright line",
    ),
    (
        r"(by|written by|reporting by|edited by)\s+(?-i:[A-Z])[\w.'\-]+(\s+(?-i:[A-Z])[\w.'\-]+){0,3}"
        r"(\s*[,|]\s*(?-i:[A-Z])[\w.'\-]*(\s+(?-i:[A-Z])[\w.'\-]*){0,4})?",
        "a byline",
    ),
    (
        r"(?-i:[A-Z])[\w'\-]+(\s+(?-i:[A-Z])[\w'\-]+){1,2}\s+is\s+(?!((a|an|the)\s+)?(former\b|ex-))(a|an|the)?\s*"
        r"([\w\-]+\s+){0,3}"
        r"(correspondent|editor|reporter|columnist|writer|presenter|commentator|contributor|blogger)\s+(for|at|of|with|on|to)\b.{0,100}",
        "an author credit (who wrote the piece)",
    ),
    (
        r"(subs|substitutes)(\s+not\s+used)?\s*:\s*(?-i:[A-Z])[^:]{0,150}"
        r"|(booked|sent off|line-?ups?)\s*:\s*(?-i:[A-Z])[\w'\-]+(\s+(?-i:[A-Z])[\w'\-]+)*(\s*,\s*(?-i:[A-Z])[\w'\-\s]+)*"
        r"|(goals?|scorers?)\s*:\s*(?-i:[A-Z])[\w'\-]+(\s+(?-i:[A-Z])[\w'\-]+)*\s+\d+.{0,120}"
        r"|(att|attendance)\s*:\s*[\d,]+(\s+ref(eree)?\s*:.{0,60})?"
        r"|ref(eree)?\s*:\s*(?-i:[A-Z])\w*\s+(?-i:[A-Z])[\w'\-]+.{0,60}",
        "a match-sheet line (substitutes, bookings, scorers, attendance)",
    ),
    (
        r"(image|photo|picture|video)\s*(copyright|caption|credit|source)\s*[:|]?.{0,100}"
        r"|(photo|image|picture)\s*:.{0,100}|.{0,100}\((photo|image|picture|file photo)\b.{0,60}\)",
        "a picture caption or credit",
    ),
    (
        r"(published|updated|posted|last (updated|modified))\s*(on|at|:)\s*[\w ,:.\-/]{0,30}\d[\w ,:.\-/]{0,30}",
        "a date stamp",
    ),
    (
        r"(?=.{0,110}$)((posted|submitted|written|added)\s+)?by\s*:?\s*[^|\n]{1,50}?\s*(at|on|\||,|-|–)\s*[^|\n]{0,30}?"
        r"(\b(19|20)\d{2}\b|\b\d{1,2}:\d{2}|\b\d{1,2}/\d{1,2}/\d{2,4}\b)"
        r"(\s*(\d{1,2}:\d{2}(:\d{2})?|[ap]\.?m\.?|[a-z]{2}t|utc|gmt|reply|actions|recs?|up|via mobile|\d+)\b)*"
        r"(\s*\|\s*[\w()' ]{1,25}){0,4}",
        "a byline with a time stamp (of a post or a reader's comment)",
    ),
    (
        r"reply(\s*delete)?|report\s+(post|abuse|this\s+comment)|permalink|trackbacks?(\s*\(\d+\))?|comment\s+no\.?\s*\d+",
        "a comment control (reply, report, permalink)",
    ),
    (r"(home|menu|search|login|log in|sign in|skip to (main )?content|back to top|next|previous)", "a navigation link"),
    (r"(comments?|leave a (comment|reply)|\d+\s+comments?|show comments)", "a comments link"),
    (r"(tags?|topics?|categor(y|ies)|filed under)\s*:.{0,120}", "a tag list"),
)

_PATTERNS = tuple((re.compile(r"\s*(?:" + p + r")\s*[.:!|>»›\-–—]*\s*", re.IGNORECASE), why) for p, why in BOILERPLATE_RULES)


def boilerplate_verdict(text: str) -> Verdict | None:
    """A `boilerplate` verdict when one rule covers the whole sentence, else None."""
    if len(text) > _MAX_CHARS:
        return None
    for pattern, why in _PATTERNS:
        if pattern.fullmatch(text):
            return Verdict("boilerplate", f"Looks like {why}, not article text: {text.strip()!r}.")
    return None

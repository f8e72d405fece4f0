"""Boilerplate: navigation, share and subscribe prompts, cookie notices, bylines, captions.

Rules are whole-line patterns over the sentence, each with the explanation it gives, so a
curator can see which rule fired. A sentence is boilerplate only when the pattern covers it
all (plus a little punctuation): "Related news" is, a sentence that mentions news is not.
Generic rules ("Next", "Comments", "By Jane Doe") may be withdrawn by the line model when it
reads the line as article text; the news conventions in fixed words (`CONVENTION_RULES`:
picture credits, date stamps, contributor and contact lines, calls to action) are firm. A line
that ends in a picture credit is a caption, all of it (`caption_verdict`).
"""

from __future__ import annotations

import re

from coherence.verdict import Verdict

__all__ = ["BOILERPLATE_RULES", "CONVENTION_RULES", "boilerplate_verdict", "caption_verdict"]

_MAX_CHARS = 160  # boilerplate lines are short; long sentences are content

# Pieces the rules below share. Photo agencies and wires as picture credits name them
# ("Jim Watson/AFP/Getty Images", "(AP Photo/Evan Vucci)").
_AGENCY = (
    r"(getty\s*images(\s+news)?|afp|ap|reuters|epa(-efe)?|shutterstock|istock(photo)?|alamy|bloomberg|pa(\s+(images|wire|media))?"
    r"|xinhua|upi|zuma(\s+(press|wire))?|sipa(\s+usa)?|nurphoto|sopa\s+images|lightrocket|anadolu(\s+agency)?|corbis"
    r"|wireimage|filmmagic|tns|(the\s+)?associated\s+press|dpa|ansa|kyodo|imago|rex(\s+features)?)"
)
_AGENCIES = _AGENCY + r"(\s*/\s*" + _AGENCY + r")*"  # "AFP/Getty Images"
_MONTH = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*"
_NAME = r"(?-i:[A-Z])[\w.'’\-]+(\s+(?-i:[A-Z])[\w.'’\-]+){0,3}"  # a capitalised name of up to four words
_NAMES = _NAME + r"((\s*,\s*(and\s+)?|\s+and\s+|\s*&\s*)" + _NAME + r")*(\s+in\s+" + _NAME + r")?"
_CONTACT = r"([\w.+\-]+@[\w\-]+(\.[\w\-]+)+|@\w{2,15}|\+?\d[\d ().\-]{6,19})"  # an e-mail, a handle, a number
_NETWORK = r"(twitter|facebook|instagram|linkedin|tiktok|youtube|threads|bluesky|mastodon|x)"

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
        r"(sign\s+up|subscribe|register)\b.{0,80}(newsletters?|updates|today|now|free|here|alerts|inbox)\b.{0,40}"
        r"|(subscribe|sign\s+up)(\s+now|\s+today)?|newsletters?\s+sign[\s-]?up",
        "a subscription prompt",
    ),
    (
        r".{0,60}\b(use|uses|using)\s+cookies\b.{0,100}"
        r"|.{0,40}\b(accept|allow|reject|manage|use of)\s+(all\s+)?cookies\b.{0,60}"
        r"|(privacy policy|terms of (use|service)|cookie (policy|settings|preferences))"
        r"|by (signing up|subscribing|registering|clicking|continuing)\b.{0,80}(privacy policy|terms( of (use|service))?)\b.{0,60}",
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
    (
        r"(home|menu|search|login|log in|sign in|skip to (main )?content|back to top|next|previous|close|loading"
        r"|show more|load more|see all|view all)",
        "a navigation link",
    ),
    (r"(comments?|leave a (comment|reply)|\d+\s+comments?|show comments)", "a comments link"),
    (r"(tags?|topics?|categor(y|ies)|filed under)\s*:.{0,120}", "a tag list"),
)

# News conventions in fixed words (picture credits, date stamps, contributor and contact lines,
# calls to action, age notices, labelled links to other stories): whole-line patterns like the
# rules above, but firm: the line model, fitted on pages whose gold often keeps such lines,
# does not withdraw them. On 8,000 articles of ../shared/data/news they hit about 5,000 sentences
# the generic rules left alone (read as leftovers in samples); on the 2,225 BBC articles, none.
# A bare credit in brackets ("(Mike Blake/Reuters)") and "With assistance by ..." (2026-12-07) hit
# 190 more sentences of 8,000 news train articles, every one a credit in a sample, none of BBC's.
CONVENTION_RULES: tuple[tuple[str, str], ...] = (
    (
        r"(image|photo|picture|video)\s*(copyright|caption|credit|source)\s*[:|]?.{0,100}"
        r"|(photo|image|picture)\s*:.{0,100}|.{0,100}\((photo|image|picture|file photo)\b.{0,60}\)"
        r"|\(?\s*(" + _AGENCY + r"\s+)?(photo(graph)?s?|images?|pictures?|file photo|video)\s*(/|:|by\b)\s*[^()]{1,80}\)?"
        r"|(enlarge this image\s*)?(toggle|hide|show)\s+caption\b.{0,140}|enlarge this image\b.{0,140}"
        r"|((caption|credit|source)\s*:?\s*)?([\w.'’\- ]{0,50}/\s*" + _AGENCIES
        + r"(\s+via\s+getty\s*images)?(,\s*file)?\s*){1,3}"
        r"|\(\s*" + _NAME + r"\s*/\s*" + _AGENCIES + r"\s*\)",
        "a picture caption or credit",
    ),
    (
        r"(published|updated|posted|last (updated|modified)|first published)\s*((on|at|:)\s*[\w ,.\-/|]{0,30}|((mon|tues?|wed(nes)?|thu(rs)?|fri|sat(ur)?|sun)(day)?,?\s+)?)"
        r"(\b(19|20)\d{2}\b|\b\d{1,2}:\d{2}|\b\d{1,2}/\d{1,2}(/\d{2,4})?\b|\b" + _MONTH + r"\.?\s+\d{1,2}\b|\b\d{1,2}\s+" + _MONTH + r")"
        r"[\w ,:.\-/|]{0,40}",
        "a date stamp",
    ),
    (
        r"contributing\s*:.{1,120}|additional reporting\s+by\b.{1,100}|[—–-]?\s*with\s+assistance\s+(by|from)\s+" + _NAMES
        + r"|(reporting|writing|editing|compiled)\s+by\s+" + _NAMES + r"(\s*[;,]\s*(additional reporting|reporting|writing|editing)\s+by\s+" + _NAMES + r")*"
        r"|.{0,120}\bcontributed( reporting)? to this (report|story|article)",
        "a contributor credit (who reported the piece)",
    ),
    (
        r"(e-?mail|contact|tel|telephone|phone|fax|twitter)\s*:?\s*" + _CONTACT + r"(\s*[,|;/]\s*" + _CONTACT + r")*",
        "a contact line (an e-mail address, a handle or a number after its label)",
    ),
    (
        r"follow\s+@\w+|support\s+(our|(?-i:[A-Z])[\w.]*('s|’s))\s+([\w\-]+\s+){0,2}journalism"
        r"|(follow|find|like|connect with)\s+(us|him|her|them|me|@\w+|" + _NAME + r")\s+on\s+" + _NETWORK
        + r"((\s*,\s*|\s+and\s+|\s+or\s+)" + _NETWORK + r")*(\s*(at|:)?\s*@\w+)?"
        r"|download\s+(our|the)\s+.{0,40}\bapps?\b.{0,60}|listen\s+live\b.{0,40}"
        r"|(get|receive)\b.{0,60}\b(delivered\s+)?(to|in)\s+your\s+inbox\b.{0,40}|(have|got)\s+a\s+(news\s+)?tip\b.{0,80}"
        r"|(read|share)\s+(or|and)\s+(share|read)\s+this\s+(story|article)\b.{0,80}",
        "a call to action (follow, download, listen, send a tip)",
    ),
    (r"this (article|story|content|page) is (more|over) than .{1,25}\bold", "a notice of the article's age"),
    (
        r"(advertisement\s*)?(continue reading( (below|the main story|the story|this article))?"
        r"|(the )?(story|article) continues( below)?|(story|article) continued below)",
        "a continuation marker (the page went on below an advertisement)",
    ),
    (
        r"((prev|previous|next)\s+)?(image|photo|picture|slide)\s+\d+\s+(of|/)\s+\d+|slide\s*show\s*\(\d+\s+(images|photos|pictures)\)"
        r"|\d+\s+of\s+\d+\s+(images|photos|pictures)",
        "a picture gallery control",
    ),
    (
        r"(related|more|read more|also read|read also|see also|don'?t miss|must read|recommended|trending|more from \w+)"
        r"\s*:\s*(?!\S*(https?://|www\.))\S.{8,140}",
        "a labelled link to another story (a teaser)",
    ),
)

_PATTERNS = tuple(
    (re.compile(r"\s*(?:" + p + r")\s*[.:!|>»›\-–—]*\s*", re.IGNORECASE), why, firm)
    for rules, firm in ((CONVENTION_RULES, True), (BOILERPLATE_RULES, False))
    for p, why in rules
)


def boilerplate_verdict(text: str) -> Verdict | None:
    """A `boilerplate` verdict when one rule covers the whole sentence, else None."""
    if len(text) > _MAX_CHARS:
        return None
    for pattern, why, firm in _PATTERNS:
        if pattern.fullmatch(text):
            return Verdict("boilerplate", f"Looks like {why}, not article text: {text.strip()!r}.", firm=firm)
    return None


# A line that ends in a picture credit is a caption, every sentence of it: "Voters wait at the
# polls in Grand Rapids, Mich., on Nov. 8, 2016. (Photo: Cory Morse/The Grand Rapids Press via AP)"
_CREDIT_AT_END = re.compile(
    r"\((" + _AGENCY + r"\s+)?(photo(graph)?|image|picture|file photo)s?\b[^()]{0,80}\)\s*$", re.IGNORECASE
)
_MAX_CAPTION_CHARS = 500  # a longer line is a paragraph that happens to end in a credit


def caption_verdict(line: str) -> Verdict | None:
    """A `boilerplate` verdict for the sentences of a line that ends in a picture credit, else None."""
    if len(line) > _MAX_CAPTION_CHARS:
        return None
    credit = _CREDIT_AT_END.search(line)
    if credit is None:
        return None
    return Verdict("boilerplate", f"Part of a picture caption: its line ends in the credit {credit.group(0).strip()!r}.", firm=True)

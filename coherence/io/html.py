"""HTML in: the article text of a web page, extracted by trafilatura at its defaults.

Text stays the main path; a page is extracted first and its text scored, so offsets in the
result refer to the extracted text, which the output keeps. trafilatura's defaults are what
corpus pipelines (datatrove, FineWeb) run, so what is left over here is what they keep.
"""

from __future__ import annotations

import re

from coherence.extras import require
from coherence.io.records import RecordError

__all__ = ["EXTRACTED_FIELD", "MARKUP_RATIO", "extract_article", "looks_like_html", "require_extractor"]

EXTRACTED_FIELD = "extracted_text"  # the output field that keeps the text a page was scored on
# A page may be this many times the article limit: markup, scripts and styles are most of a
# page (a news page of a few hundred KB holds an article of a few thousand characters), so the
# limit that means "not one article" applies to the extracted text, and the page gets room.
MARKUP_RATIO = 25
_HTML_START = re.compile(r"\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body)\b", re.IGNORECASE | re.DOTALL)


def looks_like_html(text: str) -> bool:
    """Whether a text is an HTML page (starts with a doctype or an html, head or body tag)."""
    return _HTML_START.match(text[:4096]) is not None


def require_extractor() -> None:
    """Fail early, with the extra to install, when trafilatura is missing.

    Raises:
        ImportError: trafilatura cannot be imported.
    """
    require("trafilatura", "html", "scoring HTML")


def extract_article(html: str) -> str:
    """The article text of an HTML page, one line per paragraph.

    Raises:
        RecordError: the page holds no article text trafilatura can find.
        ImportError: trafilatura is not installed (the message names the extra to install).
    """
    require_extractor()
    import trafilatura

    text = trafilatura.extract(html)
    if not text or not text.strip():
        raise RecordError("no article text found in the HTML")
    return text

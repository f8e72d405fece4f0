"""The form of a sentence: numbers, names, length, attribution.

Form is not evidence of a topic by itself, but it says how far the semantic evidence can be
trusted: a line of scores or a list of names sits far from any topic in embedding space while
belonging to the story, and a quoted remark is looser than a narrated fact. The intrusion model
weighs form and its interaction with the topic distance.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

__all__ = ["FORM_FEATURES", "sentence_form"]

FORM_FEATURES: tuple[str, ...] = (
    "digit_share",  # share of tokens that are numbers
    "capital_share",  # share of tokens that start with a capital letter
    "log_words",  # log of the number of tokens
    "attributed",  # 1 for a quotation or a reported remark ("..., he said.")
)
_TOKEN = re.compile(r"\w+", re.UNICODE)
_QUOTE_OPENERS = "\"'“‘«"
_ATTRIBUTION = re.compile(r"\b(said|says|told|added|asked|argued|explained|insisted)\b", re.IGNORECASE)


def sentence_form(texts: Sequence[str]) -> np.ndarray:
    """(n, len(FORM_FEATURES)) form of each sentence."""
    rows = []
    for text in texts:
        tokens = _TOKEN.findall(text)
        n = max(len(tokens), 1)
        attributed = text.lstrip().startswith(tuple(_QUOTE_OPENERS)) or _ATTRIBUTION.search(text) is not None
        rows.append(
            (
                sum(t[0].isdigit() for t in tokens) / n,
                sum(t[0].isupper() for t in tokens) / n,
                float(np.log(n)),
                float(attributed),
            )
        )
    return np.array(rows, dtype=float).reshape(len(texts), len(FORM_FEATURES))

"""Unanchored sentences: names and words of their own in an article whose sentences share theirs.

Most sentences of a news story that name something share a name with the rest (Syria, the
minister, the club). A sentence that names several things, none of which occurs anywhere
else, and none of whose informative words does either, is unanchored. How surprising that is
depends on the article: in a story where nearly every naming sentence is anchored it is strong
evidence of a stray line, in a match report listing players it is not. So the evidence fires
only where unanchored naming sentences are rare in the rest of the article (smoothed share),
which adapts it to the article instead of relying on a fixed count.

How far the sentence's meaning sits from the article's topic is left to the model that weighs
the evidence (`coherence.models.intrusion`), as a graded term: a hard "below the median
sentence" edge here made the evidence switch on and off when the vectors moved by 0.002.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from coherence.evidence.continuity import Continuity
from coherence.text.lexicon import WordEvidence

__all__ = ["Anchoring", "anchoring"]

MIN_NAMES = 2  # "several named entities" (whole names): one new name is ordinary news writing
MAX_SHARE = 0.05  # at most 1 in 20 of the other naming sentences may be unanchored too
MIN_CONFIDENCE = 0.75  # the sentence must carry substantial content of its own
MAX_SHARED_INFORMATION = 0.01  # share of its informative words that may recur elsewhere


@dataclass(frozen=True)
class Anchoring:
    """Per-sentence anchoring of one article."""

    unanchored: np.ndarray  # bool: the evidence fires for this sentence
    naming_sentences: int  # sentences that name something
    anchored_sentences: int  # of those, sentences sharing a name with the rest


def anchoring(
    links: Sequence[Continuity],
    words: Sequence[WordEvidence],
    confidence: np.ndarray,
) -> Anchoring:
    """Which sentences are unanchored in an article whose other sentences are anchored.

    A sentence qualifies when it names at least `MIN_NAMES` things (whole names, so "Andrew
    Fastow" is one) and shares none of them,
    shares (almost) none of its informative words, does not open with a pronoun that points
    back to the article ("He joins Jonny Wilkinson ..." is anchored by its "He"), carries
    `MIN_CONFIDENCE`, and at most `MAX_SHARE` of the article's other naming sentences are
    unanchored in the same way (Laplace-smoothed).
    """
    n = len(links)
    if n == 0:
        return Anchoring(np.zeros(0, dtype=bool), 0, 0)
    novel = np.array([c.novel_mentions for c in links])
    shared = np.array([len(c.shared_entities) for c in links])
    naming = (novel + shared) > 0
    loose = (novel >= MIN_NAMES) & (shared == 0)
    share_elsewhere = (loose.sum() - loose + 0.5) / (naming.sum() - naming + 1.0)
    shared_information = np.array([c.lexical for c in links])
    refers_back = np.array([w.refers_back for w in words], dtype=bool)
    unanchored = (
        loose
        & ~refers_back
        & (share_elsewhere <= MAX_SHARE)
        & (shared_information <= MAX_SHARED_INFORMATION)
        & (confidence >= MIN_CONFIDENCE)
    )
    return Anchoring(unanchored, int(naming.sum()), int((naming & (shared > 0)).sum()))

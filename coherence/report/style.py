"""Colours and marks shared by the figures and the pages, chosen to read without colour.

Scores run from orange (low: does not fit) through white to purple (fits): the two ends
differ in lightness as well as hue, so they stay apart for colour-blind readers and in grey
print. Each flag reason has its own colour (Okabe-Ito), marker shape and written label, so no
reason is told by colour alone.
"""

from __future__ import annotations

from typing import Any

from coherence.verdict import Reason

__all__ = ["FAIL_COLOUR", "PASS_COLOUR", "REASON_COLOURS", "REASON_LABELS", "REASON_MARKERS", "SCORE_COLOURS", "score_colour", "score_colourmap"]

# Low score to high score: orange, light, purple (ColorBrewer PuOr, colour-blind safe).
SCORE_COLOURS: tuple[str, ...] = ("#b35806", "#f1a340", "#fee0b6", "#f7f7f7", "#d8daeb", "#998ec3", "#542788")

PASS_COLOUR, FAIL_COLOUR = "#8073ac", "#e08214"  # the two sides of the gate, from the same scale

REASON_COLOURS: dict[Reason, str] = {
    "off_topic": "#D55E00",
    "boilerplate": "#0072B2",
    "duplicate": "#CC79A7",
    "fragment": "#4D4D4D",
}
REASON_MARKERS: dict[Reason, str] = {"off_topic": "X", "boilerplate": "s", "duplicate": "D", "fragment": "^"}
REASON_LABELS: dict[Reason, str] = {
    "off_topic": "off-topic",
    "boilerplate": "boilerplate",
    "duplicate": "duplicate",
    "fragment": "fragment",
}


def _rgb(colour: str) -> tuple[float, float, float]:
    return tuple(int(colour[k : k + 2], 16) / 255 for k in (1, 3, 5))  # type: ignore[return-value]


def score_colour(score: float) -> str:
    """The hex colour of a score in [0, 1] on the orange-white-purple scale."""
    score = min(max(float(score), 0.0), 1.0)
    position = score * (len(SCORE_COLOURS) - 1)
    k = min(int(position), len(SCORE_COLOURS) - 2)
    t = position - k
    low, high = _rgb(SCORE_COLOURS[k]), _rgb(SCORE_COLOURS[k + 1])
    return "#" + "".join(f"{round(255 * (a + t * (b - a))):02x}" for a, b in zip(low, high))


def score_colourmap() -> Any:
    """The score scale as a matplotlib colormap (imports matplotlib)."""
    from matplotlib.colors import LinearSegmentedColormap

    return LinearSegmentedColormap.from_list("coherence_score", list(SCORE_COLOURS))

"""Companion flags: in an article that already has an off_topic flag, lines scored below
`companion_threshold` are flagged with it; which articles carry a flag stays the gate's call."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import ARTICLE_NAMES

from coherence.verdict import off_topic_flags


def test_companions_only_in_an_article_the_gate_flags():
    scores = np.array([0.9, 0.05, 0.3, 0.45, 0.6])
    eligible = np.ones(5, dtype=bool)
    gate, companion = off_topic_flags(scores, eligible, cut=0.1, companion_cut=0.5)
    assert gate.tolist() == [False, True, False, False, False]
    assert companion.tolist() == [False, False, True, True, False]
    # the same scores without the gate's line: nothing at all
    gate, companion = off_topic_flags(scores[[0, 2, 3, 4]], eligible[:4], cut=0.1, companion_cut=0.5)
    assert not gate.any() and not companion.any()


def test_companions_respect_eligibility_and_can_be_turned_off():
    scores = np.array([0.05, 0.2, 0.3])
    eligible = np.array([True, False, True])
    gate, companion = off_topic_flags(scores, eligible, cut=0.1, companion_cut=0.5)
    assert companion.tolist() == [False, False, True]  # the ineligible line is never flagged
    for off in (None, 0.1, 0.05):  # None, or a companion cut no looser than the gate's
        gate, companion = off_topic_flags(scores, eligible, cut=0.1, companion_cut=off)
        assert gate.tolist() == [True, False, False] and not companion.any()


def _stray_article(texts: dict[str, str]) -> str:
    """The rail strike story with three lines of the phone launch story planted in its body."""
    host = [p for p in texts["rail_strike.txt"].split("\n\n") if p.strip()]
    donor = [p for p in texts["phone_launch.txt"].split("\n\n") if p.strip()]
    lines = [p.split(". ")[0].rstrip(".") + "." for p in donor[1:4]]
    body = host[:2] + [lines[0]] + host[2:4] + lines[1:] + host[4:]
    return "\n\n".join(body)


def test_detector_flags_the_lines_between_the_cuts_as_companions(make_detector, article_texts):
    """With the gate set just above the lowest score, exactly the lines below the companion cut
    join it, each explained as a companion of the gate's line."""
    text = _stray_article(article_texts)
    base = make_detector().score(text)
    content = [i for i, s in enumerate(base.sentences) if s.reason in (None, "off_topic")]
    order = sorted(content, key=lambda i: base.sentences[i].score)
    lowest, second, third = (base.sentences[i].score for i in order[:3])
    assert lowest < second < third
    gate_cut = (lowest + second) / 2
    companion_cut = (second + third) / 2
    result = make_detector(off_topic_threshold=gate_cut, companion_threshold=companion_cut).score(text)
    flagged = [i for i, s in enumerate(result.sentences) if s.reason == "off_topic"]
    assert flagged == sorted(order[:2])
    assert "companion" not in result.sentences[order[0]].explanation
    assert f"companion of sentence {order[0] + 1}," in result.sentences[order[1]].explanation
    # the scores do not depend on the flags
    assert [s.score for s in result.sentences] == [s.score for s in base.sentences]
    # a gate below every score: no flag, however loose the companion cut
    quiet = make_detector(off_topic_threshold=lowest / 2, companion_threshold=1.0).score(text)
    assert not any(s.reason == "off_topic" for s in quiet.sentences)


@pytest.mark.parametrize("name", ARTICLE_NAMES)
def test_companions_never_change_which_articles_carry_a_flag(name, make_detector, article_texts):
    for rate in (0.02, 0.10, 0.30):
        alone = make_detector(flag_rate=rate, companion_threshold=None).score(article_texts[name])
        joined = make_detector(flag_rate=rate).score(article_texts[name])
        alone_flags = {i for i, s in enumerate(alone.sentences) if s.reason == "off_topic"}
        joined_flags = {i for i, s in enumerate(joined.sentences) if s.reason == "off_topic"}
        assert alone_flags <= joined_flags
        assert bool(alone_flags) == bool(joined_flags)


@pytest.mark.parametrize("bad", [-0.1, 1.5])
def test_companion_threshold_out_of_range_is_an_error(make_detector, bad):
    with pytest.raises(ValueError, match="companion_threshold"):
        make_detector(companion_threshold=bad).check_params()

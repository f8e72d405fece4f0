"""Thresholds chosen by target rate: the chosen cut must meet the rate, and be the highest that does."""

from __future__ import annotations

import numpy as np
import pytest

from coherence import ArticleResult, SentenceResult
from coherence.thresholds import coherence_threshold, off_topic_threshold, rate_table


def _article(coherence: float | None, scores: list[float] | None = None, reasons=None, confidences=None, error=None):
    scores = scores or []
    reasons = reasons or [None] * len(scores)
    confidences = confidences or [1.0] * len(scores)
    sentences = [
        SentenceResult(text=f"s{i}", start=None, end=None, score=s, reason=r, confidence=c, flagged=r is not None)
        for i, (s, r, c) in enumerate(zip(scores, reasons, confidences))
    ]
    return ArticleResult(coherence=coherence, passed=False, sentences=sentences, error=error)


def _fail_share(values, t):
    return float(np.mean(np.asarray(values) < t))


@pytest.mark.parametrize("rate", [0.0, 0.03, 0.05, 0.1, 0.5, 0.99])
def test_coherence_threshold_meets_rate_and_is_tight(rate):
    values = np.random.default_rng(3).uniform(0.4, 1.0, size=400)
    t = coherence_threshold([_article(float(v)) for v in values], rate)
    assert _fail_share(values, t) <= rate
    above = values[values > t]
    if len(above):  # the next higher value would fail too many
        assert _fail_share(values, above.min()) > rate


def test_coherence_threshold_with_ties_never_exceeds_rate():
    values = [0.5] * 10 + [0.9] * 90
    t = coherence_threshold([_article(v) for v in values], 0.05)
    assert _fail_share(values, t) <= 0.05
    assert t == 0.5  # failing the tied block would fail 10%


def test_rate_one_fails_everything():
    values = [0.2, 0.7, 1.0]
    t = coherence_threshold([_article(v) for v in values], 1.0)
    assert _fail_share(values, t) == 1.0


def test_error_records_are_left_out():
    records = [_article(0.9), _article(0.8), _article(None, error="empty text")]
    records_dicts = [r.to_dict() for r in records]
    assert coherence_threshold(records, 0.5) == 0.9
    assert coherence_threshold(records_dicts, 0.5) == pytest.approx(0.9 - 0.5e-4)  # rounded records


@pytest.mark.parametrize("trial", range(20))
def test_rounded_json_records_never_exceed_the_rate(trial):
    rng = np.random.default_rng(trial)
    articles = [_article(float(c), list(rng.uniform(0, 1, size=6))) for c in rng.uniform(0.5, 1.0, size=100)]
    records = [a.to_dict(sentences=True) for a in articles]
    gate = coherence_threshold(records, 0.05)
    assert np.mean([a.coherence < gate for a in articles]) <= 0.05
    cut = off_topic_threshold(records, 0.05)
    assert np.mean([any(s.score < cut for s in a.sentences) for a in articles]) <= 0.05


def test_duplicates_do_not_count_towards_off_topic():
    record = _article(0.9, [0.01, 0.9, 0.9, 0.9, 0.9], reasons=["duplicate", None, None, None, None])
    assert off_topic_threshold([record, _article(0.9, [0.5, 0.9, 0.9, 0.9])], 0.5) == pytest.approx(np.nextafter(0.9, 1.0))


def test_a_sample_that_can_never_be_flagged_is_an_error():
    with pytest.raises(ValueError, match="can carry an off_topic flag"):
        off_topic_threshold([_article(0.9, [0.1, 0.2]), _article(0.9, [0.3])], 0.05)


def test_off_topic_threshold_meets_flag_rate():
    rng = np.random.default_rng(5)
    records = [_article(0.9, list(rng.uniform(0.0, 1.0, size=rng.integers(4, 30)))) for _ in range(300)]
    for rate in (0.02, 0.1, 0.3):
        t = off_topic_threshold(records, rate)
        flagged = [any(s.score < t for s in r.sentences) for r in records]
        assert np.mean(flagged) <= rate
        assert np.mean([any(s.score <= t for s in r.sentences) for r in records]) > rate


def test_off_topic_threshold_ignores_sentences_the_detector_never_flags():
    low = 0.01
    records = [
        # a boilerplate line and a vague quote score low but can never be off_topic
        _article(0.9, [0.9, 0.9, 0.9, 0.9, low, low], reasons=[None] * 4 + ["boilerplate", None], confidences=[1] * 5 + [0.05]),
        _article(0.9, [low, 0.9, 0.9]),  # too short an article to flag anything
        _article(0.9, [0.5, 0.9, 0.9, 0.9]),
    ]
    # one of the three may be flagged: the cut rises to the first article's lowest eligible
    # score (0.9), not to its boilerplate or vague line, and never flags the short article
    assert off_topic_threshold(records, 0.34) == 0.9
    assert off_topic_threshold(records, 0.67) == pytest.approx(np.nextafter(0.9, 1.0))


def test_off_topic_threshold_reads_the_fit_the_cut_applies_to():
    """A line's score is capped by its leftover probability, but the off_topic cut reads its
    fit; a flag of the line model (evidence "leftover") comes whatever the cut, and its line
    does not count towards the article's sentences."""

    def article(fits, scores, reasons=None, evidence=None):
        reasons, evidence = reasons or [None] * len(fits), evidence or [None] * len(fits)
        return ArticleResult(0.9, False, [
            SentenceResult(f"s{i}", None, None, score=sc, fit=f, reason=r, evidence=e, flagged=r is not None)
            for i, (f, sc, r, e) in enumerate(zip(fits, scores, reasons, evidence))
        ])  # fmt: skip

    capped = article([0.9, 0.9, 0.9, 0.9, 0.8], [0.9, 0.9, 0.9, 0.9, 0.05])  # a caption-like line, fitting the topic
    plain = article([0.5, 0.9, 0.9, 0.9], [0.5, 0.9, 0.9, 0.9])
    for records in ([capped, plain], [capped.to_dict(sentences=True), plain.to_dict(sentences=True)]):
        assert off_topic_threshold(records, 0.5) == pytest.approx(0.8, abs=1e-4)  # not 0.05: that line's score is not what the cut reads
    teaser = article([0.9, 0.9, 0.9, 0.2], [0.9, 0.9, 0.9, 0.2], reasons=[None, None, None, "off_topic"], evidence=[None, None, None, "leftover"])
    with pytest.raises(ValueError, match="can carry an off_topic flag"):  # three sentences left to the topic model
        off_topic_threshold([teaser], 0.5)


def test_off_topic_threshold_needs_sentences_in_dict_records():
    with pytest.raises(ValueError, match="sentences"):
        off_topic_threshold([_article(0.9, [0.5] * 5).to_dict()], 0.1)
    record = _article(0.9, [0.5, 0.6, 0.7, 0.8]).to_dict(sentences=True)
    assert off_topic_threshold([record], 0.0) == pytest.approx(0.5 - 0.5e-4)  # half a rounding step lower


@pytest.mark.parametrize("rate", [-0.1, 1.5])
def test_rate_must_be_a_share(rate):
    with pytest.raises(ValueError, match="rate"):
        coherence_threshold([_article(0.5)], rate)


def test_no_records_is_an_error():
    with pytest.raises(ValueError, match="no scored records"):
        coherence_threshold([], 0.1)


def test_rate_table():
    assert rate_table([0.1, 0.5, 0.9, float("nan")], [0.0, 0.5, 1.0]) == [(0.0, 0.0), (0.5, 1 / 3), (1.0, 1.0)]


def test_chosen_off_topic_threshold_holds_on_the_detector(make_detector, article_texts, detector):
    """End to end: the cut picked from scored articles gives the Detector that flag rate."""
    results = [detector.score(t) for t in article_texts.values()]
    for rate in (0.0, 0.5):
        t = off_topic_threshold(results, rate, min_confidence=detector.min_confidence, min_sentences=detector.min_sentences)
        rescored = [make_detector(off_topic_threshold=t).score(text) for text in article_texts.values()]
        share = np.mean([r.counts["off_topic"] > 0 for r in rescored])
        assert share <= rate

"""The reader model as shipped: built into the cache from the bundled weights and the adapters,
read in windows, one verdict per sentence, the same whatever else is scored with it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from coherence import Detector
from coherence.encoders.model_cache import cache_root
from coherence.encoders.reader_encoder import ReaderEncoder
from coherence.models.leftovers import PageReading
from coherence.models.reader import Adapters

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "flood_barrier.txt"
pytestmark = pytest.mark.skipif(Adapters.default() is None, reason="this checkout ships no reader adapters")


@pytest.fixture(scope="module")
def reader() -> ReaderEncoder:
    encoder = ReaderEncoder()
    encoder.prepare()
    return encoder


@pytest.fixture(scope="module")
def example_content() -> list[str]:
    prepared = Detector()._prepare(EXAMPLE.read_text())
    return prepared.content_texts


def test_built_in_the_cache_from_shipped_adapters(reader: ReaderEncoder) -> None:
    assert reader.built_ is not None and cache_root() in reader.built_.path.parents
    again = ReaderEncoder().prepare()
    assert not again.built and again.path == reader.built_.path  # built once


def test_one_logit_per_sentence_and_the_stray_line_read_as_stray(reader: ReaderEncoder, example_content: list[str]) -> None:
    logits = reader.logits(example_content)
    assert logits.shape == (len(example_content),) and np.isfinite(logits).all()
    stray = next(i for i, t in enumerate(example_content) if "Nowak" in t)  # the example's planted football line
    assert int(np.argmax(logits[1:])) + 1 == stray
    assert reader.logits([]).shape == (0,)


def test_a_sentence_is_read_the_same_in_any_batch(reader: ReaderEncoder, example_content: list[str]) -> None:
    alone = reader.logits(example_content)
    reader.logits(["Another article entirely.", "It has nothing to do with floods."])
    np.testing.assert_array_equal(reader.logits(example_content), alone)


def test_wanting_every_sentence_reads_as_no_mask(reader: ReaderEncoder, example_content: list[str]) -> None:
    every = np.ones(len(example_content), dtype=bool)
    np.testing.assert_array_equal(reader.start(example_content, every)(), reader.logits(example_content))
    one = np.zeros(len(example_content), dtype=bool)
    one[-1] = True  # the last sentence's windows only: some sentences go unread
    partial = reader.start(example_content, one)()
    assert np.isfinite(partial[-1]) and np.isnan(partial).any()


def test_readings_started_together_give_each_article_its_own_logits(article_texts) -> None:
    """score_many starts the readings of a batch before it gathers any: windows of several
    articles then run side by side, and each article must still get what reading it alone gives."""
    reader = Detector().reader_for("article")
    articles = [[s for s in text.split(". ") if s] for text in article_texts.values()][:4]
    alone = [reader.logits(sentences) for sentences in articles]
    started = [reader.start(sentences) for sentences in articles]
    for expected, gather in zip(reversed(alone), reversed(started)):  # gathered last to first
        np.testing.assert_array_equal(gather(), expected)


def test_detector_with_the_reader_scores_alike_one_by_one_and_in_batch() -> None:
    text = EXAMPLE.read_text()
    detector = Detector(reader="always")
    one = detector.score(text)
    many = list(detector.score_many([text, "A short note. Nothing else here."]))
    assert [s.score for s in one.sentences] == [s.score for s in many[0].sentences]
    assert any(s.flagged and s.reason == "off_topic" and "Nowak" in s.text for s in one.sentences)


@pytest.mark.parametrize("whole", ["shipped", "never"])
def test_reader_auto_reads_the_windows_in_doubt_and_scores_them_as_always(article_texts, monkeypatch, whole: str) -> None:
    """reader="auto" reads the sentences in doubt with the windows that hold them (or, above the
    whole trigger, the whole article): those score as reading every article scores them, a
    sentence left unread as not reading does. `whole="never"` reads windows only, so that the
    fixtures, whose articles in doubt are all read whole by the shipped stack, test that path."""
    from dataclasses import replace

    from coherence.evidence.sentences import topic_evidence
    from coherence.verdict import off_topic_eligible

    auto = Detector()
    if auto.article_reading != "auto":
        pytest.skip("this checkout ships no trigger for reading articles in doubt")
    always, never = Detector(reader="always"), Detector(reader="never")
    model = never.intrusion_model
    stack = model.reader if whole == "shipped" else replace(model.reader, whole_trigger=None)
    if whole == "never":
        monkeypatch.setattr(type(model.reader), "wanted", _windows_only(type(model.reader).wanted))
    runner, read = auto.reader_for("article"), []
    original = runner.start
    monkeypatch.setattr(runner, "start", lambda texts, wanted=None: read.append(wanted) or original(texts, wanted))
    kinds, read_whole, left_unread = [], [], 0
    for text in article_texts.values():
        read.clear()
        result = auto.score(text)
        prepared = never._prepare(text)
        vectors = never._encode(prepared.content_texts)
        evidence = topic_evidence(prepared.content_texts, vectors)
        own = model.stronger(model.weighed_probability(evidence.features, vectors), evidence.features)
        eligible = off_topic_eligible(evidence.confidence, never.min_confidence, never.min_sentences)
        doubtful, wanted = stack.doubtful(own, eligible), stack.wanted(own, eligible)
        assert len(read) == int(doubtful.any())  # read when in doubt, and only then
        if read:
            assert read[0].tolist() == wanted.tolist()  # what is in doubt (or the whole article), and nothing else, is asked for
            read_whole.append(bool(wanted.all()))
        as_always, as_never = always.score(text), never.score(text)
        for k, i in enumerate(prepared.content):
            score = result.sentences[i].score
            assert score in (as_always.sentences[i].score, as_never.sentences[i].score)
            if doubtful[k]:
                assert score == as_always.sentences[i].score
            elif as_always.sentences[i].score != as_never.sentences[i].score and score == as_never.sentences[i].score:
                left_unread += 1
        kinds.append(bool(doubtful.any()))
    assert any(kinds) and not all(kinds)  # the fixtures hold both kinds
    assert all(read_whole) or left_unread > 0  # an article read by windows leaves some sentences unread
    if whole == "never":
        assert not any(read_whole) and left_unread > 0
    # the cut of the mixed scores is the operating point fitted for them, not either other one
    assert auto.off_topic_cut == pytest.approx(float(np.interp(auto.flag_rate, *zip(*stack.auto_operating_points))))


def _windows_only(wanted):
    """`ReaderStack.wanted` as a stack without a whole trigger reads."""
    from dataclasses import replace

    return lambda self, probability, eligible: wanted(replace(self, whole_trigger=None), probability, eligible)


PAGE = """Home | News | Sport | Weather
Council closes the old river bridge for a year of repairs
The council voted on Tuesday to close the old river bridge for a year while engineers replace its rusted supports.
Drivers will be sent along the ring road, which the council says adds about ten minutes to a trip across town.
Shops near the bridge fear the closure will keep customers away, and the council has promised a fund to help them.
Work is due to start in March, and the bridge should reopen to traffic in the spring of next year.
Related stories
Ten things to do in town this weekend
Share this article
Sign up for our daily newsletter
Copyright 2019 Town Gazette. All rights reserved."""


@pytest.mark.skipif(Adapters.default("page") is None, reason="this checkout ships no page reader adapters")
def test_the_page_reader_reads_furniture_as_leftover_and_the_detector_uses_it() -> None:
    lines = PAGE.splitlines()
    page_reader = ReaderEncoder(kind="page")
    logits = page_reader.logits(lines)
    assert logits.shape == (len(lines),) and np.isfinite(logits).all()
    prose = [i for i, line in enumerate(lines) if line.endswith(".") and len(line.split()) > 12]
    furniture = [0, 6, 7, 8, 9]
    assert logits[furniture].min() > logits[prose].max()
    detector = Detector()  # page_reader="auto": the trees see furniture here, so the page is read
    assert detector.uses_page_reader and not Detector(page_reader="never").uses_page_reader
    assert detector.page_reading().cut != detector.leftover_cut  # the stack's own cut
    one = detector.score(PAGE)
    many = list(detector.score_many([PAGE, "A short note. Nothing else here."]))
    assert [s.score for s in one.sentences] == [s.score for s in many[0].sentences]
    assert not any(s.flagged for s in one.sentences if s.text in {lines[i] for i in prose})
    always = Detector(page_reader="always").score(PAGE)
    assert [s.score for s in always.sentences] == [s.score for s in one.sentences]
    unread = Detector(page_reader="never").score(PAGE)
    assert [s.score for s in unread.sentences] != [s.score for s in one.sentences]


def test_clean_prose_is_not_read_by_the_page_reader_on_auto(monkeypatch) -> None:
    prose = [line for line in EXAMPLE.read_text().splitlines() if len(line.split()) > 8 and line.endswith(".")]
    text = "\n".join(prose)  # the example without its furniture (share button, related stories)
    never = Detector(page_reader="never").score(text)
    auto = Detector()

    def refuse(lines):
        raise AssertionError("the page reader read clean prose")

    monkeypatch.setattr(auto, "page_reading", lambda: PageReading(refuse, cut=0.5))
    assert [s.score for s in auto.score(text).sentences] == [s.score for s in never.sentences]

"""The public contract of Detector and its results (DESIGN.md), and behaviour on planted articles."""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence

import numpy as np
import pytest
from conftest import ARTICLE_NAMES, CLEAN_NAMES, PLANTED_NAMES

from coherence import ArticleResult, Detector, SentenceResult
from coherence.verdict import REASONS

RECORD_KEYS = {"id", "coherence", "passed", "n_sentences", "n_flagged", "flags", "error"}
SPAN_KEYS = {"start", "end", "reason", "score", "text"}


def describe(result: ArticleResult) -> str:
    """Every sentence with its score and flag, for assertion messages."""
    return "\n".join(
        f"  {i:>2} score={s.score:.3f} reason={s.reason} | {s.text[:90]}" for i, s in enumerate(result.sentences, 1)
    )


def check_sentences(result: ArticleResult, text: str | None) -> None:
    """Field types and ranges of every SentenceResult; offsets exact when the input was text."""
    assert isinstance(result.sentences, list) and result.sentences
    prev_end = 0
    for s in result.sentences:
        assert isinstance(s, SentenceResult)
        assert isinstance(s.text, str) and s.text.strip()
        assert isinstance(s.score, float) and 0.0 <= s.score <= 1.0
        assert type(s.flagged) is bool
        assert s.reason is None or s.reason in REASONS
        assert s.flagged == (s.reason is not None)
        if s.flagged:
            assert isinstance(s.explanation, str) and s.explanation.strip()
        else:
            assert s.explanation is None
        if text is None:
            assert s.start is None and s.end is None
        else:
            assert type(s.start) is int and type(s.end) is int
            assert text[s.start : s.end] == s.text
            assert prev_end <= s.start < s.end
            prev_end = s.end


# -- score(): types, ranges, offsets ------------------------------------------------------------


@pytest.mark.parametrize("name", ARTICLE_NAMES)
def test_score_text_result_fields(name, scored, article_texts):
    result, text = scored[name], article_texts[name]
    assert isinstance(result, ArticleResult)
    assert isinstance(result.coherence, float) and 0.0 <= result.coherence <= 1.0
    assert type(result.passed) is bool
    assert result.error is None
    check_sentences(result, text)


@pytest.mark.parametrize("name", ARTICLE_NAMES)
def test_sentences_cover_all_text(name, scored, article_texts):
    """No text is dropped: every non-space character is inside exactly one sentence."""
    text = article_texts[name]
    covered = [0] * len(text)
    for s in scored[name].sentences:
        for i in range(s.start, s.end):
            covered[i] += 1
    assert all(covered[i] == 1 for i, ch in enumerate(text) if not ch.isspace())


def test_score_presplit_sentences(detector):
    sentences = [
        "The city council approved a new budget for public libraries on Monday.",
        "  The budget adds 2 million pounds for longer opening hours.  ",
        "Three libraries closed last year will reopen in the spring.",
        "Council leader Ann Moss said libraries were a lifeline for older residents.",
        "Opposition councillors said the money should have gone to road repairs.",
    ]
    result = detector.score(sentences)
    assert isinstance(result, ArticleResult)
    assert 0.0 <= result.coherence <= 1.0
    assert type(result.passed) is bool
    # Pre-split input is taken as given: one result per sentence, no re-splitting, no offsets.
    assert [s.text for s in result.sentences] == [s.strip() for s in sentences]
    check_sentences(result, None)


def test_presplit_tuple_is_accepted(detector):
    result = detector.score(("A new bridge opened in Dunmore.", "It cost 40 million pounds to build."))
    assert len(result.sentences) == 2
    assert all(s.start is None and s.end is None for s in result.sentences)


@pytest.mark.parametrize(
    ("bad", "error"),
    [(None, TypeError), (42, TypeError), ([1, 2], TypeError), ("", ValueError), ("  \n\t ", ValueError), ([], ValueError)],
    ids=["None", "int", "list-of-int", "empty", "whitespace", "empty-list"],
)
def test_score_rejects_bad_input(detector, bad, error):
    with pytest.raises(error):
        detector.score(bad)


# -- the quality gate -----------------------------------------------------------------------------


def test_passed_follows_default_threshold(detector, scored):
    for result in scored.values():
        assert result.passed == (result.coherence >= detector.threshold)


@pytest.mark.parametrize("name", ARTICLE_NAMES)
def test_threshold_flips_passed(name, scored, article_texts, make_detector):
    coherence = scored[name].coherence
    lenient = make_detector(threshold=coherence - 0.01).score(article_texts[name])
    strict = make_detector(threshold=coherence + 0.01).score(article_texts[name])
    assert lenient.coherence == pytest.approx(coherence) == strict.coherence
    assert lenient.passed is True
    assert strict.passed is False


# -- to_dict(): the output record ---------------------------------------------------------------


@pytest.mark.parametrize("name", ARTICLE_NAMES)
def test_to_dict_schema(name, scored, article_texts):
    result, text = scored[name], article_texts[name]
    record = json.loads(json.dumps(result.to_dict()))
    assert RECORD_KEYS <= set(record)
    assert record["error"] is None
    assert isinstance(record["coherence"], float) and 0.0 <= record["coherence"] <= 1.0
    assert record["coherence"] == pytest.approx(result.coherence, abs=1e-4)
    assert record["passed"] is result.passed
    assert record["n_sentences"] == len(result.sentences)
    assert record["n_flagged"] == len(record["flags"]) == sum(s.flagged for s in result.sentences)
    assert isinstance(record["flags"], list)
    flagged = [s for s in result.sentences if s.flagged]
    for span, sentence in zip(record["flags"], flagged):
        assert SPAN_KEYS <= set(span)
        assert span["reason"] in REASONS and span["reason"] == sentence.reason
        assert 0.0 <= span["score"] <= 1.0
        assert span["text"] == text[span["start"] : span["end"]] == sentence.text


def test_to_dict_with_sentences_is_json(scored):
    result = scored[PLANTED_NAMES[0]]
    record = json.loads(json.dumps(result.to_dict(sentences=True)))
    assert len(record["sentences"]) == record["n_sentences"]
    assert [s["text"] for s in record["sentences"]] == [s.text for s in result.sentences]


def test_to_dict_presplit_is_json(detector):
    result = detector.score(["One short sentence about rain in Leeds.", "Another about the rain.", "|"])
    record = json.loads(json.dumps(result.to_dict()))
    assert RECORD_KEYS <= set(record)
    assert all(span["start"] is None and span["end"] is None for span in record["flags"])


# -- score_many ---------------------------------------------------------------------------------


def test_score_many_keeps_every_record_in_order(detector, article_texts):
    good = [article_texts[name] for name in ARTICLE_NAMES[:2]]
    records = [good[0], None, 42, "", "   \n ", ["a sentence.", 7], b"bytes\x00", good[1]]
    results = list(detector.score_many(records))
    assert len(results) == len(records)
    assert [r.id for r in results] == list(range(len(records)))
    for record, result in zip(records, results):
        assert isinstance(result, ArticleResult)
        out = json.loads(json.dumps(result.to_dict()))
        assert RECORD_KEYS <= set(out)
        if record in good:
            assert result.error is None and out["error"] is None
            assert 0.0 <= result.coherence <= 1.0
        else:
            assert isinstance(result.error, str) and result.error.strip(), record
            assert out["error"] == result.error
            assert result.passed is False
            assert out["n_sentences"] == 0 and out["flags"] == []


def test_score_many_uses_given_ids(detector, article_texts):
    ids = ["a", "b", "c"]
    records = [article_texts[CLEAN_NAMES[0]], None, article_texts[PLANTED_NAMES[0]]]
    assert [r.id for r in detector.score_many(records, ids=ids)] == ids


def test_score_many_accepts_a_generator_and_streams(make_detector, article_texts):
    consumed = []

    def records():
        for name in ARTICLE_NAMES:
            consumed.append(name)
            yield article_texts[name]

    det = make_detector(articles_per_batch=1)
    stream = det.score_many(records())
    first = next(stream)
    assert first.error is None
    assert len(ARTICLE_NAMES) > 2
    # the chunk yielded from and the one prepared while it was embedded, nothing more
    assert len(consumed) <= 2, "score_many read more than one chunk ahead before yielding"
    assert len([first, *stream]) == len(ARTICLE_NAMES)


def assert_same_result(a: ArticleResult, b: ArticleResult) -> None:
    assert a.coherence == pytest.approx(b.coherence, abs=1e-5)
    assert a.passed == b.passed
    assert [s.text for s in a.sentences] == [s.text for s in b.sentences]
    assert [(s.start, s.end) for s in a.sentences] == [(s.start, s.end) for s in b.sentences]
    assert np.allclose([s.score for s in a.sentences], [s.score for s in b.sentences], atol=1e-5)
    assert [s.reason for s in a.sentences] == [s.reason for s in b.sentences]


@pytest.mark.parametrize("articles_per_batch", [64, 2])
def test_score_many_matches_score(make_detector, scored, article_texts, articles_per_batch):
    det = make_detector(articles_per_batch=articles_per_batch)
    texts = [article_texts[name] for name in ARTICLE_NAMES]
    batched = list(det.score_many(texts))
    assert len(batched) == len(texts)
    for name, result in zip(ARTICLE_NAMES, batched):
        assert_same_result(result, scored[name])


def test_deterministic(detector, article_texts):
    for name in ARTICLE_NAMES:
        first = detector.score(article_texts[name]).to_dict(sentences=True)
        second = detector.score(article_texts[name]).to_dict(sentences=True)
        assert first == second, name
    texts = [article_texts[name] for name in ARTICLE_NAMES]
    once = [r.to_dict(sentences=True) for r in detector.score_many(texts)]
    twice = [r.to_dict(sentences=True) for r in detector.score_many(texts)]
    assert once == twice


# -- behaviour on the planted articles ----------------------------------------------------------


def sentences_with_text(result: ArticleResult, text: str) -> list[SentenceResult]:
    return [s for s in result.sentences if s.text == text]


def assert_flagged_as(result: ArticleResult, text: str, reason: str) -> None:
    """`text` is segmented as exactly one sentence and flagged with `reason`."""
    found = sentences_with_text(result, text)
    assert len(found) == 1, f"{text!r} is not one sentence:\n{describe(result)}"
    assert found[0].reason == reason, (
        f"{text!r} not flagged {reason} (score {found[0].score:.3f}, reason {found[0].reason}):\n"
        f"{describe(result)}"
    )


@pytest.mark.parametrize("reason", ["off_topic", "boilerplate"])
@pytest.mark.parametrize("name", PLANTED_NAMES)
def test_planted_lines_are_flagged_with_their_reason(name, reason, scored, planted):
    """The planted stray sentence is off_topic, the planted navigation lines boilerplate."""
    for line in planted[name][reason]:
        assert_flagged_as(scored[name], line, reason)


@pytest.mark.parametrize("name", PLANTED_NAMES)
def test_planted_stray_sentence_scores_lowest(name, scored, planted):
    """Threshold-free: the stray sentence fits the topic worst of all sentences no rule flagged."""
    result = scored[name]
    stray = set(planted[name]["off_topic"])
    content = [s for s in result.sentences if s.reason in (None, "off_topic")]
    lowest = min(content, key=lambda s: s.score)
    assert lowest.text in stray, f"lowest-scoring sentence is not the stray one:\n{describe(result)}"


@pytest.mark.parametrize("name", PLANTED_NAMES)
def test_planted_no_other_sentence_off_topic(name, scored, planted):
    result = scored[name]
    wrong = [s for s in result.sentences if s.reason == "off_topic" and s.text not in planted[name]["off_topic"]]
    assert not wrong, f"on-topic sentences flagged off_topic:\n{describe(result)}"


@pytest.mark.parametrize("name", PLANTED_NAMES)
def test_planted_headline_copies_are_duplicates(name, scored, planted):
    result = scored[name]
    headline = planted[name]["headline"]
    copies = sentences_with_text(result, headline)
    assert len(copies) == 1 + len(planted[name]["duplicate"])
    assert result.sentences[0] is copies[0]
    assert not copies[0].flagged, f"first headline copy flagged {copies[0].reason}"
    assert [c.reason for c in copies[1:]] == ["duplicate"] * len(planted[name]["duplicate"])


@pytest.mark.parametrize("name", PLANTED_NAMES)
def test_planted_fragment_is_flagged_or_absorbed(name, scored, planted):
    result = scored[name]
    for piece in planted[name]["fragment"]:
        alone = sentences_with_text(result, piece)
        if alone:
            assert [s.reason for s in alone] == ["fragment"], describe(result)
        else:  # joined to a neighbouring sentence: then it must not stand out as off-topic junk
            hosts = [s for s in result.sentences if piece in s.text]
            assert hosts, f"fragment {piece!r} vanished"


@pytest.mark.parametrize("name", PLANTED_NAMES)
def test_removing_planted_lines_raises_coherence(name, scored, article_texts, planted, detector):
    spec = planted[name]
    lines, seen_headline = [], False
    for line in article_texts[name].splitlines():
        stripped = line.strip()
        if stripped == spec["headline"]:
            if seen_headline:
                continue
            seen_headline = True
        elif stripped in spec["boilerplate"] or stripped in spec["fragment"]:
            continue
        for stray in spec["off_topic"]:
            line = line.replace(" " + stray, "").replace(stray, "")
        lines.append(line)
    cleaned = detector.score("\n".join(lines))
    assert not any(s.flagged for s in cleaned.sentences), describe(cleaned)
    assert cleaned.coherence > scored[name].coherence


@pytest.mark.parametrize("name", CLEAN_NAMES)
def test_clean_article_has_no_off_topic_flag(name, scored):
    result = scored[name]
    assert not [s for s in result.sentences if s.reason == "off_topic"], describe(result)


@pytest.mark.parametrize("name", CLEAN_NAMES)
def test_clean_article_has_no_flags_and_passes(name, scored):
    result = scored[name]
    assert not result.flagged, describe(result)
    assert result.passed, f"coherence {result.coherence:.3f} below the default threshold"


# -- the pipeline with a fake encoder (no model) --------------------------------------------------

TOPIC = [
    "The Dunmore public library reopened on Saturday after a two-year renovation.",
    "The library's new reading room has space for 120 visitors and a children's corner.",
    "Librarians moved 80,000 books back onto the shelves over the past month.",
    "The renovation of the library cost the town council 4 million pounds.",
    "Head librarian Moira Quinn said visitor numbers on the first day beat every forecast.",
    "The library will now open until 9pm on weekdays, two hours later than before.",
    "A cafe on the ground floor of the library is run by volunteers.",
    "Local schools have booked weekly visits to the library's new study rooms.",
]
INTRUDER = "Cyclist Anna Berg won the Tour of Lindmark in Oslo after a late attack on the final climb."
DIM = 32


def unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v)).astype(np.float32)


class FakeEncoder:
    """Hand-made unit vectors: topic sentences cluster around one axis, the intruder is orthogonal.

    Topic vectors use only the first DIM - 1 axes; the intruder is the last axis, so its cosine
    with every topic sentence is exactly 0. Unknown texts get a seeded vector near the topic axis.
    """

    def __init__(self, intruder_like_topic: bool = False) -> None:
        rng = np.random.default_rng(7)
        axis = np.zeros(DIM)
        axis[0] = 1.0
        self.vectors = {}
        for text in TOPIC:
            noise = rng.normal(scale=0.25, size=DIM)
            noise[-1] = 0.0
            self.vectors[text] = unit(axis + noise)
        last = np.zeros(DIM)
        last[-1] = 1.0
        self.vectors[INTRUDER] = self.vectors[TOPIC[0]].copy() if intruder_like_topic else unit(last)
        self.calls: list[list[str]] = []

    def encode(self, sentences: Sequence[str]) -> np.ndarray:
        self.calls.append(list(sentences))
        out = []
        for text in sentences:
            if text not in self.vectors:
                rng = np.random.default_rng(zlib.crc32(text.encode("utf-8")))
                noise = rng.normal(scale=0.25, size=DIM)
                noise[0] += 1.0
                noise[-1] = 0.0
                self.vectors[text] = unit(noise)
            out.append(self.vectors[text])
        return np.stack(out) if out else np.zeros((0, DIM), dtype=np.float32)


ARTICLE = TOPIC[:4] + [INTRUDER] + TOPIC[4:]


def test_fake_encoder_is_used_instead_of_the_model():
    fake = FakeEncoder()
    det = Detector(model=fake)
    result = det.score(ARTICLE)
    assert det.encoder is fake
    assert fake.calls, "the detector never called the encoder it was given"
    assert {t for call in fake.calls for t in call} <= set(ARTICLE)
    assert len(result.sentences) == len(ARTICLE)
    check_sentences(result, None)


def test_fake_encoder_orthogonal_sentence_is_flagged():
    result = Detector(model=FakeEncoder()).score(ARTICLE)
    intruder = result.sentences[ARTICLE.index(INTRUDER)]
    others = [s for s in result.sentences if s.text != INTRUDER]
    assert intruder.score < min(s.score for s in others), describe(result)
    assert intruder.reason == "off_topic", describe(result)
    assert not any(s.flagged for s in others), describe(result)


def test_fake_encoder_semantic_distance_lowers_the_score():
    """Same text, only the intruder's vector changes: moving it off-topic must lower its score."""
    far = Detector(model=FakeEncoder()).score(ARTICLE)
    near = Detector(model=FakeEncoder(intruder_like_topic=True)).score(ARTICLE)
    i = ARTICLE.index(INTRUDER)
    assert far.sentences[i].score < near.sentences[i].score, f"far:\n{describe(far)}\nnear:\n{describe(near)}"


def test_fake_encoder_text_input_and_score_many_agree():
    text = "Library reopens in Dunmore\n\n" + " ".join(ARTICLE) + "\n\nShare this article\n"
    det = Detector(model=FakeEncoder())
    single = det.score(text)
    check_sentences(single, text)
    assert single.sentences[-1].reason == "boilerplate"
    many = list(det.score_many([text, None, text]))
    assert many[1].error is not None
    assert_same_result(many[0], single)
    assert_same_result(many[2], single)
    assert det.score(text).to_dict(sentences=True) == single.to_dict(sentences=True)


ANCHORED = [
    "Dunmore Library reopened on Monday after a two-year renovation.",
    "Moira Quinn, head of Dunmore Library, cut the ribbon at nine.",
    "Quinn said the Dunmore reading room had never looked better.",
    "Dunmore Council paid for most of the work on the library.",
    "The council's arts officer, Peter Vance, praised the builders.",
    "Vance said Dunmore Library would now open late on weekdays.",
    "Children from Dunmore Primary School were the first visitors.",
    "Quinn read them a story in the new children's corner.",
    "The Dunmore Historical Society moved its archive into the library.",
    "Society members told Quinn the archive had finally found a home.",
    "Vance expects the library to draw visitors from across Dunmore.",
]
STRAY = "Rebel fighters crossed from Karvonia into Meltrava overnight, officials in Oskarburg reported."


class AnchoredEncoder(FakeEncoder):
    """Every sentence, the stray one included, sits near the same topic axis: only names tell."""

    def __init__(self) -> None:
        super().__init__()
        rng = np.random.default_rng(11)
        axis = np.zeros(DIM)
        axis[0] = 1.0
        for text in ANCHORED:
            self.vectors[text] = unit(axis + rng.normal(scale=0.2, size=DIM))
        self.vectors[STRAY] = unit(axis + rng.normal(scale=0.3, size=DIM))
        self.vectors["He said " + STRAY[0].lower() + STRAY[1:]] = self.vectors[STRAY]


def test_unanchored_sentence_is_flagged_even_when_its_meaning_fits():
    article = ANCHORED[:6] + [STRAY] + ANCHORED[6:]
    # the fake vectors carry the names only, no meaning: the stray's probability (about 0.6)
    # clears the 0.10 operating point of the evidence-only model, not the stricter default
    result = Detector(model=AnchoredEncoder(), flag_rate=0.10).score(article)
    stray = result.sentences[6]
    assert stray.reason == "off_topic", describe(result)
    assert stray.explanation.startswith("It names Karvonia, Meltrava, Oskarburg"), stray.explanation
    assert not any(s.flagged for s in result.sentences if s is not stray), describe(result)


def test_a_sentence_that_refers_back_is_not_called_unanchored():
    referring = "He said " + STRAY[0].lower() + STRAY[1:]
    article = ANCHORED[:6] + [referring] + ANCHORED[6:]
    result = Detector(model=AnchoredEncoder()).score(article)
    assert result.sentences[6].reason is None, describe(result)


def test_lower_flag_rate_never_flags_more(make_detector, article_texts):
    for text in article_texts.values():
        strict = make_detector(flag_rate=0.01).score(text)
        lenient = make_detector(flag_rate=0.3).score(text)
        assert {i for i, s in enumerate(strict.sentences) if s.reason == "off_topic"} <= {
            i for i, s in enumerate(lenient.sentences) if s.reason == "off_topic"
        }
        assert [s.score for s in strict.sentences] == [s.score for s in lenient.sentences]


@pytest.mark.parametrize("rate", [-0.1, 0.9])
def test_flag_rate_outside_the_shipped_points_is_an_error(make_detector, rate):
    with pytest.raises(ValueError, match="flag_rate"):
        make_detector(flag_rate=rate).score("A first sentence here. A second one there. A third one too. And a fourth.")


def test_explanations_say_far_only_when_the_numbers_show_it(scored):
    import re

    explanations = [s.explanation for r in scored.values() for s in r.sentences if s.reason == "off_topic"]
    anchored = Detector(model=AnchoredEncoder()).score(ANCHORED[:6] + [STRAY] + ANCHORED[6:])
    explanations += [s.explanation for s in anchored.sentences if s.reason == "off_topic"]
    assert explanations
    for text in explanations:
        numbers = re.search(r"(far|not far) from the (?:article's main )?topic \(similarity (-?[\d.]+), typical sentence (-?[\d.]+)\)", text)
        assert numbers, text
        gap = float(numbers.group(3)) - float(numbers.group(2))
        assert (numbers.group(1) == "far") == (gap >= 0.045), text  # printed values are rounded


def test_repeated_sentences_are_embedded_once(make_detector, article_texts):
    from coherence.encoders.caching import CachingEncoder

    texts = list(article_texts.values())
    detector = make_detector()
    inner = detector.encoder
    cached = Detector(model=CachingEncoder(inner, max_entries=100_000))
    first = [r.to_dict(sentences=True) for r in cached.score_many(texts)]
    assert cached.encoder.hits_ == 0 or cached.encoder.hit_rate < 0.5
    asked = cached.encoder.misses_
    again = [r.to_dict(sentences=True) for r in cached.score_many(texts)]  # every sentence seen before
    assert cached.encoder.misses_ == asked and cached.encoder.hits_ >= asked
    assert again == first
    with pytest.raises(ValueError, match="embedding_cache"):
        Detector(embedding_cache=-1).score("A sentence to score.")


def test_load_readies_every_model_up_front_and_changes_no_score(article_texts):
    """`load()` (what `coherence score` calls) loads the encoder and both readers side by side
    before any article; the scores are those of a detector that loads on first use."""
    name = PLANTED_NAMES[0]
    loaded = Detector(reader="always", page_reader="always").load()
    assert loaded.encoder.encoder.session_ is not None  # behind the embedding cache
    assert all(loaded.reader_for(kind).session_ is not None for kind in ("article", "page"))
    lazy = Detector(reader="always", page_reader="always")
    assert getattr(lazy, "readers_", None) is None
    got, expected = loaded.score(article_texts[name]), lazy.score(article_texts[name])
    assert [s.score for s in got.sentences] == [s.score for s in expected.sentences]
    assert [s.reason for s in got.sentences] == [s.reason for s in expected.sentences]

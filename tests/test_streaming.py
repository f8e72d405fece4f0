"""score_many's stream (coherence/streaming.py): chunks one step apart, same results, failures kept apart."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from coherence import Detector
from tests.test_detector import ARTICLE, TOPIC, FakeEncoder

POISON = "This sentence breaks the encoder."


class PoisonedEncoder(FakeEncoder):
    """Fails any call that holds POISON, as a model fails on one bad input of a batch."""

    def encode(self, sentences: Sequence[str]) -> np.ndarray:
        if POISON in sentences:
            raise RuntimeError("encoder failed")
        return super().encode(sentences)


def articles() -> list[list[str]]:
    """Seven articles: the topic with one sentence left out in turn, the intruder in every other."""
    out = []
    for k in range(7):
        body = TOPIC[:k] + TOPIC[k + 1 :]
        out.append(body[:3] + [ARTICLE[4]] + body[3:] if k % 2 else body)
    return out


def test_stream_matches_scoring_one_at_a_time_across_chunks():
    texts = articles()
    streamed = list(Detector(model=FakeEncoder(), articles_per_batch=3).score_many(texts, ids=[f"a{k}" for k in range(7)]))
    alone = [Detector(model=FakeEncoder()).score(t) for t in texts]
    assert [r.id for r in streamed] == [f"a{k}" for k in range(7)]
    for a, b in zip(streamed, alone):
        assert [s.score for s in a.sentences] == [s.score for s in b.sentences]
        assert [s.reason for s in a.sentences] == [s.reason for s in b.sentences]
    assert any(s.reason == "off_topic" for r in streamed for s in r.sentences)


def test_a_failing_batch_fails_only_the_article_at_fault():
    texts = articles()
    texts[4] = texts[4][:3] + [POISON] + texts[4][3:]
    results = list(Detector(model=PoisonedEncoder(), articles_per_batch=3).score_many(texts))
    assert len(results) == len(texts)
    assert results[4].error is not None and "encoder failed" in results[4].error
    assert all(r.error is None for k, r in enumerate(results) if k != 4)
    assert [r.id for r in results] == list(range(7))


def test_an_input_that_fails_keeps_what_was_read_before():
    texts = articles()

    def records():
        yield from texts[:3]
        raise OSError("the file went away")

    stream = Detector(model=FakeEncoder(), articles_per_batch=2).score_many(records())
    got = []
    try:
        for result in stream:
            got.append(result)
    except OSError as exc:
        assert "went away" in str(exc)
    else:
        raise AssertionError("the input's error was swallowed")
    assert [r.id for r in got] == [0, 1, 2]
    assert all(r.error is None for r in got)


def test_ids_or_sites_that_run_out_are_a_clear_error_after_the_articles_before():
    texts = articles()
    for given in ({"ids": ["a", "b", "c"]}, {"sites": ["x.org"] * 3}):
        stream = Detector(model=FakeEncoder(), articles_per_batch=2).score_many(texts, **given)
        got = []
        with pytest.raises(ValueError, match=f"{next(iter(given))} ran out after 3 articles"):
            for result in stream:  # once "RuntimeError: generator raised StopIteration"
                got.append(result)
        assert len(got) == 2  # the chunk read before the one that ran out


def test_a_single_string_is_not_taken_for_a_stream_of_characters():
    with pytest.raises(TypeError, match="score_many takes an iterable of articles"):
        Detector(model=FakeEncoder()).score_many(" ".join(articles()[0]))

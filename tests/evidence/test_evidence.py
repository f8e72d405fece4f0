"""Word-level and topic evidence: information, entities, continuity, dominant topic."""

from __future__ import annotations

import numpy as np
import pytest

from coherence.evidence.anchoring import anchoring
from coherence.evidence.continuity import Continuity, continuity
from coherence.evidence.sentences import FEATURES, topic_evidence
from coherence.text.lexicon import WordEvidence, analyse, refers_back, word_information
from coherence.evidence.topic import fit_topic


def test_rare_words_carry_more_information_than_common_ones():
    assert word_information("the") == 0.0
    assert word_information("Khmeimim") > word_information("airbase") > word_information("city")


def test_vague_quote_carries_less_information_than_a_named_event():
    vague = analyse('"We are moving forcefully and quickly", he said.')
    named = analyse("Islamist groups in the Philippines are linking up with allies in Malaysia.")
    assert vague.information < named.information
    assert {"philippine", "malaysia"} <= named.entities
    assert not vague.entities


def test_sentence_initial_capital_is_not_a_name_unless_rare():
    assert "despite" not in analyse("Despite the rain, the match went ahead.").entities
    assert "zelenskyy" in analyse("Zelenskyy met the delegation in Kyiv.").entities


def test_inflections_continue_a_name_but_different_words_do_not():
    links = continuity(
        [
            analyse("The Syrian army advanced on Deir ez-Zor."),
            analyse("Officials in Syria said the siege was over."),
            analyse("Analysts say Islamist groups in the Philippines are linking up with Malaysia."),
            analyse("Islamic State fighters retreated."),
        ]
    )
    assert "syria" in links[1].shared_entities  # Syria ~ Syrian
    assert set(links[2].novel_entities) >= {"philippine", "malaysia"}
    assert "islamist" in links[2].novel_entities  # Islamist is not Islamic
    assert links[2].lexical < links[1].lexical


def test_dominant_topic_is_not_dragged_by_a_small_group_of_strays():
    rng = np.random.default_rng(0)
    topic, other = rng.normal(size=16), rng.normal(size=16)
    main = topic + 0.3 * rng.normal(size=(8, 16))
    strays = other + 0.3 * rng.normal(size=(2, 16))
    vectors = np.vstack([main, strays])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    fit = fit_topic(vectors)
    assert fit.in_topic[:8].all() and not fit.in_topic[8:].any()
    assert fit.topic_similarity[8:].max() < fit.topic_similarity[:8].min()


def test_evidence_has_one_row_per_sentence_and_every_feature():
    texts = ["A flood barrier opened.", "The barrier protects homes.", "Engineers tested the gates."]
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(3, 8))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    evidence = topic_evidence(texts, vectors)
    assert evidence.features.shape == (3, len(FEATURES))
    assert np.isfinite(evidence.features).all()
    assert ((0 <= evidence.confidence) & (evidence.confidence < 1)).all()


def _link(novel: int, shared: int, lexical: float) -> Continuity:
    return Continuity(
        lexical=lexical,
        novel_entities=tuple(f"new{i}" for i in range(novel)),
        shared_entities=tuple(f"old{i}" for i in range(shared)),
        novel_mentions=novel,
    )


def _words(n: int, refer_back: tuple[int, ...] = ()) -> list[WordEvidence]:
    return [WordEvidence({}, frozenset(), 5.0, {}, (), i in refer_back) for i in range(n)]


def test_unanchored_fires_only_where_the_rest_of_the_article_is_anchored():
    anchored = [_link(1, 1, 0.6) for _ in range(12)]
    stray = _link(3, 0, 0.0)
    confidence = np.full(13, 0.9)
    fires = anchoring([*anchored, stray], _words(13), confidence).unanchored
    assert fires[-1] and not fires[:-1].any()

    # the same sentence in a story where many naming sentences bring their own names
    loose = [_link(2, 0, 0.0) for _ in range(4)] + [_link(1, 1, 0.6) for _ in range(8)]
    assert not anchoring([*loose, stray], _words(13), confidence).unanchored[-1]


def test_unanchored_needs_content_and_several_names():
    links = [_link(1, 1, 0.6) for _ in range(12)] + [_link(1, 0, 0.0), _link(3, 0, 0.0)]
    confidence = np.r_[np.full(13, 0.9), 0.3]  # the last one is a vague line
    assert not anchoring(links, _words(14), confidence).unanchored[-2:].any()


def test_a_sentence_that_refers_back_is_anchored_by_its_pronoun():
    links = [_link(1, 1, 0.6) for _ in range(12)] + [_link(3, 0, 0.0)]
    confidence = np.full(13, 0.9)
    assert anchoring(links, _words(13), confidence).unanchored[-1]
    assert not anchoring(links, _words(13, refer_back=(12,)), confidence).unanchored[-1]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("He joins Jonny Wilkinson and Tim Stimpson in the record books.", True),
        ("But it was too late.", True),
        ("And they're not done yet.", True),
        ("Trump may come under pressure from allies in Malaysia.", False),
        ("Helena Ortiz said the plan was sound.", False),
        ('"We are moving quickly," he said.', True),
        ("", False),
    ],
)
def test_refers_back(text, expected):
    assert refers_back(text) is expected


def test_a_name_counts_once():
    ev = analyse("Lawyers for Andrew Fastow said Fastow would appeal, and Fastow's wife agreed.")
    assert ev.mentions == (("andrew", "fastow"),)


def test_operating_points_are_monotone_and_bounded():
    from coherence.models.intrusion import IntrusionModel

    model = IntrusionModel.default()
    rates = [rate for rate, _ in model.operating_points]
    cuts = [model.score_cut(rate) for rate in rates]
    assert cuts == [cut for _, cut in model.operating_points]
    assert all(a <= b for a, b in zip(cuts, cuts[1:]))
    middle = (rates[1] + rates[2]) / 2
    assert cuts[1] <= model.score_cut(middle) <= cuts[2]
    for outside in (rates[0] - 0.01, rates[-1] + 0.01):
        with pytest.raises(ValueError, match="flag_rate"):
            model.score_cut(outside)


def test_whole_names_are_one_mention():
    ev = analyse("Neither does it cover Andrew Fastow, the former chief of Enron in Houston.")
    assert ("andrew", "fastow") in ev.mentions
    assert len(ev.mentions) == 3


def test_caching_encoder_reuses_vectors_and_drops_the_least_recently_used():
    from coherence.encoders.caching import CachingEncoder

    class Counting:
        calls: list[list[str]] = []

        def encode(self, sentences):
            self.calls.append(list(sentences))
            return np.array([[float(len(s)), 1.0] for s in sentences])

    inner = Counting()
    cache = CachingEncoder(inner, max_entries=3)
    first = cache.encode(["a", "bb", "a"])
    assert inner.calls == [["a", "bb"]] and cache.hits_ == 1
    second = cache.encode(["bb", "ccc", "dddd"])  # overflows the bound: "a", used least recently, goes
    assert np.array_equal(second[0], first[1])
    assert inner.calls[-1] == ["ccc", "dddd"]
    assert list(cache.cache_) == ["bb", "ccc", "dddd"]
    cache.encode(["bb", "e"])  # "bb" was just used: "ccc" goes instead
    assert list(cache.cache_) == ["dddd", "bb", "e"] and inner.calls[-1] == ["e"]
    assert cache.hits_ == 3 and cache.misses_ == 5 and cache.hit_rate == 3 / 8


def test_intrusion_probability_is_the_stronger_detector():
    from coherence.models.intrusion import AnchoringModel, IntrusionModel

    coef = np.zeros(len(FEATURES))
    # the anchoring detector grades unanchored sentences by their topic gap alone here
    anchoring = AnchoringModel(np.array([10.0]), intercept=0.0, features=("topic_gap",))
    model = IntrusionModel(coef, intercept=-2.0, anchoring=anchoring)  # logistic alone: 0.12
    rows = np.zeros((5, len(FEATURES)))
    unanchored, gap = FEATURES.index("unanchored"), FEATURES.index("topic_gap")
    rows[1, [unanchored, gap]] = 1, 0.0
    rows[2, [unanchored, gap]] = 1, 0.2
    rows[3, [unanchored, gap]] = 1, -0.2  # unanchored, but closer to the topic than most
    rows[4, gap] = 0.2  # far, but not unanchored: no anchoring evidence
    p = model.probability(rows)
    logistic = 1 / (1 + np.exp(2.0))
    assert p == pytest.approx([logistic, 0.5, 1 / (1 + np.exp(-2.0)), logistic, logistic])
    # graded: a small move of the topic gap moves the probability a little, never a switch
    nudged = rows.copy()
    nudged[1, gap] = 0.002
    assert 0 < model.probability(nudged)[1] - p[1] < 0.01


def test_caching_encoder_is_safe_to_share_between_threads():
    import threading
    import time

    from coherence.encoders.caching import CachingEncoder

    class Slow:  # lets other threads run while it "embeds", as onnxruntime and torch do
        def encode(self, sentences):
            time.sleep(0.001)
            return np.array([[float(len(s)), float(sum(map(ord, s)))] for s in sentences])

    cache = CachingEncoder(Slow(), max_entries=5)
    words = [f"w{k}" for k in range(12)]
    errors: list[BaseException] = []

    def work(seed: int) -> None:
        rng = np.random.default_rng(seed)
        try:
            for _ in range(50):
                batch = list(rng.choice(words, size=4))
                got = cache.encode(batch)
                assert np.array_equal(got, Slow().encode(batch))
        except BaseException as exc:  # collected: an exception in a thread would be lost
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(cache.cache_) <= 5
    assert cache.hits_ + cache.misses_ > 0

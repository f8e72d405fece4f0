"""The fast tier (`speed="fast"`): static token vectors distilled locally, its own weights."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import SENTENCES

from coherence import Detector
from coherence.engines.local import score_file
from coherence.cli import main
from coherence.encoders.torch_encoder import SentenceEncoder
from coherence.encoders.model_cache import cache_root
from coherence.io.fields import InputError
from coherence.models.intrusion import IntrusionModel
from coherence.encoders.static_encoder import StaticEncoder, StaticMap, bag_of_tokens


@pytest.fixture(scope="module")
def static_encoder() -> StaticEncoder:
    encoder = StaticEncoder()
    encoder.prepare()
    return encoder


def test_table_is_built_into_the_cache_once(static_encoder: StaticEncoder) -> None:
    assert static_encoder.built_ is not None
    assert cache_root() in static_encoder.built_.path.parents
    again = StaticEncoder().prepare()
    assert again.path == static_encoder.built_.path and not again.built


def test_vectors_are_unit_deterministic_and_depend_on_their_sentence_only(static_encoder: StaticEncoder) -> None:
    whole = static_encoder.encode(SENTENCES)
    assert whole.shape == (len(SENTENCES), 384) and whole.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(whole, axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(whole[::-1], static_encoder.encode(SENTENCES[::-1]))
    for k, sentence in enumerate(SENTENCES):
        np.testing.assert_array_equal(whole[k], static_encoder.encode([sentence])[0])
    assert static_encoder.encode([]).shape == (0, 384)
    assert np.isfinite(static_encoder.encode(["", "   "])).all()  # no tokens: the map's bias, normalised


def test_vectors_follow_the_model_they_were_distilled_from(static_encoder: StaticEncoder) -> None:
    fast = static_encoder.encode(SENTENCES)
    reference = SentenceEncoder().encode(SENTENCES)
    agreement = (fast * reference).sum(axis=1)
    assert agreement.mean() > 0.6, agreement
    # the two flood sentences are closer to each other than to the football one, as in MiniLM
    sims = fast @ fast.T
    assert sims[0, 1] > sims[0, 3] and sims[0, 1] > sims[1, 3]


def test_a_very_long_sentence_is_summed_in_blocks_and_alone_as_in_a_batch(static_encoder: StaticEncoder) -> None:
    from coherence.encoders.static_encoder import _TOKENS_PER_SUM

    long = " ".join(SENTENCES) * (_TOKENS_PER_SUM // 40 + 1)
    assert len(static_encoder.token_ids([long])[0]) > _TOKENS_PER_SUM
    together = static_encoder.encode([SENTENCES[0], long, SENTENCES[1]])
    np.testing.assert_array_equal(together[1], static_encoder.encode([long])[0])
    np.testing.assert_array_equal(together[0], static_encoder.encode([SENTENCES[0]])[0])
    # the same tokens, so nearly the same vector as the text repeated once
    assert float(together[1] @ static_encoder.encode([" ".join(SENTENCES)])[0]) > 0.99


def test_bag_of_tokens_is_the_weighted_mean_of_rows() -> None:
    rng = np.random.default_rng(0)
    table = rng.standard_normal((50, 4)).astype(np.float32)
    weights = rng.uniform(0.1, 1.0, 50).astype(np.float32)
    ids = [[3, 7, 7], [], [49], [0, 1, 2, 3]]
    bags = bag_of_tokens(ids, table, weights)
    for row, tokens in zip(bags, ids):
        expected = (table[tokens] * weights[tokens, None]).sum(0) / weights[tokens].sum() if tokens else np.zeros(4)
        np.testing.assert_allclose(row, expected, rtol=1e-5, atol=1e-6)


def test_map_round_trips_and_is_for_the_bundled_model() -> None:
    shipped = StaticMap.default()
    assert shipped.matrix.shape == (384, 384) and shipped.bias.shape == (384,)
    assert shipped.meta["fitted_on"]["half"] == "dev"
    again = StaticMap.from_bytes(shipped.to_bytes())
    np.testing.assert_array_equal(again.matrix, shipped.matrix)
    assert again.smoothing == shipped.smoothing and again.vector_space == shipped.vector_space


def test_fast_weights_have_no_context_model_and_ordered_operating_points() -> None:
    fast = IntrusionModel.default("fast")
    assert fast.context is None and not fast.uses_context("all-MiniLM-L6-v2")
    rates, cuts = zip(*fast.operating_points)
    assert list(rates) == sorted(rates) and list(cuts) == sorted(cuts)
    assert not np.allclose(fast.coef, IntrusionModel.default().coef)  # fitted on its own vectors
    with pytest.raises(ValueError, match="speed"):
        IntrusionModel.default("slow")


def test_detector_fast_tier(
    static_encoder: StaticEncoder, article_texts: dict[str, str], scored: dict, planted: dict
) -> None:
    detector = Detector(speed="fast")
    assert isinstance(detector.encoder, StaticEncoder) and not detector.uses_context
    line_model_alone = Detector(page_reader="never")  # the fast tier does not run the page reader
    for name, text in article_texts.items():
        result = detector.score(text)
        reference = line_model_alone.score(text)
        assert [s.text for s in result.sentences] == [s.text for s in scored[name].sentences]
        # the rules (boilerplate, repeats, fragments), and the line model's veto on them, do not
        # depend on the encoder
        rules = ("boilerplate", "duplicate", "fragment")
        assert [s.reason for s in result.sentences if s.reason in rules] == [
            s.reason for s in reference.sentences if s.reason in rules
        ]
        assert [s.reason in rules for s in result.sentences] == [s.reason in rules for s in reference.sentences]
        content = [s for s in result.sentences if s.reason in (None, "off_topic")]
        median = float(np.median([s.score for s in content]))
        for stray in planted[name].get("off_topic", []):
            hit = next(s for s in result.sentences if stray in s.text)
            assert hit.score < median, (name, hit.score, median)
    together = [r.to_dict(sentences=True) for r in detector.score_many(article_texts.values())]
    alone = [detector.score(t).to_dict(sentences=True) for t in article_texts.values()]
    assert [{**r, "id": None} for r in together] == alone


def test_fast_tier_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="speed"):
        Detector(speed="slow").prepare()  # type: ignore[arg-type]
    for model in (SentenceEncoder(), "some/other-model"):
        with pytest.raises(ValueError, match="bundled"):
            Detector(model=model, speed="fast").check_params()
    assert Detector(model="sentence-transformers/all-MiniLM-L6-v2", speed="fast").speed == "fast"
    with pytest.raises(ValueError, match="bundled"):
        StaticEncoder("some/other-model").encode(["One sentence here."])


def test_cli_prepare_and_score_fast(static_encoder: StaticEncoder, clean_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prepare", "--speed", "fast"]) == 0
    out = capsys.readouterr().out
    assert "token table" in out and "already built" in out and str(cache_root()) in out
    assert main(["score", str(clean_path), "--speed", "fast", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert 0.0 <= record["coherence"] <= 1.0


def test_pickles_without_its_table(static_encoder: StaticEncoder) -> None:
    static_encoder.encode(SENTENCES[:1])
    copy = pickle.loads(pickle.dumps(static_encoder))
    assert copy.table_ is None and copy.built_ is None
    np.testing.assert_array_equal(copy.encode(SENTENCES), static_encoder.encode(SENTENCES))


def test_fast_tier_never_loads_torch(static_encoder: StaticEncoder, clean_path: Path) -> None:
    code = (
        "import sys; from coherence import Detector; "
        f"r = Detector(speed='fast').score(open({str(clean_path)!r}).read()); "
        "print(sorted(m for m in ('torch', 'sklearn', 'onnxruntime') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stderr


def test_batch_fast_tier_in_workers_matches_in_process(
    static_encoder: StaticEncoder, tmp_path: Path, article_texts: dict[str, str]
) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({"id": n, "text": t}) + "\n" for n, t in enumerate(article_texts.values())))
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    score_file(source, one, id_field="id", speed="fast", progress=False)
    score_file(source, two, id_field="id", speed="fast", workers=2, progress=False)
    assert one.read_text() == two.read_text() and len(one.read_text().splitlines()) == len(article_texts)
    with pytest.raises(InputError, match="speed"):
        score_file(source, one, id_field="id", resume=True, progress=False)  # written by the fast tier
    with pytest.raises(ValueError, match="backend"):  # the fast tier runs no model: a backend would be ignored
        score_file(source, one, id_field="id", resume=True, speed="fast", backend="onnx", progress=False)
    assert score_file(source, one, id_field="id", resume=True, speed="fast", progress=False)["records"] == len(article_texts)

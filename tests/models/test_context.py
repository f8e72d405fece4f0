"""The article-context model: numpy inference matches torch, is order-free, trains, explains."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from coherence.models.context import ContextModel
from coherence.evidence.sentences import FEATURES
from training.context_training import ArticleRows, ContextSettings, _batch, _module, train_context

DIM = 16


def _articles(n: int, seed: int = 0) -> list[ArticleRows]:
    """Articles of unit vectors around a topic of their own; planted rows come from elsewhere
    and carry a larger first evidence column."""
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        size = int(rng.integers(5, 12))
        topic = rng.normal(size=DIM)
        vectors = topic + 0.5 * rng.normal(size=(size, DIM))
        planted = np.zeros(size, bool)
        if k % 2:
            planted[rng.integers(1, size)] = True
            vectors[planted] = rng.normal(size=DIM) * 2
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        features = rng.normal(size=(size, len(FEATURES)))
        features[:, 0] += 3.0 * planted
        out.append(ArticleRows(f"a{k}", vectors.astype(np.float32), features, planted, np.ones(size, bool), "x"))
    return out


@pytest.fixture(scope="module")
def trained() -> tuple[bytes, list[np.ndarray], list[ArticleRows]]:
    articles = _articles(160)
    blob, logits = train_context(articles, FEATURES, "test-space", ContextSettings(folds=2, epochs=8, batch=16, dropout=0.0, learning_rate=1e-2))
    return blob, logits, articles


def test_numpy_inference_matches_the_torch_module(trained) -> None:
    import torch

    blob, _, articles = trained
    model = ContextModel.from_bytes(blob)
    archive = np.load(io.BytesIO(blob))
    fold_zero = _module(DIM, len(FEATURES), ContextSettings())
    fold_zero.load_state_dict({k[2:]: torch.tensor(archive[k].astype(np.float32)) for k in archive.files if k.startswith("0/")})
    fold_zero.eval()
    one_fold = ContextModel(
        {k: v for k, v in model.weights.items() if k.startswith("0/")},
        model.mean, model.scale, model.features, 1, model.layers, model.heads, model.vector_space,
    )
    article = articles[3]
    vectors, standard, _, padding = _batch([article], model.mean, model.scale)
    with torch.no_grad():
        expected = fold_zero(vectors, standard, padding)[0].numpy()
    assert one_fold.logit(article.vectors, article.features) == pytest.approx(expected, abs=1e-4)


def test_padding_in_a_training_batch_does_not_change_an_article_logits(trained) -> None:
    import torch

    blob, _, articles = trained
    archive = np.load(io.BytesIO(blob))
    module = _module(DIM, len(FEATURES), ContextSettings())
    module.load_state_dict({k[2:]: torch.tensor(archive[k].astype(np.float32)) for k in archive.files if k.startswith("0/")})
    module.eval()
    short = min(articles[:10], key=lambda a: len(a.planted))
    long = max(articles[:10], key=lambda a: len(a.planted))
    assert len(short.planted) < len(long.planted)
    mean, scale = archive["mean"], archive["scale"]
    with torch.no_grad():
        together = module(*_pick(_batch([short, long], mean, scale)))
        alone = module(*_pick(_batch([short], mean, scale)))
    assert together[0, : len(short.planted)].numpy() == pytest.approx(alone[0].numpy(), abs=1e-5)


def _pick(batch):
    vectors, standard, _, padding = batch
    return vectors, standard, padding


def test_sentence_order_does_not_change_a_sentence_logit(trained) -> None:
    model = ContextModel.from_bytes(trained[0])
    article = trained[2][5]
    order = np.random.default_rng(1).permutation(len(article.planted))
    plain = model.logit(article.vectors, article.features)
    shuffled = model.logit(article.vectors[order], article.features[order])
    assert shuffled == pytest.approx(plain[order], abs=1e-9)


def test_training_learns_the_planted_rows_and_returns_out_of_fold_logits(trained) -> None:
    from sklearn.metrics import roc_auc_score

    blob, logits, articles = trained
    assert [len(x) for x in logits] == [len(a.planted) for a in articles]
    labels = np.concatenate([a.planted for a in articles])
    assert roc_auc_score(labels, np.concatenate(logits)) > 0.9  # out of fold: articles the fold never saw
    model = ContextModel.from_bytes(blob)
    assert model.folds == 2 and model.features == FEATURES


def test_training_is_reproducible() -> None:
    articles = _articles(40, seed=3)
    settings = ContextSettings(folds=2, epochs=1, batch=8)
    assert train_context(articles, FEATURES, "test-space", settings)[0] == train_context(articles, FEATURES, "test-space", settings)[0]


def test_shipped_model_matches_the_features_and_gives_probabilities() -> None:
    model = ContextModel.default()
    assert model is not None, "the package ships its article-context model"
    assert model.features == FEATURES
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(7, model.weights["0/pv.weight"].shape[1] // 2))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    p = model.probability(vectors, rng.normal(size=(7, len(FEATURES))))
    assert p.shape == (7,) and np.all((p > 0) & (p < 1))


def test_explanation_says_when_the_article_context_raised_the_probability(detector) -> None:
    from coherence.evidence.sentences import topic_evidence
    from coherence.models.intrusion import explain_off_topic

    texts = [
        "Flood barrier to protect the old harbour town opens after years of delay.",
        "The barrier closes when storm tides threaten the harbour walls.",
        "Engineers tested the barrier gates against the spring tides.",
        "The harbour town has flooded four times in ten years.",
        "Residents said the barrier gates gave them peace of mind.",
    ]
    evidence = topic_evidence(texts, detector._encode(texts))
    model = detector.intrusion_model
    alone = float(model.row_probability(evidence.features[2:3])[0])
    raised = explain_off_topic(evidence, 2, model, weighed=min(alone + 0.5, 0.999))
    assert "read together with the rest of the article" in raised
    assert "read together" not in explain_off_topic(evidence, 2, model)
    assert "read together" not in explain_off_topic(evidence, 2, model, weighed=alone)


def test_context_model_only_reads_vectors_of_its_own_embedding_model(detector, make_detector) -> None:
    from coherence import Detector
    from coherence.encoders.caching import CachingEncoder
    from coherence.encoders.torch_encoder import SentenceEncoder

    assert detector.uses_context
    assert Detector(model=CachingEncoder(SentenceEncoder())).uses_context

    class OtherModel:
        vector_space = "some-other-model"

        def encode(self, sentences):
            return np.eye(len(sentences), 8)

    other = Detector(model=OtherModel())
    assert not other.uses_context and other.article_reading is None  # the reader weighs the context model's evidence only
    model = other.intrusion_model
    # other vectors are weighed by the logistic model, at its own operating points
    assert other.off_topic_cut == model.score_cut(other.flag_rate, context=False)
    assert detector.off_topic_cut == model.score_cut(detector.flag_rate, context=True, reader=detector.article_reading)
    result = other.score(["A first line about tides.", "A second line about tides.", "A third about gates.", "A fourth one.", "And a fifth."])
    assert result.error is None and len(result.sentences) == 5


def test_a_candidate_fit_loads_from_its_folder_as_the_shipped_model_does(tmp_path) -> None:
    import shutil
    from importlib import resources

    from coherence.models.context import CONTEXT_WEIGHTS
    from coherence.models.intrusion import IntrusionModel
    from training.compare_context import candidate_model

    models = resources.files("coherence.models")
    for name in ("weights.json", CONTEXT_WEIGHTS):
        with resources.as_file(models.joinpath(name)) as path:
            shutil.copy(path, tmp_path / name)
    shipped, candidate = IntrusionModel.default(), candidate_model(tmp_path)
    assert np.array_equal(candidate.coef, shipped.coef) and candidate.operating_points == shipped.operating_points
    assert candidate.context is not None and candidate.score_cut(0.05) == shipped.score_cut(0.05)
    data = json.loads((tmp_path / "weights.json").read_text())
    with pytest.raises(RuntimeError, match="evidence features"):
        IntrusionModel.from_weights({**data, "features": data["features"][:-1]})

"""Train the article-context model (`coherence.models.context`) on synthetic intrusions, with torch.

Used by training/fit_weights.py. The torch module's parameter names are the ones
`coherence.models.context.ContextModel` reads, so export is a plain copy of the state dicts.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ArticleRows:
    """One training article: its content-sentence vectors, evidence rows and labels."""

    id: str
    vectors: np.ndarray  # (n, dim)
    features: np.ndarray  # (n, n_features)
    planted: np.ndarray  # (n,) bool
    eligible: np.ndarray  # (n,) bool: may be flagged off_topic at all
    condition: str
    texts: tuple[str, ...] = ()  # the content sentences (for models that read text, not vectors)


@dataclass(frozen=True)
class ContextSettings:
    width: int = 64
    heads: int = 4
    layers: int = 2
    dropout: float = 0.3
    vector_dropout: float = 0.5  # on the sentence vectors: keeps the model from learning articles by heart
    weight_decay: float = 0.1
    learning_rate: float = 1e-3
    epochs: int = 2
    batch: int = 32
    folds: int = 5
    seed: int = 0


def fold_of(article_id: str, folds: int) -> int:
    """A stable fold for an article (every version of one article lands in one fold)."""
    return hashlib.sha1(("fold-" + article_id).encode()).digest()[0] % folds


def _module(dim: int, n_features: int, s: ContextSettings):
    import torch

    # torch's fused inference path returns NaN with a per-head float attention mask
    torch.backends.mha.set_fastpath_enabled(False)

    class Context(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.pv = torch.nn.Linear(2 * dim, s.width)
            self.pf = torch.nn.Linear(n_features, s.width)
            layer = torch.nn.TransformerEncoderLayer(
                s.width, s.heads, dim_feedforward=2 * s.width, dropout=s.dropout, batch_first=True, norm_first=True
            )
            self.enc = torch.nn.TransformerEncoder(layer, s.layers, enable_nested_tensor=False)
            self.out = torch.nn.Linear(s.width, 1)
            self.lin = torch.nn.Linear(n_features, 1)
            # per head, how much the cosine between two sentences adds to their attention score
            self.similarity_bias = torch.nn.Parameter(torch.linspace(-4.0, 4.0, s.heads))

        def forward(self, vectors, features, padding):
            keep = (~padding).float()[..., None]
            mean = (vectors * keep).sum(1, keepdim=True) / keep.sum(1, keepdim=True)
            pair = torch.nn.functional.dropout(torch.cat([vectors, vectors - mean], -1), s.vector_dropout, self.training)
            x = self.pv(pair) + self.pf(features)
            unit = vectors / (vectors.norm(dim=-1, keepdim=True) + 1e-9)
            bias = (unit @ unit.transpose(1, 2))[:, None] * self.similarity_bias[None, :, None, None]
            bias = bias.masked_fill(padding[:, None, None, :], -1e4)  # padded sentences are never attended to
            x = self.enc(x, mask=bias.reshape(-1, *bias.shape[2:]))
            return (self.out(x) + self.lin(features)).squeeze(-1)

    return Context()


def _batch(articles: Sequence[ArticleRows], mean: np.ndarray, scale: np.ndarray):
    import torch

    n = max(len(a.planted) for a in articles)
    dim, n_features = articles[0].vectors.shape[1], articles[0].features.shape[1]
    vectors = np.zeros((len(articles), n, dim), np.float32)
    features = np.zeros((len(articles), n, n_features), np.float32)
    labels = np.zeros((len(articles), n), np.float32)
    padding = np.ones((len(articles), n), bool)
    for i, a in enumerate(articles):
        k = len(a.planted)
        vectors[i, :k], features[i, :k] = a.vectors, (a.features - mean) / scale
        labels[i, :k], padding[i, :k] = a.planted, False
    return torch.tensor(vectors), torch.tensor(features), torch.tensor(labels), torch.tensor(padding)


def _train_one(articles: list[ArticleRows], mean: np.ndarray, scale: np.ndarray, s: ContextSettings, seed: int):
    import torch

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = _module(articles[0].vectors.shape[1], articles[0].features.shape[1], s)
    order = sorted(range(len(articles)), key=lambda i: (len(articles[i].planted), i))  # similar lengths batch together
    batches = [order[i : i + s.batch] for i in range(0, len(order), s.batch)]
    optimiser = torch.optim.AdamW(model.parameters(), lr=s.learning_rate, weight_decay=s.weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=s.learning_rate, total_steps=s.epochs * len(batches))
    model.train()
    for _ in range(s.epochs):
        for b in rng.permutation(len(batches)):
            vectors, features, labels, padding = _batch([articles[i] for i in batches[b]], mean, scale)
            logits = model(vectors, features, padding)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logits[~padding], labels[~padding])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
    model.eval()
    with torch.no_grad():  # the weights as shipped (float16), so out-of-fold logits are the shipped model's
        for parameter in model.parameters():
            parameter.copy_(parameter.half().float())
    return model


def train_context(
    articles: list[ArticleRows],
    feature_names: Sequence[str],
    vector_space: str,
    settings: ContextSettings = ContextSettings(),
) -> tuple[bytes, list[np.ndarray]]:
    """Train one model per fold (each leaves its fold's articles out).

    Returns the npz bytes of the ensemble `coherence.models.context.ContextModel` reads, and the
    out-of-fold logits of every article (from the one fold model that never saw it), for
    honest operating points.
    """
    import io

    import torch

    features = np.vstack([a.features for a in articles])
    mean, scale = features.mean(axis=0), features.std(axis=0) + 1e-6
    folds = [fold_of(a.id, settings.folds) for a in articles]
    arrays: dict[str, np.ndarray] = {}
    out_of_fold: list[np.ndarray | None] = [None] * len(articles)
    for fold in range(settings.folds):
        train = [a for a, f in zip(articles, folds) if f != fold]
        model = _train_one(train, mean, scale, settings, seed=settings.seed + fold)
        for name, value in model.state_dict().items():
            arrays[f"{fold}/{name}"] = value.detach().numpy().astype(np.float16)  # half the file, logits move < 1e-2
        with torch.no_grad():
            for i, (a, f) in enumerate(zip(articles, folds)):
                if f == fold:
                    vectors, standard, _, padding = _batch([a], mean, scale)
                    out_of_fold[i] = model(vectors, standard, padding)[0].numpy()
    meta = {
        "features": list(feature_names),
        "folds": settings.folds,
        "layers": settings.layers,
        "heads": settings.heads,
        "vector_space": vector_space,
        "settings": settings.__dict__,
    }
    buffer = io.BytesIO()
    np.savez_compressed(buffer, meta=np.array(json.dumps(meta)), mean=mean, scale=scale, **arrays)
    return buffer.getvalue(), [o for o in out_of_fold if o is not None]

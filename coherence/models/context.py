"""The article-context model: reads every sentence of an article at once and weighs each one's
evidence against the others.

The logistic model in `coherence.models.intrusion` judges a sentence from its own evidence row. This
small attention model (two layers, about 117k weights per fold) sees all of the article's
sentence vectors and evidence rows together, and each attention head is biased by a learned
multiple of the cosine between two sentences, so a head can gather from the sentences most
(or least) like this one. It can learn what the rows alone cannot say:
that a sentence is far from a topic every other sentence shares, or that three lines with new
names sit next to each other. It is trained on synthetic intrusions of the development half
of a corpus (`training/fit_weights.py`), as an ensemble of fold models whose logits are
averaged, and runs here in plain numpy: no torch at scoring time.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from functools import cached_property
from importlib import resources

import numpy as np

from coherence.encoders.base import DEFAULT_MODEL

__all__ = ["ContextModel", "CONTEXT_WEIGHTS"]

CONTEXT_WEIGHTS = "context_weights.npz"
_LAYER_NORM_EPS = 1e-5


def _layer_norm(x: np.ndarray, gain: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + _LAYER_NORM_EPS) * gain + bias


def _softmax(x: np.ndarray) -> np.ndarray:
    x = x - x.max(axis=-1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(axis=-1, keepdims=True)


@dataclass(frozen=True)
class ContextModel:
    """An ensemble of pre-norm transformer encoders over an article's sentences.

    `weights` maps torch-style parameter names (``"0/pv.weight"`` for fold 0) to arrays;
    `mean` and `scale` standardise the evidence rows the way training did. It reads vectors of
    one embedding model (`vector_space`) and means nothing on another's.
    """

    weights: dict[str, np.ndarray]
    mean: np.ndarray
    scale: np.ndarray
    features: tuple[str, ...]
    folds: int
    layers: int
    heads: int
    vector_space: str = DEFAULT_MODEL  # the embedding model whose vectors it was trained on

    @classmethod
    def default(cls) -> "ContextModel | None":
        """The model shipped with the package, or None when the package has none."""
        path = resources.files("coherence.models").joinpath(CONTEXT_WEIGHTS)
        if not path.is_file():
            return None
        return cls.from_bytes(path.read_bytes())

    @classmethod
    def from_bytes(cls, data: bytes) -> "ContextModel":
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            meta = json.loads(str(archive["meta"]))
            weights = {k: archive[k].astype(np.float64) for k in archive.files if k not in ("meta", "mean", "scale")}
            return cls(
                weights,
                archive["mean"].astype(np.float64),
                archive["scale"].astype(np.float64),
                tuple(meta["features"]),
                int(meta["folds"]),
                int(meta["layers"]),
                int(meta["heads"]),
                str(meta["vector_space"]),
            )

    @cached_property
    def stacked(self) -> dict[str, np.ndarray]:
        """Each parameter with the folds stacked on a first axis, so all folds run at once."""
        names = sorted({k.split("/", 1)[1] for k in self.weights})
        # torch names attention's input projection "in_proj_weight": name it as the other layers
        return {
            name.replace("in_proj_", "in_proj."): np.stack([self.weights[f"{fold}/{name}"] for fold in range(self.folds)])
            for name in names
        }

    def logit(self, vectors: np.ndarray, features: np.ndarray) -> np.ndarray:
        """Log-odds that each sentence was intruded, (n,), averaged over the folds."""
        vectors = np.asarray(vectors, dtype=np.float64)
        standard = (np.asarray(features, dtype=np.float64) - self.mean) / self.scale
        pair = np.hstack([vectors, vectors - vectors.mean(axis=0, keepdims=True)])
        unit = vectors / (np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-9)
        cosine = unit @ unit.T
        w = self.stacked
        x = self._dense("pv", pair) + self._dense("pf", standard)  # (folds, n, width)
        # each head's attention leans towards (or away from) sentences that are alike
        bias = w["similarity_bias"][:, :, None, None] * cosine[None, None]
        for layer in range(self.layers):
            p = f"enc.layers.{layer}."
            h = _layer_norm(x, w[p + "norm1.weight"][:, None], w[p + "norm1.bias"][:, None])
            x = x + self._attention(p + "self_attn.", h, bias)
            h = _layer_norm(x, w[p + "norm2.weight"][:, None], w[p + "norm2.bias"][:, None])
            x = x + self._dense(p + "linear2", np.maximum(self._dense(p + "linear1", h), 0.0))
        logits = (self._dense("out", x) + self._dense("lin", standard))[..., 0]
        return logits.mean(axis=0)

    def probability(self, vectors: np.ndarray, features: np.ndarray) -> np.ndarray:
        """P(intruded | the article), (n,)."""
        return 1.0 / (1.0 + np.exp(-self.logit(vectors, features)))

    def _dense(self, name: str, x: np.ndarray) -> np.ndarray:
        """Every fold's linear layer: (n, in) or (folds, n, in) -> (folds, n, out)."""
        w = self.stacked
        return x @ w[name + ".weight"].transpose(0, 2, 1) + w[name + ".bias"][:, None, :]

    def _attention(self, prefix: str, h: np.ndarray, bias: np.ndarray) -> np.ndarray:
        folds, n, d = h.shape
        heads = (folds, n, self.heads, d // self.heads)
        q, k, v = (part.reshape(heads).transpose(0, 2, 1, 3) for part in np.split(self._dense(prefix + "in_proj", h), 3, axis=-1))
        attended = _softmax(q @ k.transpose(0, 1, 3, 2) / np.sqrt(d // self.heads) + bias) @ v
        return self._dense(prefix + "out_proj", attended.transpose(0, 2, 1, 3).reshape(folds, n, d))

"""The reader model: the bundled MiniLM fine-tuned to read an article as one text and tag each
sentence as belonging to it or planted from another story.

A sentence vector of its own cannot say who "he" is or whether "the ministry" is this story's
ministry; a reader that sees the sentences around it can. The bundled all-MiniLM-L6-v2 reads
windows of the article (`coherence.models.reader_layout`); low-rank adapters (LoRA) on its
linear layers, trained on planted intrusions of news and BBC articles
(`training/reader_training.py`), teach it the task, and a small head turns each sentence's
pooled token states into a logit. Only the adapters and the head ship (`reader_adapters.npz`,
about 2 MB); `coherence prepare` merges them into the bundled weights and builds an int8 ONNX
copy in the user cache (`coherence.encoders.reader_export`), so scoring needs no torch.

A second set of adapters, the page reader (`page_reader_adapters.npz`), reads a scraped page
line by line and tags the lines extraction left behind (`coherence.models.leftovers`); it is
trained on real pages with human-marked content (`training/page_reader_data.py`).

This module holds what training and scoring share: the adapter files, the merge, the pooling
and the head in numpy.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Literal

import numpy as np

__all__ = [
    "READER_ADAPTERS", "PAGE_READER_ADAPTERS", "ReaderKind", "LORA_TARGETS", "ReaderHead", "Adapters", "adapters_file",
    "join_inputs", "join_reader", "log_odds", "merge_adapters", "pool_sentences",
]  # fmt: skip

READER_ADAPTERS = "reader_adapters.npz"
PAGE_READER_ADAPTERS = "page_reader_adapters.npz"
# "article": sentences of an article, every window anchored on its first; "page": the lines of
# a scraped page, windows unanchored (a page's first line is as likely a menu as a headline).
ReaderKind = Literal["article", "page"]
# The linear layers of each BERT layer that carry an adapter (names as in transformers' BertModel).
LORA_TARGETS = (
    "attention.self.query",
    "attention.self.key",
    "attention.self.value",
    "attention.output.dense",
    "intermediate.dense",
    "output.dense",
)
HEAD_HIDDEN = 128


def pool_sentences(states: np.ndarray, spans: Sequence[tuple[int, int]]) -> np.ndarray:
    """Mean token state of each sentence span, (sentences, hidden)."""
    return np.stack([states[a:b].mean(axis=0) for a, b in spans])


@dataclass(frozen=True)
class ReaderHead:
    """Two dense layers on [sentence, sentence - window mean]: the sentence's own reading and
    how it differs from the rest of the window."""

    hidden_weight: np.ndarray  # (HEAD_HIDDEN, 2 * hidden)
    hidden_bias: np.ndarray
    out_weight: np.ndarray  # (1, HEAD_HIDDEN)
    out_bias: np.ndarray

    def logits(self, pooled: np.ndarray) -> np.ndarray:
        """Logit of 'planted' for each sentence of one window."""
        x = np.concatenate([pooled, pooled - pooled.mean(axis=0, keepdims=True)], axis=1)
        h = np.maximum(x @ self.hidden_weight.T + self.hidden_bias, 0.0)
        return (h @ self.out_weight.T + self.out_bias)[:, 0]


@dataclass(frozen=True)
class Adapters:
    """What ships: LoRA factors per adapted weight, the head, and how they were made."""

    lora: dict[str, tuple[np.ndarray, np.ndarray]]  # weight name -> (A (rank, in), B (out, rank))
    scale: float  # alpha / rank
    head: ReaderHead
    meta: dict

    @classmethod
    def from_bytes(cls, data: bytes) -> "Adapters":
        arrays = dict(np.load(io.BytesIO(data), allow_pickle=False))
        meta = json.loads(str(arrays.pop("meta")))
        # Adapters may ship in half precision (a higher rank within the size limit); merging and
        # the head run in float32 either way.
        arrays = {k: v.astype(np.float32, copy=False) if v.dtype.kind == "f" else v for k, v in arrays.items()}
        lora = {}
        for key in [k for k in arrays if k.endswith(".lora_A")]:
            name = key[: -len(".lora_A")]
            lora[name] = (arrays[key], arrays[name + ".lora_B"])
        head = ReaderHead(arrays["head.hidden.weight"], arrays["head.hidden.bias"], arrays["head.out.weight"], arrays["head.out.bias"])
        return cls(lora, float(meta["alpha"]) / float(meta["rank"]), head, meta)

    @classmethod
    def default(cls, kind: ReaderKind = "article") -> "Adapters | None":
        """The shipped adapters of a reader, or None in an installation without them."""
        path = resources.files("coherence.models").joinpath(adapters_file(kind))
        return cls.from_bytes(path.read_bytes()) if path.is_file() else None

    def to_arrays(self) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {"meta": np.asarray(json.dumps(self.meta, sort_keys=True))}
        for name, (a, b) in self.lora.items():
            out[name + ".lora_A"], out[name + ".lora_B"] = a, b
        head = self.head
        out.update({"head.hidden.weight": head.hidden_weight, "head.hidden.bias": head.hidden_bias})
        out.update({"head.out.weight": head.out_weight, "head.out.bias": head.out_bias})
        return out


def join_reader(probability: np.ndarray, reader_logits: np.ndarray, coef: Sequence[float], intercept: float) -> np.ndarray:
    """A reader's logit joined to another model's probability: a logistic over the rows of
    `join_inputs` (`coef` weighs the probability's log-odds, the reader's logit and, when given,
    the larger of the two), fitted on data neither saw."""
    inputs = join_inputs(probability, reader_logits)[:, : len(coef)]
    return 1.0 / (1.0 + np.exp(-(inputs @ np.asarray(coef, dtype=float) + intercept)))


def join_inputs(probability: np.ndarray, reader_logits: np.ndarray) -> np.ndarray:
    """What a join weighs, one row per sentence: the probability's log-odds, the reader's logit,
    and the larger of the two (so either side can carry a verdict the other cannot see, and a
    higher verdict on either side never lowers the joined probability)."""
    w, r = log_odds(probability), np.asarray(reader_logits, dtype=float)
    return np.column_stack([w, r, np.maximum(w, r)])


def log_odds(probability: np.ndarray) -> np.ndarray:
    """log(p / (1 - p)), kept finite at 0 and 1."""
    p = np.clip(probability, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def adapters_file(kind: ReaderKind) -> str:
    """The shipped file of a reader's adapters."""
    return {"article": READER_ADAPTERS, "page": PAGE_READER_ADAPTERS}[kind]


def merge_adapters(weights: Mapping[str, np.ndarray], adapters: Adapters) -> dict[str, np.ndarray]:
    """The bundled weights with every adapter folded in: W + scale * B @ A. A name that the
    weights do not hold is an error, never a silently unadapted layer."""
    merged = dict(weights)
    for name, (a, b) in adapters.lora.items():
        if name not in merged:
            raise KeyError(f"the reader's adapter {name!r} has no weight in the bundled model")
        merged[name] = (merged[name] + adapters.scale * (b @ a)).astype(merged[name].dtype)
    return merged

"""The fast tier's sentence vectors: a weighted bag of token vectors, no neural network at run time.

The token table (`coherence.encoders.static_export`) is distilled locally from the bundled model's own
weights: every vocabulary token run through the model alone. A sentence's vector is the mean
of its tokens' rows, each weighed by how rare its word is (``a / (a + frequency)``), mapped by
a linear map into the model's sentence space and normalised. The map
(``coherence/encoders/static_map.npz``, 384 x 384) is fitted by ``training/fit_static.py`` on
development sentences to bring the bag close to the model's sentence vectors
(reports/speed.md measures how close). A sentence costs a tokenisation and a few row sums:
tens of thousands of sentences a second on one core, at a cost in quality the quality
benchmark measures.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from coherence.encoders.base import DEFAULT_MODEL, resolve_model, vector_space_of
from coherence.encoders.model_cache import BuiltModel, token_table

__all__ = ["StaticEncoder", "StaticMap", "STATIC_MAP", "bag_of_tokens", "token_weights"]

STATIC_MAP = "static_map.npz"


@dataclass(frozen=True)
class StaticMap:
    """The fitted linear map from a bag of token vectors to the model's sentence space."""

    matrix: np.ndarray  # (dim, dim)
    bias: np.ndarray  # (dim,)
    smoothing: float  # a in a / (a + frequency)
    vector_space: str  # the model whose token table and sentence vectors it was fitted on
    meta: dict[str, Any]

    @classmethod
    def default(cls) -> "StaticMap":
        """The map shipped with the package."""
        path = resources.files("coherence.encoders").joinpath(STATIC_MAP)
        if not path.is_file():
            raise RuntimeError(f"coherence/{STATIC_MAP} is missing from this installation; speed='fast' needs it")
        return cls.from_bytes(path.read_bytes())

    @classmethod
    def from_bytes(cls, data: bytes) -> "StaticMap":
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            meta = json.loads(str(archive["meta"]))
            return cls(
                archive["matrix"].astype(np.float32),
                archive["bias"].astype(np.float32),
                float(meta["smoothing"]),
                str(meta["vector_space"]),
                meta,
            )

    def to_bytes(self) -> bytes:
        meta = {**self.meta, "smoothing": self.smoothing, "vector_space": self.vector_space}
        buffer = io.BytesIO()
        np.savez(buffer, matrix=self.matrix.astype(np.float32), bias=self.bias.astype(np.float32), meta=json.dumps(meta))
        return buffer.getvalue()


def token_weights(frequency: np.ndarray, smoothing: float) -> np.ndarray:
    """Weight of each token: ``a / (a + frequency)``, so rare words count more than "the"."""
    return (smoothing / (smoothing + np.asarray(frequency, dtype=np.float64))).astype(np.float32)


_TOKENS_PER_SUM = 1024  # rows gathered at once stay in the CPU cache (about 4x faster than all at once)


def bag_of_tokens(token_ids: Sequence[Sequence[int]], table: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted mean of the table's rows for each sentence's tokens, (n, dim); zeros for a
    sentence without tokens. Each sentence's row depends on its own tokens only, and memory
    stays bounded however long a sentence is."""
    out = np.zeros((len(token_ids), table.shape[1]), dtype=np.float32)
    group: list[int] = []
    gathered = 0
    for i, ids in enumerate(token_ids):
        if len(ids) > _TOKENS_PER_SUM:
            out[i] = _long_bag(ids, table, weights)
        elif ids:
            if gathered + len(ids) > _TOKENS_PER_SUM:
                _sum_group(group, token_ids, table, weights, out)
                group, gathered = [], 0
            group.append(i)
            gathered += len(ids)
    _sum_group(group, token_ids, table, weights, out)
    return out


def _sum_group(
    group: list[int], token_ids: Sequence[Sequence[int]], table: np.ndarray, weights: np.ndarray, out: np.ndarray
) -> None:
    """`out[i]` for the sentences of `group`, their rows gathered in one go."""
    if not group:
        return
    lengths = np.array([len(token_ids[i]) for i in group])
    flat = np.concatenate([np.asarray(token_ids[i], dtype=np.int64) for i in group])
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    w = weights[flat]
    sums = np.add.reduceat(table[flat] * w[:, None], starts, axis=0)
    out[group] = sums / np.maximum(np.add.reduceat(w, starts), 1e-12)[:, None]


def _long_bag(ids: Sequence[int], table: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The weighted mean for one sentence longer than `_TOKENS_PER_SUM` tokens, block by block."""
    flat = np.asarray(ids, dtype=np.int64)
    total = np.zeros(table.shape[1], dtype=np.float64)
    for first in range(0, len(flat), _TOKENS_PER_SUM):
        block = flat[first : first + _TOKENS_PER_SUM]
        total += weights[block] @ table[block]
    return (total / max(float(weights[flat].sum(dtype=np.float64)), 1e-12)).astype(np.float32)


class StaticEncoder:
    """Sentence vectors of the fast tier (`Detector(speed="fast")`), L2-normalised float32.

    Args:
        model: the default model's name (the shipped map is fitted for it); its token table is
            built locally from the bundled weights on first use and cached.
    """

    def __init__(self, model: str = DEFAULT_MODEL) -> None:
        self.model = model
        self.table_: np.ndarray | None = None
        self.weights_: np.ndarray | None = None
        self.bias_: np.ndarray | None = None
        self.tokenizer_: Any = None
        self.built_: BuiltModel | None = None

    @property
    def vector_space(self) -> str:
        """Not the model's own space: the context model, trained on its vectors, does not apply."""
        return "static:" + vector_space_of(self.model)

    def __getstate__(self) -> dict[str, Any]:
        """Pickles without the loaded table (another process loads it from the cache)."""
        return {**self.__dict__, "table_": None, "weights_": None, "bias_": None, "tokenizer_": None, "built_": None}

    def _source(self) -> Path:
        if vector_space_of(self.model) != DEFAULT_MODEL:
            raise ValueError(
                f"speed='fast' is fitted for the bundled {DEFAULT_MODEL} only, not {self.model!r}; use speed='default'"
            )
        return Path(resolve_model(self.model)[0])

    def prepare(self, rebuild: bool = False) -> BuiltModel:
        """Build (if missing or stale) and locate the cached token table."""
        self.built_ = token_table(self._source(), DEFAULT_MODEL, rebuild=rebuild)
        return self.built_

    def raw_table(self) -> tuple[np.ndarray, np.ndarray]:
        """The cached token vectors and word frequencies, before the map."""
        built = self.built_ or self.prepare()
        try:
            with np.load(built.path, allow_pickle=False) as archive:
                return archive["vectors"], archive["frequency"]
        except (OSError, ValueError, KeyError) as exc:
            raise RuntimeError(f"could not read {built.path}: {exc}; `coherence prepare --rebuild` builds it again") from None

    def tokenizer(self) -> Any:
        """The model's tokenizer, without padding or truncation, and without [CLS]/[SEP]."""
        if self.tokenizer_ is None:
            from tokenizers import Tokenizer

            tokenizer = Tokenizer.from_file(str(self._source() / "tokenizer.json"))
            tokenizer.no_padding()
            tokenizer.no_truncation()
            self.tokenizer_ = tokenizer
        return self.tokenizer_

    def token_ids(self, sentences: Sequence[str]) -> list[list[int]]:
        return [e.ids for e in self.tokenizer().encode_batch(list(sentences), add_special_tokens=False)]

    def load(self) -> None:
        """Build the mapped token table now (else on first use)."""
        if self.table_ is None:
            self._load()

    def _load(self) -> None:
        self._source()  # only the bundled model has a fitted map
        mapping = StaticMap.default()
        if mapping.vector_space != vector_space_of(self.model):
            raise RuntimeError(f"coherence/{STATIC_MAP} was fitted for {mapping.vector_space}, not {self.model}")
        vectors, frequency = self.raw_table()
        self.table_ = np.ascontiguousarray(vectors @ mapping.matrix, dtype=np.float32)
        self.weights_ = token_weights(frequency, mapping.smoothing)
        self.bias_ = mapping.bias

    def encode(self, sentences: Sequence[str]) -> np.ndarray:
        """Embed sentences; each vector depends on its own sentence only."""
        self.load()
        assert self.table_ is not None and self.weights_ is not None and self.bias_ is not None
        vectors = bag_of_tokens(self.token_ids(sentences), self.table_, self.weights_) + self.bias_
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)

    @property
    def dimension(self) -> int:
        self.load()
        assert self.table_ is not None
        return int(self.table_.shape[1])

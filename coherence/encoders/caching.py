"""A cache of sentence vectors in front of any encoder: sentences repeat across a corpus."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np

from coherence.encoders.base import Encoder, load, prepare, vector_space

__all__ = ["CachingEncoder"]


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
        return vector_space(self.encoder)

    def prepare(self) -> Any:
        """Prepare the wrapped encoder, if it has anything to prepare (a model to build)."""
        return prepare(self.encoder)

    def load(self) -> None:
        """Load the wrapped encoder now, if it loads anything."""
        load(self.encoder)

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

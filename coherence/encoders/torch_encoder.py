"""The reference encoder: sentence-transformers in fp32, offline for local models."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from coherence.encoders.base import DEFAULT_MODEL, resolve_model, vector_space_of

__all__ = ["SentenceEncoder"]


class SentenceEncoder:
    """Lazy sentence-transformers encoder returning L2-normalised float32 vectors.

    Args:
        model: a sentence-transformers model name or path; the default is the bundled MiniLM.
        batch_size: sentences per forward pass.
        device: torch device; this project targets the CPU.
        threads: torch's intra-op threads, set when the model loads (a process-wide setting:
            a batch worker that owns its process sets it); None: torch's own choice.
    """

    def __init__(
        self, model: str = DEFAULT_MODEL, batch_size: int = 64, device: str = "cpu", threads: int | None = None
    ) -> None:
        self.model = model
        self.batch_size = batch_size
        self.device = device
        self.threads = threads
        self.model_: Any = None

    def __getstate__(self) -> dict[str, Any]:
        """Pickles without the loaded model (another process loads it again)."""
        return {**self.__dict__, "model_": None}

    @property
    def vector_space(self) -> str:
        """The model whose vectors this encoder returns."""
        return vector_space_of(self.model)

    def prepare(self) -> None:
        """Nothing to build: sentence-transformers runs the model's own weights."""

    def _load(self) -> Any:
        location, local = resolve_model(self.model)
        import torch
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # a scoring tool should not print load bars
        if self.threads is not None:
            torch.set_num_threads(self.threads)
        try:  # a local model never asks the hub, and the caller's environment is left alone
            return SentenceTransformer(location, device=self.device, local_files_only=local)
        except Exception as exc:
            raise RuntimeError(f"could not load model {self.model!r}: {exc}") from exc

    def load(self) -> None:
        """Load the model now (else on first use)."""
        if self.model_ is None:
            self.model_ = self._load()

    def encode(self, sentences: Sequence[str]) -> np.ndarray:
        """Embed sentences (longest first inside sentence-transformers, order kept)."""
        self.load()
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

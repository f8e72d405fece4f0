"""Sentence embeddings from an int8 ONNX copy of the model: onnxruntime and tokenizers only.

The copy is built locally from the bundled weights on first use (or ahead of time by
``coherence prepare``) and cached (`coherence.encoders.model_cache`). Its vectors are those of the
fp32 model up to quantisation (cosine about 0.99 to the fp32 vector); reports/speed.md
measures the speed and what it costs in detection quality.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from coherence.encoders.onnx_session import one_core_session, pass_pool
from coherence.encoders.base import DEFAULT_MODEL, resolve_model, vector_space_of
from coherence.encoders.model_cache import BuiltModel, int8_model

__all__ = ["OnnxEncoder"]


def _check_supported(source: Path) -> None:
    """Refuse, before any build, a model the exported graph would not reproduce."""
    if not (source / "tokenizer.json").is_file():
        raise ValueError(f"backend='onnx' needs the model's tokenizer.json, and {source} has none. Use backend='torch'.")
    modules_file = source / "modules.json"
    if modules_file.is_file():
        kinds = [m.get("type", "").rsplit(".", 1)[-1] for m in json.loads(modules_file.read_text())]
        if kinds not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
            raise ValueError(
                f"backend='onnx' supports a Transformer, mean Pooling and Normalize; {source} has {kinds}. Use backend='torch'."
            )
    pooling = source / "1_Pooling" / "config.json"
    config = json.loads(pooling.read_text()) if pooling.is_file() else {}
    if not config.get("pooling_mode_mean_tokens", False):
        raise ValueError(
            f"backend='onnx' supports sentence-transformers models with mean pooling; {source} has "
            f"{pooling if pooling.is_file() else 'no pooling config'}. Use backend='torch'."
        )


def _max_tokens(source: Path) -> int:
    config = source / "sentence_bert_config.json"
    return int(json.loads(config.read_text()).get("max_seq_length", 256)) if config.is_file() else 256


class OnnxEncoder:
    """Lazy int8 ONNX encoder returning L2-normalised float32 vectors.

    Args:
        model: the default model's name, or a local sentence-transformers model directory
            (mean pooling); models are never fetched.
        threads: sentences embedded at once, each pass on one core; None: OMP_NUM_THREADS
            if set (as Ray sets it for an actor), else one per core this process may use.
    """

    def __init__(self, model: str = DEFAULT_MODEL, threads: int | None = None) -> None:
        if threads is not None and threads < 1:
            raise ValueError(f"threads must be at least 1, got {threads}")
        self.model = model
        self.threads = threads
        self.session_: Any = None
        self.tokenizer_: Any = None
        self.pool_: ThreadPoolExecutor | None = None
        self.built_: BuiltModel | None = None
        self.pid_: int | None = None  # the process that loaded the session

    @property
    def vector_space(self) -> str:
        """The model whose vectors this encoder approximates."""
        return vector_space_of(self.model)

    def __getstate__(self) -> dict[str, Any]:
        """Pickles without the loaded session (another process loads it from the cache)."""
        # no session, pool or cache path: another process (or machine) finds its own copy
        return {**self.__dict__, "session_": None, "tokenizer_": None, "pool_": None, "built_": None, "pid_": None}

    def prepare(self, rebuild: bool = False) -> BuiltModel:
        """Build (if missing or stale) and locate the cached int8 model."""
        location, local = resolve_model(self.model)
        if not local:
            raise ValueError(
                f"backend='onnx' builds from a local model directory, and {self.model!r} is not one; "
                "give its path, or use backend='torch' (--backend torch) to load it with sentence-transformers"
            )
        source = Path(location)
        _check_supported(source)
        name = Path(self.vector_space).name or "model"
        self.built_ = int8_model(source, name, rebuild=rebuild)
        return self.built_

    def load(self) -> None:
        """Load the session and tokenizer now (else on first use; again in a forked child)."""
        if self.session_ is None or self.pid_ != os.getpid():  # a forked child has no pool threads
            self._load()

    def _load(self) -> None:
        from tokenizers import Tokenizer

        built = self.built_ or self.prepare()
        source = Path(resolve_model(self.model)[0])
        try:
            tokenizer = Tokenizer.from_file(str(source / "tokenizer.json"))
        except Exception as exc:  # tokenizers raises a bare Exception
            raise RuntimeError(f"could not read {source / 'tokenizer.json'}: {exc}") from None
        tokenizer.no_padding()  # the shipped tokenizer pads every sentence to 128 tokens
        tokenizer.enable_truncation(_max_tokens(source))
        self.session_ = one_core_session(built.path)
        self.tokenizer_ = tokenizer
        self.pid_ = os.getpid()
        self.pool_ = pass_pool(self.threads, "coherence-onnx")

    def encode(self, sentences: Sequence[str]) -> np.ndarray:
        """Embed sentences, one forward pass each, several at once.

        One sentence per pass on purpose: int8 activations are scaled per pass, so in a batch
        a sentence's vector would depend on its batch-mates (and `score` would disagree with
        `score_many`). Passes run `threads` at a time.
        """
        self.load()
        if not sentences:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = np.zeros((len(sentences), self.dimension), dtype=np.float32)
        encodings = self.tokenizer_.encode_batch(list(sentences))

        def embed(row: int) -> None:  # onnxruntime releases the GIL while it runs
            ids = np.asarray([encodings[row].ids], dtype=np.int64)
            inputs = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
            vectors[row] = self.session_.run(None, inputs)[0][0]

        if self.pool_ is None or len(sentences) == 1:
            for row in range(len(sentences)):
                embed(row)
        else:
            list(self.pool_.map(embed, range(len(sentences)), chunksize=8))
        return vectors

    @property
    def dimension(self) -> int:
        """Length of the vectors."""
        self.load()
        return int(self.session_.get_outputs()[0].shape[-1])

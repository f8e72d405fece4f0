"""The one place that turns encoder options into an encoder.

Every caller (the Detector, the batch engines, the report's flag map) asks here, so a new
backend is one branch here and nowhere else, and an option that would be ignored fails loudly.
"""

from __future__ import annotations

from typing import get_args

from coherence.encoders.base import DEFAULT_MODEL, Backend, ModelEncoder, Speed, vector_space_of

__all__ = ["check_encoder_options", "make_encoder"]


def check_encoder_options(model: object, backend: Backend | None, speed: Speed) -> None:
    """Raise ValueError for options that name no encoder, or that the chosen one would ignore."""
    if backend is not None and backend not in get_args(Backend):
        raise ValueError(f"backend must be one of {get_args(Backend)}, got {backend!r}")
    if speed not in get_args(Speed):
        raise ValueError(f"speed must be one of {get_args(Speed)}, got {speed!r}")
    if speed == "fast" and not (isinstance(model, str) and vector_space_of(model) == DEFAULT_MODEL):
        raise ValueError(
            f"speed='fast' is distilled from the bundled {DEFAULT_MODEL} only; leave `model` at its default "
            "or use speed='default'"
        )
    if speed == "fast" and backend is not None:
        raise ValueError(f"backend={backend!r} applies to speed='default' only; the fast tier runs no neural network")


def make_encoder(
    model: str,
    backend: Backend | None = None,
    speed: Speed = "default",
    batch_size: int = 64,
    embedding_cache: int = 0,
    threads: int | None = None,
) -> ModelEncoder:
    """The encoder for a model given by name or path.

    Args:
        backend: "onnx" (None means it too: the default) or "torch"; None is the only value the
            fast tier takes.
        speed: "fast" gives the static token table (cheaper than any cache look-up: never cached).
        embedding_cache: sentences whose vectors are kept in front of the encoder (0: none).
        threads: cores the encoder may use; None: its own choice.
    """
    check_encoder_options(model, backend, speed)
    if speed == "fast":
        from coherence.encoders.static_encoder import StaticEncoder

        return StaticEncoder(model)
    inner: ModelEncoder
    if backend == "torch":
        from coherence.encoders.torch_encoder import SentenceEncoder

        inner = SentenceEncoder(model, batch_size=batch_size, threads=threads)
    else:
        from coherence.encoders.onnx_encoder import OnnxEncoder

        inner = OnnxEncoder(model, threads=threads)
    if not embedding_cache:
        return inner
    from coherence.encoders.caching import CachingEncoder

    return CachingEncoder(inner, embedding_cache)

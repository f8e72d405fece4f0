"""The checks a Detector's arguments pass before any article is scored (`Detector.check_params`)."""

from __future__ import annotations

from numbers import Integral, Real
from typing import TYPE_CHECKING, Any, get_args

from coherence.encoders.base import DEFAULT_MODEL, PageReaderUse, ReaderUse, model_name, reader_use, vector_space_of
from coherence.encoders.factory import check_encoder_options

if TYPE_CHECKING:
    from coherence.detector import Detector

__all__ = ["check_detector_params"]

_UNIT_OR_NONE = ("off_topic_threshold", "companion_threshold", "leftover_threshold", "leftover_companion_threshold")
# whole numbers and their least: articles_per_batch=0 would read no article, an empty stream
_COUNTS = {"batch_size": 1, "articles_per_batch": 1, "min_sentences": 0, "embedding_cache": 0}


def _number(name: str, value: Any, kind: type = Real) -> None:
    """Raise TypeError naming `name` when `value` is not a number of `kind` (a bool is none)."""
    if isinstance(value, bool) or not isinstance(value, kind):
        raise TypeError(f"{name} must be a {'whole ' if kind is Integral else ''}number, got {value!r}")


def check_detector_params(detector: Detector) -> None:
    """Raise ValueError (TypeError for a wrong type) for an argument out of range; cheap, since
    every entry point calls it."""
    d = detector
    for name in ("threshold", "min_confidence"):
        _number(name, getattr(d, name))
        if not 0.0 <= getattr(d, name) <= 1.0:  # NaN fails too
            raise ValueError(f"{name} must be within [0, 1], got {getattr(d, name)}")
    for name in _UNIT_OR_NONE:
        value = getattr(d, name)
        if value is not None:
            _number(name, value)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be within [0, 1] or None, got {value}")
    _number("flag_rate", d.flag_rate)
    for name, least in _COUNTS.items():
        _number(name, getattr(d, name), Integral)
        if getattr(d, name) < least:
            raise ValueError(f"{name} must be {least} or more, got {getattr(d, name)}")
    if d.threads is not None:
        _number("threads", d.threads, Integral)
        if d.threads < 1:
            raise ValueError(f"threads must be at least 1 or None, got {d.threads}")
    if not isinstance(d.leftovers, bool):  # leftovers="no" would read as on
        raise TypeError(f"leftovers must be True or False, got {d.leftovers!r}")
    name = model_name(d.model)
    if name is None and not callable(getattr(d.model, "encode", None)):
        raise TypeError(f"model must be a model name or path (a str or a path), or an object with encode(sentences), got {d.model!r}")
    check_encoder_options(d.model if name is None else name, d.backend, d.speed)
    if not isinstance(d.reader, bool) and d.reader not in get_args(ReaderUse):
        raise ValueError(f"reader must be one of {', '.join(map(repr, get_args(ReaderUse)))} (or True / False), got {d.reader!r}")
    always = reader_use(d.reader) == "always"
    if always and (d.speed != "default" or not (name is not None and vector_space_of(name) == DEFAULT_MODEL)):
        raise ValueError(f"reader='always' reads with the bundled {DEFAULT_MODEL} at speed='default' only")
    if always and d.intrusion_model.reader is None:
        raise ValueError("reader='always' needs the reader weights, which this installation does not ship")
    if d.page_reader not in get_args(PageReaderUse):
        raise ValueError(f"page_reader must be one of {', '.join(map(repr, get_args(PageReaderUse)))}, got {d.page_reader!r}")
    if d.off_topic_threshold is None:  # a flag_rate outside the shipped points fails here
        d.intrusion_model.score_cut(d.flag_rate)

"""The checks a Detector's arguments pass before any article is scored (`Detector.check_params`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, get_args

from coherence.encoders.base import DEFAULT_MODEL, PageReaderUse, ReaderUse, reader_use, vector_space_of
from coherence.encoders.factory import check_encoder_options

if TYPE_CHECKING:
    from coherence.detector import Detector

__all__ = ["check_detector_params"]

_UNIT_OR_NONE = ("off_topic_threshold", "companion_threshold", "leftover_threshold", "leftover_companion_threshold")


def check_detector_params(detector: Detector) -> None:
    """Raise ValueError (TypeError for a wrong type) for an argument out of range; cheap, since
    every entry point calls it."""
    d = detector
    if not (isinstance(d.threshold, (int, float)) and 0.0 <= d.threshold <= 1.0):  # NaN fails too
        raise ValueError(f"threshold must be within [0, 1], got {d.threshold}")
    for name in _UNIT_OR_NONE:
        value = getattr(d, name)
        if value is not None and not 0.0 <= value <= 1.0:
            raise ValueError(f"{name} must be within [0, 1] or None, got {value}")
    if d.embedding_cache < 0:
        raise ValueError(f"embedding_cache must be 0 or more, got {d.embedding_cache}")
    if d.threads is not None and d.threads < 1:
        raise ValueError(f"threads must be at least 1 or None, got {d.threads}")
    check_encoder_options(d.model, d.backend, d.speed)
    if not isinstance(d.reader, bool) and d.reader not in get_args(ReaderUse):
        raise ValueError(f"reader must be one of {', '.join(map(repr, get_args(ReaderUse)))} (or True / False), got {d.reader!r}")
    always = reader_use(d.reader) == "always"
    if always and (d.speed != "default" or not (isinstance(d.model, str) and vector_space_of(d.model) == DEFAULT_MODEL)):
        raise ValueError(f"reader='always' reads with the bundled {DEFAULT_MODEL} at speed='default' only")
    if always and d.intrusion_model.reader is None:
        raise ValueError("reader='always' needs the reader weights, which this installation does not ship")
    if d.page_reader not in get_args(PageReaderUse):
        raise ValueError(f"page_reader must be one of {', '.join(map(repr, get_args(PageReaderUse)))}, got {d.page_reader!r}")
    if d.off_topic_threshold is None:  # a flag_rate outside the shipped points fails here
        d.intrusion_model.score_cut(d.flag_rate)

"""The one place that turns options into a detector ready to score.

The CLI, the local batch engine and its workers, Ray, datatrove, the Hugging Face engine and
the report all start here, so a bad option fails the same way everywhere (before any record
is read) and a model built on first use is built once, by the process that asks first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from coherence.detector import Detector

__all__ = ["ready_detector"]


def ready_detector(
    options: Detector | Mapping[str, Any] | None = None, *, threads: int | None = None, prepare: bool = True
) -> Detector:
    """A checked detector from a Detector or its constructor arguments.

    Args:
        threads: cores its encoder may use (a worker's share of the machine); None: leave as is.
        prepare: build what scoring needs now (the int8 model, the fast tier's table); False
            in workers whose parent prepared already.

    Raises:
        ValueError, TypeError: an unknown or out-of-range option.
    """
    detector = options if isinstance(options, Detector) else Detector(**dict(options or {}))
    if threads is not None:
        detector.set_params(threads=threads)
    detector.check_params()
    if prepare:
        detector.prepare()
    return detector

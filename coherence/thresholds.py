"""Pick thresholds by target rate: "fail at most 3% of this corpus", not a guessed number.

Both helpers read results of an already scored corpus (`ArticleResult` objects or their
`to_dict(sentences=True)` records) and return the threshold to pass back to `Detector`:

    results = list(Detector().score_many(sample))
    gate = coherence_threshold(results, fail_rate=0.05)      # Detector(threshold=gate)
    cut = off_topic_threshold(results, flag_rate=0.05)       # Detector(off_topic_threshold=cut)

Sentence scores do not depend on either threshold, so re-thresholding needs no re-scoring.
Records with an `error` are left out of the rates (they fail or pass by their own rules).
JSON records carry values rounded to `DECIMALS`; a cut chosen from them is lowered by half a
rounding step, so the unrounded values behind them keep the rate too.
"""


from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from coherence.io.schema import DECIMALS
from coherence.results import ArticleResult
from coherence.verdict import off_topic_eligible

__all__ = ["coherence_threshold", "off_topic_threshold", "rate_cut", "rate_table"]

Record = ArticleResult | Mapping[str, Any]
_ROUNDING = 0.5 * 10.0**-DECIMALS
_NOT_TOPIC = ("boilerplate", "duplicate", "fragment")


def _field(record: Record, name: str) -> Any:
    return record.get(name) if isinstance(record, Mapping) else getattr(record, name)


def _topic_sentences(record: Record) -> list[tuple[float, float]]:
    """(fit, confidence) of the sentences the topic model weighs: its `off_topic` cut reads the
    fit (the score before the leftover cap); rule flags and the line model's own flags
    (evidence "leftover") are decided before it, whatever the cut."""
    if isinstance(record, Mapping):
        if "sentences" not in record:
            raise ValueError(
                "off_topic_threshold needs every sentence's score: pass ArticleResult objects "
                "or records written with sentences (to_dict(sentences=True))"
            )
        rows = [(s.get("fit", s["score"]), s.get("confidence", 1.0), s.get("reason"), s.get("evidence")) for s in record["sentences"]]
    else:
        rows = [(s.fit, s.confidence, s.reason, s.evidence) for s in record.sentences]
    return [(float(fit), float(conf)) for fit, conf, reason, evidence in rows if reason not in _NOT_TOPIC and evidence != "leftover"]


def rate_cut(values: np.ndarray, rate: float) -> float:
    """The largest t with mean(values < t) <= rate; values equal to t are not counted, and
    an infinite value (a record that can never fall below) counts in the denominator only."""
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"rate must be within [0, 1], got {rate}")
    if len(values) == 0:
        raise ValueError("no scored records to choose a threshold from")
    values = np.sort(values)
    allowed = math.floor(rate * len(values) + 1e-9)
    finite = values[np.isfinite(values)]
    if allowed < len(values) and np.isfinite(values[allowed]):
        return float(values[allowed])
    return float(np.nextafter(finite[-1], np.inf)) if len(finite) else 1.0


def coherence_threshold(results: Iterable[Record], fail_rate: float) -> float:
    """The highest article threshold at which at most `fail_rate` of the articles fail
    (an article fails when its coherence is below the threshold)."""
    records = [r for r in results if _field(r, "error") is None and _field(r, "coherence") is not None]
    values = np.array([_field(r, "coherence") for r in records], dtype=float)
    return rate_cut(values, fail_rate) - _rounding(records)


def off_topic_threshold(
    results: Iterable[Record],
    flag_rate: float,
    *,
    min_confidence: float = 0.2,
    min_sentences: int = 4,
) -> float:
    """The highest `off_topic_threshold` at which at most `flag_rate` of the articles get an
    off_topic flag. Pass the same `min_confidence` and `min_sentences` as the Detector:
    they decide which sentences may be flagged at all. Companion flags
    (`Detector(companion_threshold=...)`) come only in articles this cut already flags, so
    they leave the rate as it is."""
    lowest, records = [], []
    for record in results:
        if _field(record, "error") is not None:
            continue
        records.append(record)
        topic = _topic_sentences(record)
        eligible = off_topic_eligible([conf for _, conf in topic], min_confidence, min_sentences)
        scores = [score for (score, _), may in zip(topic, eligible) if may]
        lowest.append(min(scores) if scores else np.inf)
    values = np.array(lowest, dtype=float)
    if len(values) and not np.isfinite(values).any():
        raise ValueError(
            f"no article of the sample can carry an off_topic flag (each needs {min_sentences} content "
            f"sentences and one with confidence >= {min_confidence}): score a larger or longer sample"
        )
    return rate_cut(values, flag_rate) - _rounding(records)


def _rounding(records: list[Record]) -> float:
    """Half a rounding step when any record is a rounded JSON record, else 0."""
    return _ROUNDING if any(isinstance(r, Mapping) for r in records) else 0.0


def rate_table(values: Iterable[float], thresholds: Iterable[float]) -> list[tuple[float, float]]:
    """(threshold, share of values below it) for each threshold: what a gate would fail."""
    array = np.asarray(list(values), dtype=float)
    array = array[np.isfinite(array)]
    if len(array) == 0:
        return [(float(t), 0.0) for t in thresholds]
    return [(float(t), float((array < t).mean())) for t in thresholds]

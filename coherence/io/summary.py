"""The end-of-run summary of a batch: counts, pass rate, flags per reason, score histogram."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from coherence.verdict import REASONS

__all__ = ["BatchSummary"]

_BINS = 10
_EXAMPLES = 5


@dataclass
class BatchSummary:
    """Aggregates output records one at a time, in constant memory."""

    records: int = 0
    scored: int = 0
    errors: int = 0
    passed: int = 0
    flags: Counter[str] = field(default_factory=Counter)
    articles_flagged: Counter[str] = field(default_factory=Counter)
    histogram: list[int] = field(default_factory=lambda: [0] * _BINS)
    error_examples: list[dict[str, Any]] = field(default_factory=list)

    def add(self, record: dict[str, Any]) -> None:
        self.records += 1
        if record.get("error") is not None:
            self.errors += 1
            if len(self.error_examples) < _EXAMPLES:
                # the position names a record whose id is unknown (a line that is not JSON)
                self.error_examples.append({"record": self.records - 1, "id": record.get("id"), "error": record["error"]})
            return
        self.scored += 1
        self.passed += bool(record.get("passed"))
        coherence = float(record.get("coherence") or 0.0)
        self.histogram[min(int(coherence * _BINS), _BINS - 1)] += 1
        reasons = [span["reason"] for span in record.get("flags") or []]
        self.flags.update(reasons)
        self.articles_flagged.update(set(reasons))

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.scored if self.scored else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "scored": self.scored,
            "errors": self.errors,
            "passed": self.passed,
            "pass_rate": None if self.pass_rate is None else round(self.pass_rate, 4),
            "flags": {reason: self.flags.get(reason, 0) for reason in REASONS},
            "articles_flagged": {reason: self.articles_flagged.get(reason, 0) for reason in REASONS},
            "coherence_histogram": {
                "edges": [round(k / _BINS, 2) for k in range(_BINS + 1)],
                "counts": list(self.histogram),
            },
            "error_examples": list(self.error_examples),
        }

    def format(self) -> str:
        """A short human-readable report."""
        rate = "n/a" if self.pass_rate is None else f"{self.pass_rate:.1%}"
        lines = [
            f"records {self.records:,}  scored {self.scored:,}  errors {self.errors:,}  passed {self.passed:,} ({rate})",
            "flags (sentences / articles): "
            + ", ".join(f"{r} {self.flags.get(r, 0):,} / {self.articles_flagged.get(r, 0):,}" for r in REASONS),
            "coherence histogram:",
        ]
        peak = max(self.histogram) or 1
        for k, count in enumerate(self.histogram):
            bar = "#" * round(30 * count / peak)
            lines.append(f"  {k / _BINS:.1f}-{(k + 1) / _BINS:.1f} {count:>9,} {bar}")
        for example in self.error_examples:
            where = f"record {example['record']}" + ("" if example["id"] is None else f" (id {example['id']!r})")
            lines.append(f"error in {where}: {example['error']}")
        return "\n".join(lines)

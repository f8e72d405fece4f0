"""One streaming pass over `coherence batch` output: what the corpus page needs, in bounded memory.

Kept whole: one coherence value per scored article (8 bytes each) and the per-reason counts.
Kept bounded: the `worst` lowest-coherence records and, per reason, a fixed-seed reservoir
sample of flagged sentences. Every other record is read, counted and dropped.
"""

from __future__ import annotations

import gzip
import heapq
import json
import random
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from coherence.io.fields import InputError
from coherence.io.schema import OUTPUT_FIELDS
from coherence.io.summary import BatchSummary
from coherence.verdict import REASONS
from coherence.io.writers import output_format

__all__ = ["CorpusStats", "read_results", "results_format", "summarise_results"]

RESULT_COLUMNS = tuple(name for name in OUTPUT_FIELDS if name not in ("counts", "language"))  # what the page reads
_ROWS_PER_READ = 2048


def results_format(path: Path) -> str | None:
    """"jsonl" or "parquet" for a name `coherence batch` writes, else None."""
    try:
        fmt = output_format(path)
    except InputError:
        return None
    return "parquet" if fmt == "parquet" else "jsonl"


def read_results(path: str | Path) -> Iterator[dict[str, Any]]:
    """The records of a `coherence batch` output (JSONL, .jsonl.gz or Parquet), one at a time.

    Raises:
        InputError: the file is missing, unreadable, or not `coherence batch` output.
    """
    path = Path(path)
    fmt = results_format(path)
    if fmt is None:
        raise InputError(f"cannot tell the format of {path}: give .jsonl, .jsonl.gz or .parquet batch output")
    if not path.is_file():
        raise InputError(f"no such file: {path}")
    records = _parquet(path) if fmt == "parquet" else _jsonl(path)
    for number, record in enumerate(records, 1):
        if not isinstance(record, dict) or "coherence" not in record or "flags" not in record:
            raise InputError(f"record {number} of {path} is not a `coherence batch` output record (no coherence or flags)")
        yield record


def _jsonl(path: Path) -> Iterator[Any]:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    yield json.loads(line)
                except json.JSONDecodeError:
                    raise InputError(f"line {number} of {path} is not valid JSON") from None
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from None


def _parquet(path: Path) -> Iterator[dict[str, Any]]:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # noqa: BLE001 - any pyarrow failure means an unreadable file
        raise InputError(f"cannot read {path} as Parquet: {exc}") from None
    columns = [c for c in RESULT_COLUMNS if c in parquet.schema_arrow.names]
    for batch in parquet.iter_batches(batch_size=_ROWS_PER_READ, columns=columns):
        yield from batch.to_pylist()


@dataclass
class CorpusStats:
    """What one pass over the results keeps (see the module's docstring)."""

    summary: BatchSummary = field(default_factory=BatchSummary)
    coherence: np.ndarray = field(default_factory=lambda: np.zeros(0))  # every scored article's
    sentences: int = 0  # sentences in the scored articles
    flagged_articles: int = 0  # scored articles with at least one flag
    worst: list[dict[str, Any]] = field(default_factory=list)  # lowest coherence first
    flag_sample: list[dict[str, Any]] = field(default_factory=list)  # by reason, then position

    def fail_share(self, threshold: float) -> float:
        """Share of scored articles whose coherence is below `threshold`."""
        return float((self.coherence < threshold).mean()) if len(self.coherence) else 0.0


def summarise_results(path: str | Path, *, worst: int = 20, sample: int = 100, seed: int = 0) -> CorpusStats:
    """Read `path` once and keep what the corpus report shows.

    Args:
        worst: how many of the lowest-coherence articles to keep whole.
        sample: flagged sentences kept per reason (a fixed-seed reservoir sample).
        seed: seeds the sample.
    """
    stats = CorpusStats()
    values = array("d")
    heap: list[tuple[float, int, dict[str, Any]]] = []  # (-coherence, -position, record): the largest leave first
    reservoirs: dict[str, list[dict[str, Any]]] = {reason: [] for reason in REASONS}
    seen = dict.fromkeys(REASONS, 0)
    rng = random.Random(seed)
    for position, record in enumerate(read_results(path)):
        stats.summary.add(record)
        if record.get("error") is not None or record.get("coherence") is None:
            continue
        coherence = float(record["coherence"])
        values.append(coherence)
        stats.sentences += int(record.get("n_sentences") or 0)
        flags = record.get("flags") or []
        stats.flagged_articles += bool(flags)
        kept = {"id": record.get("id"), "position": position, "coherence": coherence,
                "n_sentences": record.get("n_sentences"), "flags": flags}
        if len(heap) < worst:
            heapq.heappush(heap, (-coherence, -position, kept))
        elif worst:
            heapq.heappushpop(heap, (-coherence, -position, kept))
        for span in flags:
            reason = span.get("reason")
            if reason not in seen:
                continue
            seen[reason] += 1
            item = {"id": record.get("id"), "position": position, **span}
            if len(reservoirs[reason]) < sample:
                reservoirs[reason].append(item)
            else:
                slot = rng.randrange(seen[reason])
                if slot < sample:
                    reservoirs[reason][slot] = item
    stats.coherence = np.frombuffer(values, dtype=np.float64).copy()
    stats.worst = [item for _, _, item in sorted(heap, key=lambda entry: (-entry[0], -entry[1]))]
    stats.flag_sample = sorted((item for r in REASONS for item in reservoirs[r]), key=lambda i: (REASONS.index(i["reason"]), i["position"]))
    return stats

"""Hugging Face `datasets` support (``pip install coherence[datasets]``): score a Dataset in place.

Curators often hold a corpus as a `datasets.Dataset` (loaded from the Hub, from Parquet, or
built in memory) rather than as files for ``coherence batch``. `score_dataset` adds the batch
runner's output record to every row as new columns, without a round trip through files:

>>> from datasets import Dataset
>>> from coherence.engines.hf_datasets import score_dataset
>>> scored = score_dataset(Dataset.from_dict({"text": [article]}), speed="fast")  # doctest: +SKIP
>>> scored.filter(lambda row: row["passed"])  # doctest: +SKIP

The columns hold the same values as the JSONL output of ``coherence batch`` (one output
record per row, see `coherence.io.schema`), typed as in its Parquet output.
`datasets` is imported only when `score_dataset` runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from coherence import __version__
from coherence.build import ready_detector
from coherence.extras import require
from coherence.detector import Detector
from coherence.io.fields import RecordFields
from coherence.io.records import MAX_CHARS, score_records
from coherence.io.schema import OUTPUT_FIELDS, arrow_schema

if TYPE_CHECKING:
    from datasets import Dataset, Features

__all__ = ["score_dataset"]

_ID = "id"


def score_dataset(
    ds: Dataset,
    text_field: str = "text",
    detector: Detector | None = None,
    batch_size: int = 64,
    *,
    max_chars: int = MAX_CHARS,
    **detector_params: Any,
) -> Dataset:
    """`ds` with every row scored: the output record's fields added as columns.

    New columns: ``coherence``, ``passed``, ``n_sentences``, ``n_flagged``, ``counts``,
    ``flags``, ``error``, ``language``, and ``id`` (the row's position in `ds`, from 0) unless
    `ds` already has an ``id`` column, which is then the records' id and is left as it is.
    Every original column is kept and no row is dropped: a row whose text is missing, not a
    string, empty or longer than `max_chars` gets `error` set and no score. Rows are scored
    through ``Dataset.map(batched=True)``, deterministically; `batch_size` rows at a time
    share embedding batches.

    Args:
        ds: rows with the article text in `text_field`.
        text_field: column holding the article text.
        detector: a configured Detector; or give its options instead (`detector_params`:
            ``model``, ``threshold``, ``speed``, ...). Its model loads on the first batch.
        batch_size: rows per ``map`` call.
        max_chars: longer texts get an `error` instead of a score.

    Raises:
        ImportError: the `datasets` library is not installed.
        ValueError: `text_field` is not a column, a column other than ``id`` has an output
            field's name, both `detector` and `detector_params` were given, or a detector
            option is out of range.
        TypeError: an unknown detector option.
    """
    datasets = require("datasets", "datasets", "score_dataset")

    if detector is not None and detector_params:
        raise ValueError(f"give a detector or its options, not both (got {sorted(detector_params)})")
    names = ds.column_names
    if text_field not in names:
        raise ValueError(f"the dataset has no column '{text_field}' (columns: {', '.join(names)})")
    clash = [name for name in OUTPUT_FIELDS if name != _ID and name in names]
    if clash:
        raise ValueError(
            f"column(s) {', '.join(clash)} would be overwritten by output fields; rename or remove them first"
        )
    # bad options fail here (inside map they would become every row's error); the model loads on first use
    detector = ready_detector(detector or detector_params, prepare=False)
    has_id = _ID in names
    scorer = _Scorer(detector, RecordFields(text_field, _ID if has_id else None, (), max_chars), has_id)
    features = datasets.Features({**ds.features, **_output_features(datasets, has_id)})
    if ds.num_rows == 0:  # map would return it without the new columns
        return datasets.Dataset.from_dict({name: [] for name in features}, features=features)
    return ds.map(scorer, with_indices=True, batched=True, batch_size=batch_size, features=features, desc="coherence")


class _Scorer:
    """The map function: one batch of rows in, the output fields of their records out."""

    def __init__(self, detector: Detector, fields: RecordFields, has_id: bool) -> None:
        self.detector = detector
        self.fields = fields
        self.columns = OUTPUT_FIELDS if not has_id else tuple(n for n in OUTPUT_FIELDS if n != _ID)
        self.version = __version__  # in the fingerprint `map` hashes: no cached result of another version

    def __call__(self, batch: dict[str, list[Any]], indices: list[int]) -> dict[str, list[Any]]:
        text_field, id_field = self.fields.text_field, self.fields.id_field
        ids = batch[id_field] if id_field is not None else [None] * len(indices)
        records = [
            self.fields.record({text_field: text, id_field: record_id}, default_id=index)
            for text, record_id, index in zip(batch[text_field], ids, indices)
        ]
        out = score_records(self.detector, records)
        return {name: [record[name] for record in out] for name in self.columns}


def _output_features(datasets: Any, has_id: bool) -> Features:
    """The output fields' types: those of the Parquet output (an index ``id`` is int64), so
    every batch has the same columns, a batch of errors only included."""
    features = datasets.Features.from_arrow_schema(arrow_schema())
    return features if has_id else datasets.Features({_ID: datasets.Value("int64"), **features})

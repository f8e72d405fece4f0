"""Ray Data support (``pip install coherence[ray]``): score a Dataset, or run ``coherence batch --engine ray``.

>>> import ray
>>> from coherence.engines.ray import score_dataset
>>> scored = score_dataset(ray.data.read_parquet("news/"), id_field="url")  # doctest: +SKIP

- `score_dataset` adds scoring to any Ray Dataset: each actor loads the model once and turns
  every input row into exactly one output row (a row that cannot be scored gets `error`).
- `score_file_with_ray` is the batch runner on Ray: it reads the inputs with Ray, scores them
  on the cluster, and writes the output and summary on the driver, in input order, in the
  same form as `coherence.engines.local.score_file`.

Ray is imported only when a function here runs. Inputs must be readable from every node
(one machine, a shared file system), and every node needs `coherence` installed.
"""

from __future__ import annotations

import functools
import os
import pickle
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coherence.engines.local import finish_report, plan_run
from coherence.build import ready_detector
from coherence.extras import require
from coherence.io.fields import ROWS_PER_READ, InputError, InputFile, RecordFields
from coherence.io.file_readers import read_file
from coherence.io.schema import OUTPUT_FIELDS, TYPED_FIELDS
from coherence.io.records import MAX_CHARS, Record, chunked, score_records
from coherence.io.summary import BatchSummary
from coherence.io.run_files import RunManifest, output_lock
from coherence.io.arrow_tables import records_table
from coherence.io.writers import leftovers, open_writer

if TYPE_CHECKING:
    import pyarrow as pa
    from ray.data import Dataset

__all__ = ["score_dataset", "score_file_with_ray"]

_RECORD = "record"  # between our own steps: one pickled record per row (any value survives)


def score_dataset(
    ds: Dataset,
    text_field: str = "text",
    id_field: str | None = None,
    *,
    keep_fields: Sequence[str] | None = None,
    max_chars: int = MAX_CHARS,
    concurrency: int | tuple[int, int] | None = None,
    batch_size: int = 64,
    **detector_options: Any,
) -> Dataset:
    """A Dataset with one output record per row of `ds` (lazy, like every Ray transform).

    Columns: the output fields (``id``, ``coherence``, ``passed``, ``n_sentences``,
    ``n_flagged``, ``counts``, ``flags``, ``error``, ``language``, typed as in Parquet output), then the
    carried input columns, unchanged. A row whose text is missing, not text, empty or too
    long gets `error` set and no score; no row fails the job. Output order follows the input
    only when the DataContext's ``execution_options.preserve_order`` is set.

    Args:
        ds: rows with the article text in `text_field`.
        text_field: column holding the article text.
        id_field: column copied into ``id``. Default: ``id`` is null, since a Dataset has no
            stable row positions (`score_file_with_ray` numbers rows on the driver instead).
        keep_fields: input columns carried into the output (null where missing). Default:
            every column except `text_field` and the names of output fields (pass
            ``id_field="id"`` to keep an ``id`` column).
        max_chars: longer texts get an `error` instead of a score.
        concurrency: scoring actors (each reserves 1 CPU and loads the model once), or a
            (min, max) autoscaling range. Default: 1 up to the cluster's CPUs minus one.
        batch_size: rows per call; their sentences are embedded together.
        detector_options: `coherence.Detector` arguments (``model``, ``threshold``,
            ``flag_rate``, ...).

    Raises:
        ValueError: `keep_fields` names an output field, or a detector option is out of range.
        TypeError: an unknown detector option.
    """
    keep = None if keep_fields is None else tuple(keep_fields)
    clash = set(keep or ()) & set(OUTPUT_FIELDS)
    if clash:
        raise ValueError(f"keep_fields {', '.join(sorted(clash))} would overwrite output fields")
    # bad options fail here, not in every actor; on one machine, actors find the built model
    params = ready_detector(detector_options).get_params()
    layout = _Layout(RecordFields(text_field, id_field, (), max_chars), keep)
    return _scored(ds, params, layout, batch_size, concurrency)


def _scored(ds: Dataset, params: dict[str, Any], layout: _Layout | None, batch_size: int, concurrency: Any) -> Dataset:
    """`ds` mapped through scoring actors (one Detector each, 1 CPU each)."""
    return ds.map_batches(
        _Scorer,
        fn_constructor_args=(params, layout),
        batch_size=batch_size,
        batch_format="pyarrow",
        compute=_actor_pool(concurrency),
        num_cpus=1,
    )


def score_file_with_ray(
    inputs: str | Path | Sequence[str | Path],
    output: str | Path,
    *,
    address: str | None = None,
    text_field: str = "text",
    id_field: str | None = None,
    keep_fields: Sequence[str] = (),
    max_chars: int = MAX_CHARS,
    html: bool = False,
    concurrency: int | tuple[int, int] | None = None,
    **detector_options: Any,
) -> dict[str, Any]:
    """`coherence.engines.local.score_file` on Ray: same inputs, output, ids, summary and report.

    Reading and scoring run on the cluster; the driver receives the records in input order,
    numbers the records by position when there is no id field (from 0, across all inputs), and
    writes them.
    Runs cannot be resumed with Ray; a run that stopped can be resumed by the local engine.

    Args:
        inputs, output, text_field, id_field, keep_fields, max_chars, html: as for
            `score_file` (pages are extracted where they are read, on the cluster). Site
            repeats (`score_file`'s `site_field`) need a counting pass and are local only.
        address: the Ray cluster to join; default: the running one, or start a local one
            (shut down again at the end).
        concurrency: scoring actors, see `score_dataset`.
        detector_options: `coherence.Detector` arguments.

    Returns:
        The run summary (also written beside the output, see `coherence.engines.local.summary_path`),
        with ``"text"``: the human-readable summary.

    Raises:
        InputError: unreadable input or an output that exists or cannot be written.
    """
    ray = require("ray", "ray", "the Ray engine")

    started = time.perf_counter()
    params = ready_detector(detector_options).get_params()
    plan = plan_run(
        inputs, output, params, text_field=text_field, id_field=id_field, keep_fields=keep_fields, max_chars=max_chars, html=html
    )
    output, reader, block = plan.output, plan.reader, plan.block
    files = list(reader.files())
    unreadable = [f for f in files if f.error is not None]
    if unreadable:  # Ray opens every path itself; the local engine writes these as error records
        raise InputError(f"{unreadable[0].error}; the Ray engine needs every input readable (the local engine records it as an error)")
    chunk = params["articles_per_batch"]
    if leftovers(output):  # fail before starting Ray; open_writer says why
        open_writer(output, block)

    with output_lock(output):
        own_cluster = not ray.is_initialized()
        if own_cluster:  # a failed start leaves no output behind to block the next run
            ray.init(address=address, ignore_reinit_error=True)
        context = ray.data.DataContext.get_current()
        preserve_order = context.execution_options.preserve_order
        context.execution_options.preserve_order = True
        summary = BatchSummary()
        position = 0
        manifest = RunManifest(output, plan.settings)
        try:
            writer = open_writer(output, block, on_commit=manifest.commit)
            scored = _scored(_read(files, reader.fields), params, None, chunk, concurrency)
            for batch in scored.iter_batches(batch_size=None, batch_format="pyarrow"):
                records = _unpack(batch)
                for record in records:
                    if record["id"] is None and reader.fields.id_field is None:  # as RecordReader numbers them
                        record["id"] = position
                    position += 1
                    summary.add(record)
                writer.add(records)
            writer.finish()
        finally:
            context.execution_options.preserve_order = preserve_order
            if own_cluster:
                ray.shutdown()
        return finish_report(manifest, writer.state(), summary, 0, position, started)


# -- records --------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Layout:
    """`score_dataset`'s rows: which input columns hold what, and which are carried."""

    fields: RecordFields
    keep_fields: tuple[str, ...] | None

    def records(self, batch: pa.Table) -> list[Record]:
        texts, ids = self._values(batch, self.fields.text_field), self._values(batch, self.fields.id_field)
        return [self.fields.record({self.fields.text_field: t, self.fields.id_field: i}) for t, i in zip(texts, ids)]

    def table(self, batch: pa.Table, out: list[dict[str, Any]]) -> pa.Table:
        import pyarrow as pa

        names, rows = batch.column_names, batch.num_rows
        core = _core_table(out)
        columns: dict[str, Any] = {"id": batch.column(self.fields.id_field) if self.fields.id_field in names else pa.nulls(rows)}
        columns.update({name: core.column(name) for name in TYPED_FIELDS})
        carried = self.keep_fields
        if carried is None:
            carried = tuple(n for n in names if n != self.fields.text_field and n not in OUTPUT_FIELDS)
        columns.update({name: batch.column(name) if name in names else pa.nulls(rows) for name in carried})
        return pa.table(columns)

    @staticmethod
    def _values(batch: pa.Table, name: str | None) -> list[Any]:
        return batch.column(name).to_pylist() if name in batch.column_names else [None] * batch.num_rows


def _core_table(out: list[dict[str, Any]]) -> pa.Table:
    """The typed output fields of `out` (typed even when `out` is empty)."""
    rows = [{name: record[name] for name in TYPED_FIELDS} for record in out] or [dict.fromkeys(TYPED_FIELDS)]
    return records_table(rows).slice(0, len(out))


def _pack(items: Sequence[Any]) -> pa.Table:
    import pyarrow as pa

    data = [pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL) for item in items]
    return pa.table({_RECORD: pa.array(data, type=pa.large_binary())})


def _unpack(batch: pa.Table) -> list[Any]:
    return [pickle.loads(data) for data in batch.column(_RECORD).to_pylist()]


def _pack_records(records: Sequence[Record]) -> pa.Table:
    return _pack([(r.id, r.text, r.error, r.kept) for r in records])


class _Scorer:
    """A Ray Data actor: builds one Detector (the model loads once, here) and scores batches.

    With a `_Layout`, rows are `score_dataset`'s input columns; without, they are records
    packed by this module's readers and the output records are packed for the driver.
    """

    def __init__(self, detector_params: dict[str, Any], layout: _Layout | None) -> None:
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        self.detector = ready_detector(detector_params, prepare=False)
        self.detector.encoder.encode(["The model loads now, not in the first batch."])
        self.layout = layout

    def __call__(self, batch: pa.Table) -> pa.Table:
        if self.layout is None:
            return _pack(score_records(self.detector, [Record(*item) for item in _unpack(batch)]))
        return self.layout.table(batch, score_records(self.detector, self.layout.records(batch)))


def _actor_pool(concurrency: int | tuple[int, int] | None) -> Any:
    """The scoring actors: `concurrency` of them, or by default 1 up to the CPUs minus one.

    As ``compute=ActorPoolStrategy`` (``concurrency=`` is deprecated since Ray 2.51).
    """
    ray = require("ray", "ray", "the Ray engine")

    if concurrency is None:
        cpus = int(ray.cluster_resources().get("CPU", 1)) if ray.is_initialized() else 1
        concurrency = (1, max(1, cpus - 1))  # leave a CPU for reading
    if isinstance(concurrency, int):
        return ray.data.ActorPoolStrategy(size=concurrency)
    smallest, largest = concurrency
    if smallest == largest:
        return ray.data.ActorPoolStrategy(size=smallest)
    return ray.data.ActorPoolStrategy(min_size=smallest, max_size=largest)


# -- reading files with Ray -----------------------------------------------------------------
def _read(files: list[InputFile], fields: RecordFields) -> Dataset:
    """One Dataset of packed records of every file, in input order (when the DataContext
    preserves order), each file read on a worker by `coherence.io.readers.read_file`.

    Not `read_parquet`, `read_csv`, `read_text`, `read_binary_files` and `Dataset.union`:
    a union under ``preserve_order`` interleaves its inputs block by block, not one after
    another; `read_text` fails the whole job on one invalid UTF-8 byte and also splits lines
    at U+2028 and other characters valid inside JSON strings; `read_csv` can only fail on a
    malformed row or drop it; folder listings skip names starting with ``_`` or ``.``.
    """
    ray = require("ray", "ray", "the Ray engine")

    return ray.data.read_datasource(_datasource()(files, fields))


@functools.cache
def _datasource() -> type:
    """The Ray datasource class over `InputFile`s (defined on first use: it needs Ray)."""
    from ray.data.datasource import FileBasedDatasource

    class CoherenceInputsDatasource(FileBasedDatasource):
        def __init__(self, files: list[InputFile], fields: RecordFields) -> None:
            super().__init__([str(f.path.resolve()) for f in files])
            self.files = {str(f.path.resolve()): f for f in files}
            self.fields = fields

        def _open_input_source(self, filesystem: Any, path: str, **open_args: Any) -> Any:
            if self._file(path).format == "parquet":
                return filesystem.open_input_file(path)  # Parquet needs random access
            return super()._open_input_source(filesystem, path, **open_args)

        def _read_stream(self, f: Any, path: str) -> Iterator[pa.Table]:
            for chunk in chunked(read_file(self._file(path), self.fields, stream=f), ROWS_PER_READ):
                yield _pack_records(chunk)

        def _file(self, path: str) -> InputFile:
            if path not in self.files:  # never read a file by the wrong format if Ray renamed the path
                raise RuntimeError(f"Ray read {path!r}, which is not one of the inputs")
            return self.files[path]

    return CoherenceInputsDatasource

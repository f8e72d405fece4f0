"""Crash-safe output writers for batch runs: JSONL (.gz) and Parquet, chosen by extension.

Records are committed in whole blocks, each block durable (flushed and fsynced) before the
next one starts, so a run killed at any instant (SIGKILL included) leaves a prefix of whole
blocks plus at most one torn block. Opened with ``resume=True``, a writer finds that prefix,
cuts the torn block off, and reports how many records it kept: the runner then skips exactly
that many input records. Blocks line up with the runner's scoring chunks, so a resumed run
embeds the same sentences together and gives the same scores as an unbroken one.

- JSONL: one line per record; ``.gz`` appends one gzip member per block (a valid multi-member
  gzip file that any gzip reader reads whole).
- Parquet: a file cannot be appended to, so each block is written (atomically) as a part in
  ``OUTPUT.parts/``; ``finish`` merges the parts into ``OUTPUT`` row group by row group.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal, Protocol

from coherence.readers import InputError
from coherence.verdict import REASONS

__all__ = ["OutputFormat", "OutputWriter", "output_format", "open_writer", "leftovers"]

OutputFormat = Literal["jsonl", "jsonl.gz", "parquet"]
_ROWS_PER_ROW_GROUP = 16_384


class OutputWriter(Protocol):
    committed: int
    """Records kept from an earlier run of the same job (0 for a new output)."""

    def existing(self) -> Iterator[dict[str, Any]]:
        """The records kept from an earlier run, in order."""

    def add(self, records: list[dict[str, Any]]) -> None:
        """Queue records; every full block is committed durably at once."""

    def finish(self) -> None:
        """Commit what is queued and close the output."""


def output_format(path: Path) -> OutputFormat:
    name = path.name.lower()
    if name.endswith((".jsonl.gz", ".ndjson.gz")):
        return "jsonl.gz"
    if name.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    raise InputError(f"cannot tell the output format of {path}: use .jsonl, .jsonl.gz or .parquet")


def leftovers(path: Path) -> list[Path]:
    """Files an earlier run of this output left (the output itself, or unmerged parts)."""
    return [p for p in (path, _parts_dir(path)) if p.exists()]


def open_writer(path: Path, block: int, resume: bool) -> OutputWriter:
    """A writer for `path` committing `block` records at a time.

    Raises:
        InputError: the output exists and `resume` is False, or it cannot be written.
    """
    if not resume and leftovers(path):
        raise InputError(f"{path} already exists; pass --resume to continue that run, or remove it")
    if not path.parent.is_dir():
        raise InputError(f"cannot write {path}: no folder {path.parent}")
    if not os.access(path.parent, os.W_OK):
        raise InputError(f"cannot write {path}: the folder is not writable")
    fmt = output_format(path)
    if fmt == "parquet":
        return ParquetPartsWriter(path, block)
    return JsonlWriter(path, block, compress=fmt == "jsonl.gz")


class _BlockWriter:
    """Queues records and commits them `block` at a time, the rest at `finish`; a subclass
    says how one block is committed durably and how the output is closed."""

    def __init__(self, path: Path, block: int) -> None:
        self.path, self.block = path, block
        self.committed = 0
        self._queue: list[dict[str, Any]] = []

    def add(self, records: list[dict[str, Any]]) -> None:
        self._queue.extend(records)
        while len(self._queue) >= self.block:
            self._commit(self._queue[: self.block])
            del self._queue[: self.block]

    def finish(self) -> None:
        if self._queue:
            self._commit(self._queue)
            self._queue = []
        self._close()

    def _commit(self, records: list[dict[str, Any]]) -> None:
        raise NotImplementedError

    def _close(self) -> None:
        raise NotImplementedError


class JsonlWriter(_BlockWriter):
    """JSON lines, one write + fsync per block; gzip output gets one member per block."""

    def __init__(self, path: Path, block: int, compress: bool) -> None:
        super().__init__(path, block)
        self.compress = compress
        if path.exists():
            self.committed, keep_bytes = (_gzip_prefix if compress else _jsonl_prefix)(path, block)
            with path.open("r+b") as handle:
                handle.truncate(keep_bytes)
        self._handle = path.open("ab")

    def existing(self) -> Iterator[dict[str, Any]]:
        if not self.committed:
            return
        opener = gzip.open if self.compress else open
        with opener(self.path, "rb") as handle:
            for _, line in zip(range(self.committed), handle):
                yield json.loads(line)

    def _close(self) -> None:
        self._handle.close()

    def _commit(self, records: list[dict[str, Any]]) -> None:
        data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")
        if self.compress:
            data = gzip.compress(data, mtime=0)
        self._handle.write(data)
        self._handle.flush()
        os.fsync(self._handle.fileno())


def _jsonl_prefix(path: Path, block: int) -> tuple[int, int]:
    """(records, bytes) of the longest prefix of whole, valid blocks of lines."""
    kept_records = kept_bytes = lines = offset = 0
    with path.open("rb") as handle:
        for line in handle:
            if not line.endswith(b"\n") or not _is_record(line):
                break
            lines += 1
            offset += len(line)
            if lines % block == 0:
                kept_records, kept_bytes = lines, offset
    return kept_records, kept_bytes


def _gzip_prefix(path: Path, block: int) -> tuple[int, int]:
    """(records, bytes) of the leading gzip members that each hold one whole block."""
    kept_records = kept_bytes = consumed = 0
    inflate, text, pending = zlib.decompressobj(wbits=31), b"", b""
    with path.open("rb") as handle:
        while True:
            if not pending:
                pending = handle.read(1 << 20)
                if not pending:
                    return kept_records, kept_bytes
            try:
                text += inflate.decompress(pending)
            except zlib.error:
                return kept_records, kept_bytes
            consumed += len(pending) - len(inflate.unused_data)
            pending = inflate.unused_data
            if inflate.eof:
                lines = text.split(b"\n")
                if lines[-1] != b"" or len(lines) - 1 != block or not all(map(_is_record, lines[:-1])):
                    return kept_records, kept_bytes
                kept_records, kept_bytes = kept_records + block, consumed
                inflate, text = zlib.decompressobj(wbits=31), b""


def _is_record(line: bytes) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


class ParquetPartsWriter(_BlockWriter):
    """Each block becomes a Parquet part (written to a temporary name, then renamed);
    `finish` merges the parts into the output under one schema and removes them."""

    def __init__(self, path: Path, block: int) -> None:
        import pyarrow.parquet as pq

        super().__init__(path, block)
        self.parts = _parts_dir(path)
        self.finished = path.exists() and not self.parts.exists()
        if self.finished:  # a completed earlier run: nothing may be appended
            self.committed = pq.ParquetFile(path).metadata.num_rows
            return
        self.parts.mkdir(exist_ok=True)
        for stale in self.parts.glob("*.tmp"):
            stale.unlink()
        self.committed = sum(pq.ParquetFile(p).metadata.num_rows for p in self._part_files())

    def existing(self) -> Iterator[dict[str, Any]]:
        import pyarrow.parquet as pq

        for part in [self.path] if self.finished else self._part_files():
            for batch in pq.ParquetFile(part).iter_batches(batch_size=4096):
                yield from batch.to_pylist()

    def add(self, records: list[dict[str, Any]]) -> None:
        if self.finished and records:
            raise InputError(f"{self.path} is a finished output; it cannot take more records")
        super().add(records)

    def finish(self) -> None:
        if not self.finished:
            super().finish()

    def _close(self) -> None:
        _merge_parts(self._part_files(), self.path)
        shutil.rmtree(self.parts)

    def _part_files(self) -> list[Path]:
        return sorted(self.parts.glob("part-*.parquet"))

    def _commit(self, records: list[dict[str, Any]]) -> None:
        import pyarrow.parquet as pq

        number = len(self._part_files())
        final = self.parts / f"part-{number:06d}.parquet"
        temporary = final.with_suffix(".tmp")
        pq.write_table(records_table(records), temporary)
        with temporary.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, final)
        _fsync_folder(self.parts)


def records_table(records: list[dict[str, Any]]) -> Any:
    """An Arrow table of output records: schema fields typed, carried fields inferred
    (a carried field with mixed types is stored as JSON text)."""
    import pyarrow as pa

    core = _core_schema()
    columns: dict[str, Any] = {}
    names = list(dict.fromkeys(k for r in records for k in r))
    for name in names:
        values = [r.get(name) for r in records]
        if name in core.names:
            columns[name] = pa.array(values, type=core.field(name).type)
            continue
        try:
            columns[name] = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            columns[name] = pa.array([None if v is None else v if isinstance(v, str) else json.dumps(v) for v in values])
    return pa.table(columns)


def _core_schema() -> Any:
    import pyarrow as pa

    span = pa.struct(
        [("start", pa.int64()), ("end", pa.int64()), ("reason", pa.string()), ("score", pa.float64()),
         ("text", pa.string()), ("explanation", pa.string())]
    )
    return pa.schema(
        [
            ("coherence", pa.float64()),
            ("passed", pa.bool_()),
            ("n_sentences", pa.int64()),
            ("n_flagged", pa.int64()),
            ("counts", pa.struct([(reason, pa.int64()) for reason in REASONS])),
            ("flags", pa.list_(span)),
            ("error", pa.string()),
        ]
    )


def _merge_parts(parts: list[Path], output: Path) -> None:
    """Write `parts` into `output` under one schema (types promoted; clashes become text)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schemas = [pq.read_schema(p) for p in parts]
    schema = _unified_schema(schemas) if schemas else pa.schema([])
    temporary = output.with_name(output.name + ".tmp")
    with pq.ParquetWriter(temporary, schema) as writer:
        pending: list[Any] = []
        rows = 0
        for part in parts:
            pending.append(_conform(pq.read_table(part), schema))
            rows += pending[-1].num_rows
            if rows >= _ROWS_PER_ROW_GROUP:
                writer.write_table(pa.concat_tables(pending), row_group_size=rows)
                pending, rows = [], 0
        if pending:
            writer.write_table(pa.concat_tables(pending), row_group_size=max(rows, 1))
    with temporary.open("rb") as handle:
        os.fsync(handle.fileno())
    os.replace(temporary, output)


def _unified_schema(schemas: list[Any]) -> Any:
    import pyarrow as pa

    fields: dict[str, Any] = {}
    for schema in schemas:
        for f in schema:
            known = fields.get(f.name)
            if known is None or pa.types.is_null(known.type):
                fields[f.name] = f
            elif not pa.types.is_null(f.type) and known.type != f.type:
                try:
                    fields[f.name] = pa.unify_schemas(
                        [pa.schema([known]), pa.schema([f])], promote_options="permissive"
                    ).field(f.name)
                except (pa.ArrowInvalid, pa.ArrowTypeError):
                    fields[f.name] = pa.field(f.name, pa.string())
    return pa.schema(list(fields.values()))


def _conform(table: Any, schema: Any) -> Any:
    """`table` cast to `schema`; missing columns are null, uncastable ones become JSON text."""
    import pyarrow as pa

    columns = []
    for f in schema:
        if f.name not in table.column_names:
            columns.append(pa.nulls(table.num_rows, f.type))
            continue
        column = table.column(f.name)
        try:
            columns.append(column.cast(f.type))
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            values = [None if v is None else v if isinstance(v, str) else json.dumps(v) for v in column.to_pylist()]
            columns.append(pa.array(values, type=f.type))
    return pa.Table.from_arrays(columns, schema=schema)


def _parts_dir(path: Path) -> Path:
    return path.with_name(path.name + ".parts")


def _fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)

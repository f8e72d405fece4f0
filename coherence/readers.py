"""Streaming readers for batch inputs: JSONL (.gz), Parquet, CSV and folders of .txt files.

Every input record becomes exactly one `Record`, in input order; a record that cannot be
scored carries an `error` instead of raising. Only problems with a whole input (missing file,
unknown format, no text column) raise `InputError`.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from coherence.records import MAX_CHARS, Record, RecordError, check_text

__all__ = ["InputError", "InputFormat", "RecordReader", "input_format"]

InputFormat = Literal["jsonl", "parquet", "csv", "folder"]

_SUFFIXES: dict[str, InputFormat] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".jsonl.gz": "jsonl",
    ".ndjson.gz": "jsonl",
    ".json.gz": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".csv.gz": "csv",
}
_ROWS_PER_READ = 1024


class InputError(Exception):
    """An input (or output) the user must fix; the batch cannot start or go on."""


def input_format(path: Path) -> InputFormat:
    """The format of an input path, from its suffix (or 'folder')."""
    if not path.exists():
        raise InputError(f"no such file or folder: {path}")
    if path.is_dir():
        return "folder"
    name = path.name.lower()
    for suffix in sorted(_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return _SUFFIXES[suffix]
    raise InputError(f"cannot tell the format of {path}: use .jsonl(.gz), .parquet, .csv or a folder of .txt files")


@dataclass
class RecordReader:
    """Reads records from inputs in order.

    Args:
        inputs: files or folders, read one after another.
        text_field: field (column) holding the article text.
        id_field: field holding the record id; default: the record's position across all
            inputs, counted from 0 (a folder's records are named by their relative path).
        keep_fields: fields carried through to the output unchanged.
        max_chars: longer texts get an error instead of a score.
    """

    inputs: Sequence[Path]
    text_field: str = "text"
    id_field: str | None = None
    keep_fields: Sequence[str] = ()
    max_chars: int = MAX_CHARS

    def __post_init__(self) -> None:
        self.inputs = [Path(p) for p in self.inputs]
        if not self.inputs:
            raise InputError("no input given")
        self.formats = [input_format(p) for p in self.inputs]

    def __iter__(self) -> Iterator[Record]:
        position = 0
        for path, fmt in zip(self.inputs, self.formats):
            for record in getattr(self, f"_read_{fmt}")(path, position):
                yield record
                position += 1

    def count(self) -> int | None:
        """Number of records, when it is cheap to know (for a progress bar's ETA)."""
        total = 0
        for path, fmt in zip(self.inputs, self.formats):
            if fmt == "parquet":
                import pyarrow.parquet as pq

                total += pq.ParquetFile(path).metadata.num_rows
            elif fmt == "folder":
                total += sum(1 for _ in _text_files(path))
            elif fmt == "jsonl":
                with _open_binary(path) as handle:
                    total += sum(1 for line in handle if line.strip())
            else:
                return None
        return total

    # -- one record from a mapping of fields ------------------------------------------------
    def _record(self, fields: dict[str, Any], position: int, default_id: Any = None) -> Record:
        kept = {name: fields.get(name) for name in self.keep_fields}
        record_id = default_id if default_id is not None else position
        if self.id_field is not None:
            value = fields.get(self.id_field)
            record_id = value if value is not None else position
        try:
            return Record(record_id, check_text(fields.get(self.text_field), self.text_field, self.max_chars), kept=kept)
        except RecordError as exc:
            return Record(record_id, None, str(exc), kept)

    def _failed(self, position: int, message: str) -> Record:
        return Record(position, None, message, {name: None for name in self.keep_fields})

    # -- formats --------------------------------------------------------------------------
    def _read_jsonl(self, path: Path, position: int) -> Iterator[Record]:
        with _open_binary(path) as handle:
            for number, raw in _lines(handle, path):
                if not raw.strip():
                    continue  # a blank line is not a record
                try:
                    fields = json.loads(raw.decode("utf-8", errors="replace"))
                except json.JSONDecodeError as exc:
                    yield self._failed(position, f"line {number} of {path.name} is not valid JSON ({exc.msg})")
                else:
                    if isinstance(fields, dict):
                        yield self._record(fields, position)
                    else:
                        kind = type(fields).__name__
                        yield self._failed(position, f"line {number} of {path.name} is a JSON {kind}, not an object")
                position += 1

    def _read_parquet(self, path: Path, position: int) -> Iterator[Record]:
        import pyarrow.parquet as pq

        try:
            source = pq.ParquetFile(path)
        except Exception as exc:  # noqa: BLE001 - any pyarrow failure means an unreadable file
            raise InputError(f"cannot read {path} as Parquet: {exc}") from None
        columns = self._columns(path, source.schema_arrow.names)
        for batch in source.iter_batches(batch_size=_ROWS_PER_READ, columns=columns):
            for fields in batch.to_pylist():
                yield self._record(fields, position)
                position += 1

    def _read_csv(self, path: Path, position: int) -> Iterator[Record]:
        import pyarrow as pa
        import pyarrow.csv as pcsv

        bad_rows: list[str] = []

        def on_invalid_row(row: Any) -> str:
            bad_rows.append(f"row {row.number or '?'} of {path.name} has {row.actual_columns} columns, expected {row.expected_columns}")
            return "skip"  # not dropped: each becomes an error record below

        try:
            reader = pcsv.open_csv(
                path,
                read_options=pcsv.ReadOptions(block_size=8 << 20),
                parse_options=pcsv.ParseOptions(newlines_in_values=True, invalid_row_handler=on_invalid_row),
                convert_options=pcsv.ConvertOptions(column_types={self.text_field: pa.string()}),
            )
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(f"cannot read {path} as CSV: {exc}") from None
        columns = self._columns(path, reader.schema.names)
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                break
            except pa.ArrowInvalid as exc:
                raise InputError(f"cannot read {path} as CSV: {exc}") from None
            for fields in batch.select(columns).to_pylist():
                yield self._record(fields, position)
                position += 1
            for message in bad_rows:
                yield self._failed(position, message)
                position += 1
            bad_rows.clear()

    def _read_folder(self, path: Path, position: int) -> Iterator[Record]:
        files = list(_text_files(path))
        if not files:
            raise InputError(f"{path} has no .txt files")
        for file in files:
            name = file.relative_to(path).as_posix()
            try:
                data = file.read_bytes()
            except OSError as exc:
                yield Record(name, None, f"cannot read {name}: {exc.strerror or exc}", self._no_fields())
            else:
                if b"\x00" in data[:65536]:
                    yield Record(name, None, f"{name} looks like a binary file, not text", self._no_fields())
                else:
                    fields = {self.text_field: data.decode("utf-8", errors="replace")}
                    yield self._record(fields, position, default_id=name)
            position += 1

    def _no_fields(self) -> dict[str, Any]:
        return {name: None for name in self.keep_fields}

    def _columns(self, path: Path, names: Sequence[str]) -> list[str]:
        if self.text_field not in names:
            raise InputError(f"{path} has no column '{self.text_field}' (columns: {', '.join(names)}); use --text-field")
        wanted = [self.text_field, *([self.id_field] if self.id_field else []), *self.keep_fields]
        return [name for name in dict.fromkeys(wanted) if name in names]


def _open_binary(path: Path) -> Any:
    try:
        return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else path.open("rb")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None


def _text_files(folder: Path) -> Iterator[Path]:
    return iter(sorted(p for p in folder.rglob("*.txt") if p.is_file()))


def _lines(handle: Any, path: Path) -> Iterator[tuple[int, bytes]]:
    """Numbered lines of an open file; a broken file (truncated gzip) is an InputError."""
    try:
        yield from enumerate(handle, 1)
    except (OSError, EOFError) as exc:
        raise InputError(f"cannot read {path} to the end: {exc}") from None

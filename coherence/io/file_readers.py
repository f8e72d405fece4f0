"""One reader per file format (JSONL, JSON arrays, CSV, Parquet, text files), each taking an open
stream as well as a path, so the Ray engine reads files on its workers exactly as the local
engine does. Every input record becomes exactly one `Record`; a record that cannot be scored
carries an `error` instead of raising."""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from coherence.io.fields import ROWS_PER_READ, InputError, InputFile, InputFormat, RecordFields
from coherence.io.json_documents import (
    first_value_decodes,
    is_json_array,
    is_json_document,
    is_plain_json,
    json_array_records,
    json_kind,
    json_object_records,
    json_values,
)
from coherence.io.records import Record, utf16_message

__all__ = ["column_names", "count_json_records", "first_record_fields", "read_file"]

_BINARY_PROBE = 65536  # a NUL byte among a .txt file's first bytes means it is not text
_UTF8_BOM = b"\xef\xbb\xbf"


def read_file(file: InputFile, fields: RecordFields, stream: Any = None) -> Iterator[Record]:
    """The records of one file, from `stream` (an open binary file) or else from its path."""
    if file.format == "text":
        yield _text_record(file, fields, stream)
    elif file.format == "jsonl":
        with stream if stream is not None else _open_binary(file.path) as handle:
            yield from _jsonl_records(handle, file, fields)
    elif file.format == "csv":
        yield from _csv_records(stream if stream is not None else file.path, file, fields)
    else:
        yield from _parquet_records(stream if stream is not None else file.path, file, fields)


# -- one format each ------------------------------------------------------------------------
def _text_record(file: InputFile, fields: RecordFields, stream: Any) -> Record:
    if file.error is not None:
        return fields.failed(file.error, file.name)
    longest = 4 * fields.source_chars  # UTF-8 takes at most 4 bytes a character
    try:
        if stream is None and file.path.stat().st_size > longest:
            return fields.failed(
                f"{file.name} has {file.path.stat().st_size:,} bytes, more than a text of {fields.source_chars:,} characters "
                "can be (not one article; raise max_chars, --max-chars on the command line, to read it)",
                file.name,
            )
        data = stream.read() if stream is not None else file.path.read_bytes()
    except OSError as exc:
        return fields.failed(f"cannot read {file.name}: {exc.strerror or exc}", file.name)
    if (utf16 := utf16_message(data, file.name)) is not None:
        return fields.failed(utf16, file.name)
    if b"\x00" in data[:_BINARY_PROBE]:
        return fields.failed(f"{file.name} looks like a binary file, not text", file.name)
    return fields.record({fields.text_field: data.decode("utf-8", errors="replace")}, default_id=file.name)


def _jsonl_records(handle: Any, file: InputFile, fields: RecordFields) -> Iterator[Record]:
    """JSON lines; a `.json` file that holds one JSON array, or objects pretty-printed over
    several lines each, is read whole, as its items or its objects."""
    head = handle.read(_BINARY_PROBE).removeprefix(_UTF8_BOM)
    if (utf16 := utf16_message(head, str(file.path), "UTF-8 JSON lines")) is not None:
        raise InputError(utf16)
    if is_json_array(file, head):
        yield from json_array_records(head + handle.read(), file, fields)
        return
    if is_json_document(file, head):
        data = head + handle.read()
        if first_value_decodes(data):
            yield from json_object_records(data, file, fields)
            return
        handle, head = io.BytesIO(data), b""  # its first object is broken: read it line by line after all
    hint = " (a .json file must hold JSON objects, one a line or pretty-printed, or one array of objects)" if is_plain_json(file) else ""
    longest = _line_limit(fields)
    for number, raw in _numbered_lines(handle, file.path, first=head, longest=longest):
        if raw is None:
            yield fields.failed(
                f"line {number} of {file.name} is longer than {longest:,} bytes, more than a record of "
                f"{fields.source_chars:,} characters can be (not one article; raise max_chars, --max-chars on the command line, to read it)"
            )
            continue
        if not raw.strip():
            continue  # a blank line is not a record
        try:
            value = json.loads(raw.decode("utf-8", errors="replace"))
        except json.JSONDecodeError as exc:
            yield fields.failed(f"line {number} of {file.name} is not valid JSON ({exc.msg}){hint}")
            continue
        except RecursionError:
            yield fields.failed(f"line {number} of {file.name} nests JSON too deeply to read")
            continue
        except ValueError as exc:  # e.g. an integer of more than 4,300 digits
            yield fields.failed(f"line {number} of {file.name} cannot be read: {exc}")
            continue
        if isinstance(value, dict):
            yield fields.record(value)
        else:
            yield fields.failed(f"line {number} of {file.name} is {json_kind(value)}, not an object{hint}")


def count_json_records(file: InputFile, fields: RecordFields) -> int:
    """Records of a JSON lines file by its lines (no line parsed), or of a `.json` file read
    whole by its values (none made into a record; where the JSON breaks, one error record)."""
    with _open_binary(file.path) as handle:
        head = handle.read(_BINARY_PROBE)
        if is_json_array(file, head.removeprefix(_UTF8_BOM)) or is_json_document(file, head.removeprefix(_UTF8_BOM)):
            data = head.removeprefix(_UTF8_BOM) + handle.read()
            if is_json_array(file, data) or first_value_decodes(data):
                count = 0
                try:
                    for _ in json_values(data):
                        count += 1
                except (ValueError, RecursionError):
                    count += 1
                return count
            handle, head = io.BytesIO(data), b""
        lines = _numbered_lines(handle, file.path, first=head, longest=_line_limit(fields))
        return sum(1 for _, line in lines if line is None or line.strip())


def _csv_records(source: Any, file: InputFile, fields: RecordFields) -> Iterator[Record]:
    """The rows of a CSV file. When a value does not fit the type pyarrow inferred from the
    first block (a word among numbers, far down the file), the file is read again, only the
    columns the run needs and those as text, from after the rows already given, so one cell
    never stops the batch."""
    import pyarrow as pa

    reopenable = isinstance(source, (str, Path))
    as_text, done, emitted = False, 0, set()
    columns: list[str] | None = None
    while True:
        bad_rows: list[str] = []

        def on_invalid_row(row: Any) -> str:
            bad_rows.append(f"row {row.number or '?'} of {file.name} has {row.actual_columns} columns, expected {row.expected_columns}")
            return "skip"  # not dropped: each becomes an error record below

        reader = _open_csv(source, file, fields, on_invalid_row, columns if as_text else None, as_text)
        columns = columns or fields.columns(reader.schema.names, file.path)
        skip = done
        try:
            while True:
                try:
                    batch = reader.read_next_batch()
                except StopIteration:  # rows skipped after the last batch are still reported
                    yield from (fields.failed(message) for message in bad_rows if message not in emitted)
                    return
                rows = _rows(batch.select(columns))
                dropped = min(skip, len(rows))
                skip -= dropped
                for row in rows[dropped:]:
                    done += 1
                    yield fields.record(row)
                for message in bad_rows:  # after the rows read with them; once, whatever the rereads
                    if message not in emitted:
                        emitted.add(message)
                        yield fields.failed(message)
                bad_rows.clear()
        except (pa.ArrowInvalid, OSError) as exc:
            if as_text or not reopenable:
                raise InputError(f"cannot read {file.path} as CSV: {' '.join(str(exc).split())}") from None
            as_text = True


def _parquet_records(source: Any, file: InputFile, fields: RecordFields) -> Iterator[Record]:
    parquet = _open_parquet(source, file)
    columns = fields.columns(parquet.schema_arrow.names, file.path)
    batches = parquet.iter_batches(batch_size=ROWS_PER_READ, columns=columns)
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            break
        except Exception as exc:  # noqa: BLE001 - a corrupt page or row group: the file cannot be read on
            raise InputError(f"cannot read {file.path} to the end as Parquet: {exc}") from None
        yield from (fields.record(row) for row in _rows(batch))


def _rows(batch: Any) -> list[dict[str, Any]]:
    """A record batch as dicts; text that is not valid UTF-8 (unchecked CSV, a careless
    Parquet writer) is decoded with replacement characters, as JSONL input is."""
    try:
        return batch.to_pylist()
    except UnicodeDecodeError:
        import pyarrow as pa

        columns = {}
        for name, column in zip(batch.schema.names, batch.columns):
            if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
                raw = column.cast(pa.large_binary()).to_pylist()
                columns[name] = [None if v is None else v.decode("utf-8", errors="replace") for v in raw]
            else:
                columns[name] = column.to_pylist()
        return [dict(zip(columns, values)) for values in zip(*columns.values())]


def first_record_fields(path: Path, fmt: InputFormat) -> list[str]:
    """The fields of a file's first JSON object (its columns for a table), past lines or
    values that are broken or not objects (within its first `_FIELD_PEEK_LINES` lines); none
    for text files."""
    if fmt in ("parquet", "csv"):
        return column_names(InputFile(path, fmt, path.name))
    if fmt != "jsonl":
        return []
    file = InputFile(path, fmt, path.name)
    try:
        with _open_binary(path) as handle:
            head = handle.read(_BINARY_PROBE).removeprefix(_UTF8_BOM)
            if (is_json_array(file, head) or is_json_document(file, head)) and first_value_decodes(data := head + handle.read()):
                first = next((value for value in json_values(data) if isinstance(value, dict)), None)  # read whole, as the records are
                return list(first) if first is not None else []
            if is_json_document(file, head):
                handle, head = io.BytesIO(data), b""
            for number, line in _numbered_lines(handle, path, first=head, longest=_FIELD_PEEK_BYTES):
                if number > _FIELD_PEEK_LINES:
                    break
                try:
                    value = json.loads(line) if line is not None and line.strip() else None
                except (ValueError, RecursionError):
                    continue
                if isinstance(value, dict):
                    return list(value)
    except (InputError, OSError, EOFError, ValueError, RecursionError):  # reading the records reports what is wrong
        return []
    return []


_FIELD_PEEK_BYTES = 64 << 20  # a first record longer than this names no fields (positions it is)
_FIELD_PEEK_LINES = 1000  # lines looked through for the first object


def column_names(file: InputFile) -> list[str]:
    if file.format == "parquet":
        return _open_parquet(file.path, file).schema_arrow.names
    return _open_csv(file.path, file, RecordFields(), lambda row: "skip").schema.names


def _open_parquet(source: Any, file: InputFile) -> Any:
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(source)
    except Exception as exc:  # noqa: BLE001 - any pyarrow failure means an unreadable file
        raise InputError(f"cannot read {file.path} as Parquet: {exc}") from None


def _open_csv(
    source: Any, file: InputFile, fields: RecordFields, on_invalid_row: Any, columns: Sequence[str] | None = None, as_text: bool = False
) -> Any:
    """A streaming CSV reader: the text column as bytes (decoded by check_text, so one bad
    byte cannot stop the file), only `columns` converted, all of them as text if `as_text`."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    if isinstance(source, (str, Path)):
        with _open_binary(Path(source)) as handle:
            if (utf16 := utf16_message(handle.read(2), str(file.path), "UTF-8 CSV")) is not None:
                raise InputError(utf16)
    types = {name: pa.string() for name in columns or ()} if as_text else {}
    types[fields.text_field] = pa.binary()
    try:
        return pcsv.open_csv(
            source,
            read_options=pcsv.ReadOptions(block_size=8 << 20, use_threads=False),  # row numbers in errors
            parse_options=pcsv.ParseOptions(newlines_in_values=True, invalid_row_handler=on_invalid_row),
            convert_options=pcsv.ConvertOptions(column_types=types, check_utf8=False, include_columns=list(columns or ())),
        )
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"cannot read {file.path} as CSV: {' '.join(str(exc).split())}") from None


def _open_binary(path: Path) -> Any:
    try:
        return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else path.open("rb")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None


def _numbered_lines(
    stream: Any, path: Path, chunk_size: int = 1 << 20, first: bytes = b"", longest: int | None = None
) -> Iterator[tuple[int, bytes | None]]:
    """(number, line) of a binary stream (after `first`, its bytes already read), split at
    b"\\n" only; a line longer than `longest` bytes comes as (number, None), its bytes
    dropped as they are read, so memory stays bounded whatever the file holds. A broken file
    (a truncated gzip) is an InputError."""
    number, pending, skipping = 0, b"", False
    try:
        for chunk in _chunks(stream, chunk_size, first):
            lines = (pending + chunk).split(b"\n")
            pending = lines.pop()
            for line in lines:
                number += 1
                yield number, None if skipping else line
                skipping = False
            if longest is not None and len(pending) > longest:
                skipping, pending = True, b""
    except (OSError, EOFError) as exc:
        raise InputError(f"cannot read {path} to the end: {exc}") from None
    if pending or skipping:
        yield number + 1, None if skipping else pending


def _chunks(stream: Any, chunk_size: int, first: bytes) -> Iterator[bytes]:
    if first:
        yield first
    while chunk := stream.read(chunk_size):
        yield chunk


def _line_limit(fields: RecordFields) -> int:
    """Bytes a JSON line may take: its text at 4 UTF-8 bytes a character (escapes such as
    \\u00e9 take 6 for 1), plus room for its other fields."""
    return 6 * fields.source_chars + (1 << 20)

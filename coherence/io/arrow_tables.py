"""Output records as Arrow tables: the typed schema of `coherence.io.schema` plus the input's
carried columns, and Parquet parts merged under one promoted schema (a column whose types
clash across parts becomes text rather than failing the run)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from coherence.io.safe_values import json_safe, replace_surrogates
from coherence.io.schema import arrow_schema

__all__ = ["clear_link", "merge_parts", "records_table"]

_ROWS_PER_ROW_GROUP = 16_384


def records_table(records: list[dict[str, Any]]) -> Any:
    """An Arrow table of output records: schema fields typed, carried fields inferred. A
    carried field Arrow cannot hold as inferred (mixed types, an integer past 64 bits, an
    empty object Parquet cannot store) is stored as JSON text, so no value stops a block."""
    import pyarrow as pa

    core = arrow_schema()
    columns: dict[str, Any] = {}
    names = list(dict.fromkeys(k for r in records for k in r))
    for name in names:
        values = [r.get(name) for r in records]
        if name in core.names:
            columns[name] = pa.array(values, type=core.field(name).type)
            continue
        try:
            column = pa.array(values)
            if _has_empty_struct(column.type):
                raise pa.ArrowInvalid("an empty struct cannot be written to Parquet")
        except Exception:  # noqa: BLE001 - any value Arrow refuses becomes text, never a stopped run
            column = _text_column(values)
        columns[replace_surrogates(str(name))] = column
    return pa.table(columns)


def _text_column(values: list[Any]) -> Any:
    """`values` as a string column: text as it is, anything else as its JSON text."""
    import pyarrow as pa

    return pa.array([None if v is None else replace_surrogates(v) if isinstance(v, str) else _json_text(v) for v in values], type=pa.string())


def _has_empty_struct(arrow_type: Any) -> bool:
    import pyarrow as pa

    if pa.types.is_struct(arrow_type):
        return arrow_type.num_fields == 0 or any(_has_empty_struct(arrow_type.field(i).type) for i in range(arrow_type.num_fields))
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type) or pa.types.is_fixed_size_list(arrow_type):
        return _has_empty_struct(arrow_type.value_type)
    if pa.types.is_map(arrow_type):
        return _has_empty_struct(arrow_type.key_type) or _has_empty_struct(arrow_type.item_type)
    return False


def _json_text(value: Any) -> str:
    return json.dumps(json_safe(value), ensure_ascii=False)


def merge_parts(parts: list[Path], output: Path) -> Path:
    """Write `parts` into a temporary file beside `output` under one schema (types promoted;
    clashes become text) and return it: the caller records its digest, then renames it. A
    column whose values do not all fit the promoted type (an int past 2**53 among floats)
    becomes text and the merge starts again."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schemas = [pq.read_schema(p) for p in parts]
    schema = _unified_schema(schemas) if schemas else pa.schema([])
    temporary = output.with_name(output.name + ".tmp")
    while True:
        clear_link(temporary)
        try:
            _write_merged(parts, schema, temporary)
            break
        except _UncastableColumn as clash:
            schema = schema.set(schema.get_field_index(clash.name), pa.field(clash.name, pa.string()))
    with temporary.open("rb") as handle:
        os.fsync(handle.fileno())
    return temporary


class _UncastableColumn(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _write_merged(parts: list[Path], schema: Any, target: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    with pq.ParquetWriter(target, schema) as writer:
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
    """`table` cast to `schema`; missing columns are null, text columns take any value as
    its JSON text.

    Raises:
        _UncastableColumn: a column that does not fit its promoted type (the caller makes it text).
    """
    import pyarrow as pa

    columns = []
    for f in schema:
        if f.name not in table.column_names:
            columns.append(pa.nulls(table.num_rows, f.type))
            continue
        column = table.column(f.name)
        try:
            columns.append(column.cast(f.type))
        except Exception:  # noqa: BLE001 - any failed cast: the column becomes text
            if not pa.types.is_string(f.type):
                raise _UncastableColumn(f.name) from None
            columns.append(_text_column(column.to_pylist()))
    return pa.Table.from_arrays(columns, schema=schema)


def clear_link(path: Path) -> None:
    """Remove a symbolic link where the writer is about to create a file of its own: a link
    planted there must not lead the write into a file the run does not own."""
    if path.is_symlink():
        path.unlink()

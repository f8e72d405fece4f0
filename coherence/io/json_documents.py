"""Whole `.json` files: one array of objects, or objects pretty-printed one after another.
Such a file cannot be read a line at a time, so it is read whole and its values taken in
order; where its JSON breaks, one error record says where, since nothing after that point can
be told apart into records."""

from __future__ import annotations

import json
import json.decoder
from collections.abc import Iterator
from typing import Any

from coherence.io.fields import InputError, InputFile, RecordFields
from coherence.io.records import Record

__all__ = [
    "first_value_decodes",
    "is_json_array",
    "is_json_document",
    "is_plain_json",
    "json_array_records",
    "json_kind",
    "json_object_records",
    "json_values",
]

_JSON_SPACE = json.decoder.WHITESPACE  # what JSON allows between values (str.strip takes more)


def is_plain_json(file: InputFile) -> bool:
    """A `.json` file (not `.jsonl`): it may hold one array or pretty-printed objects."""
    return file.name.lower().endswith((".json", ".json.gz"))


def is_json_array(file: InputFile, head: bytes) -> bool:
    """A `.json` file whose first bytes (`head`) open an array: read whole, item by item."""
    return is_plain_json(file) and head.lstrip().startswith(b"[")


def is_json_document(file: InputFile, head: bytes) -> bool:
    """A `.json` file of objects written over several lines each (pretty-printed), not one
    object a line: its first line, complete within `head`, opens an object that goes on past
    the line's end (a line broken anywhere else is a broken JSON line, read as such)."""
    text = head.lstrip()
    if not (is_plain_json(file) and text.startswith(b"{") and b"\n" in text):
        return False
    first = text.split(b"\n", 1)[0].decode("utf-8", errors="replace").rstrip()
    try:
        json.loads(first)
    except json.JSONDecodeError as exc:
        return exc.pos >= len(first)
    except (ValueError, RecursionError):
        return False
    return False


def first_value_decodes(data: bytes) -> bool:
    """Whether the file's first JSON value parses: if not, it is read line by line after all,
    so that a broken first object costs one error record, not the whole file."""
    try:
        next(_decoded(data.decode("utf-8", errors="replace")))
    except (ValueError, RecursionError, StopIteration):
        return False
    return True


def json_object_records(data: bytes, file: InputFile, fields: RecordFields) -> Iterator[Record]:
    """The objects of a `.json` file written one after another over many lines (read whole).
    Where the JSON breaks, one error record names the line; nothing after it can be told
    apart into records."""
    text = data.decode("utf-8", errors="replace")
    try:
        for value, end in _decoded(text):
            if isinstance(value, dict):
                yield fields.record(value)
            else:
                line = text.count("\n", 0, end) + 1
                yield fields.failed(f"the value ending at line {line} of {file.name} is {json_kind(value)}, not an object")
    except json.JSONDecodeError as exc:
        yield fields.failed(f"{file.name} is not valid JSON at line {exc.lineno} ({exc.msg}); the rest of the file cannot be read")
    except RecursionError:
        yield fields.failed(f"{file.name} nests JSON too deeply to read; the rest of the file cannot be read")
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        yield fields.failed(f"{file.name} cannot be read past a value ({exc}); the rest of the file cannot be read")


def _decoded(text: str) -> Iterator[tuple[Any, int]]:
    """(value, where it ends) of JSON values written one after another; raises where one breaks."""
    decoder = json.JSONDecoder()
    position = 0
    while (position := _JSON_SPACE.match(text, position).end()) < len(text):  # type: ignore[union-attr]
        value, position = decoder.raw_decode(text, position)
        yield value, position


def json_values(data: bytes) -> Iterator[Any]:
    """The items of a JSON array, or the values of JSON written one after another."""
    text = data.decode("utf-8", errors="replace").lstrip()
    if text.startswith("["):
        items = json.loads(text)
        yield from items if isinstance(items, list) else [items]
    else:
        yield from (value for value, _ in _decoded(text))


def json_array_records(data: bytes, file: InputFile, fields: RecordFields) -> Iterator[Record]:
    """The items of a `.json` file holding one array (read whole: such files are small)."""
    try:
        items = json.loads(data.decode("utf-8", errors="replace"))
    except (ValueError, RecursionError) as exc:
        why = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise InputError(f"cannot read {file.path}: it starts as a JSON array but cannot be read as one ({why})") from None
    if not isinstance(items, list):  # '[' then something else cannot parse; kept for type checkers
        items = [items]
    for number, value in enumerate(items, 1):
        if isinstance(value, dict):
            yield fields.record(value)
        else:
            yield fields.failed(f"item {number} of {file.name} is {json_kind(value)}, not an object")


def json_kind(value: Any) -> str:
    """What a parsed JSON value is, in JSON's words ("a JSON null", not Python's "NoneType")."""
    if value is None or isinstance(value, bool):
        return f"JSON {json.dumps(value)}"
    kind = "list" if isinstance(value, list) else "string" if isinstance(value, str) else "number"
    return f"a JSON {kind}"

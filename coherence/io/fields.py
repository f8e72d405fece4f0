"""What a batch input is: its format, the fields that hold a record's text and id, and the one
error a user must fix before a run can start."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from coherence.io.html import EXTRACTED_FIELD, MARKUP_RATIO, extract_article
from coherence.io.records import MAX_CHARS, Record, RecordError, check_text

__all__ = [
    "DEFAULT_ID_FIELD", "FileFormat", "InputError", "InputFile", "InputFormat", "ROWS_PER_READ", "RecordFields", "input_format",
    "is_corpus_name",
]  # fmt: skip

DEFAULT_ID_FIELD = "id"  # used as the record id when the records have it and no --id-field is given
InputFormat = Literal["jsonl", "parquet", "csv", "folder"]
FileFormat = Literal["jsonl", "parquet", "csv", "text"]

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
ROWS_PER_READ = 1024


class InputError(Exception):
    """An input (or output) the user must fix; the batch cannot start or go on."""


def is_corpus_name(name: str) -> bool:
    """Whether a file name is one a batch of records is read from (JSONL, JSON, Parquet, CSV)."""
    return name.lower().endswith(tuple(_SUFFIXES))


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


@dataclass(frozen=True)
class RecordFields:
    """Which fields of an input record hold its text, its id and what to carry through.

    A record whose id cannot be named (nor given as `default_id`: a text file's name) gets id
    None here; `RecordReader` numbers those by position when there is no id field (so does the
    Ray engine, on its driver).
    """

    text_field: str = "text"
    id_field: str | None = None
    keep_fields: tuple[str, ...] = ()
    max_chars: int = MAX_CHARS
    html: bool = False  # the text field holds HTML: its article text is extracted and kept
    site_field: str | None = None  # the field naming the record's site (a URL or a domain)

    def record(self, fields: dict[str, Any], default_id: Any = None) -> Record:
        kept = {name: fields.get(name) for name in self.keep_fields}
        record_id = fields.get(self.id_field) if self.id_field is not None else None
        if record_id is None:  # a folder's text file is named by its path, whatever the id field
            record_id = default_id
        site = fields.get(self.site_field) if self.site_field is not None else None
        if self.html:
            kept[EXTRACTED_FIELD] = None
        try:
            text = check_text(fields.get(self.text_field), self.text_field, self.source_chars)
            if self.html:  # the article limit holds for the text extracted, not for the markup
                text = kept[EXTRACTED_FIELD] = check_text(extract_article(text), f"article text of '{self.text_field}'", self.max_chars)
            return Record(record_id, text, kept=kept, site=site)
        except RecordError as exc:
            return Record(record_id, None, str(exc), kept)

    @property
    def source_chars(self) -> int:
        """Characters the text field may hold: `max_chars`, or for an HTML page `MARKUP_RATIO`
        times it (its extracted text is then held to `max_chars`)."""
        return self.max_chars * MARKUP_RATIO if self.html else self.max_chars

    def failed(self, message: str, record_id: Any = None) -> Record:
        kept = {name: None for name in self.keep_fields} | ({EXTRACTED_FIELD: None} if self.html else {})
        return Record(record_id, None, message, kept)

    def columns(self, names: Sequence[str], source: Any) -> list[str]:
        """The columns to read of a table with columns `names`.

        Raises:
            InputError: the text column is not among them.
        """
        if self.text_field not in names:
            raise InputError(f"{source} has no column '{self.text_field}' (columns: {', '.join(names)}); use --text-field")
        wanted = [self.text_field, *(f for f in (self.id_field, self.site_field) if f), *self.keep_fields]
        columns = [name for name in dict.fromkeys(wanted) if name in names]
        twice = [name for name in columns if list(names).count(name) > 1]
        if twice:
            raise InputError(f"{source} has more than one column named '{twice[0]}'; rename one of them")
        return columns


@dataclass(frozen=True)
class InputFile:
    """One file to read: its path, format and name (a folder's file: its relative path), or
    why it cannot be read (a broken link, an unreadable folder): one error record."""

    path: Path
    format: FileFormat
    name: str
    error: str | None = None

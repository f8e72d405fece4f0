"""Streaming readers for batch inputs: JSONL (.gz), Parquet, CSV and folders of .txt files.

Every input record becomes exactly one `Record`, in input order; a record that cannot be
scored carries an `error` instead of raising. Only problems with a whole input (missing file,
unknown format, no text column, a column named for the id, site or keeping that no table input
has) raise `InputError`. The per-file readers take an open stream
as well as a path, so the Ray engine reads files on its workers exactly as this module does.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from coherence.io.fields import DEFAULT_ID_FIELD, InputError, InputFile, RecordFields, input_format
from coherence.io.file_readers import column_names, count_json_records, first_record_fields, read_file
from coherence.io.records import MAX_CHARS, Record

__all__ = ["RecordReader", "folder_entries"]


@dataclass
class RecordReader:
    """Reads records from inputs in order.

    Args:
        inputs: files or folders, read one after another.
        text_field: field (column) holding the article text.
        id_field: field holding the record id; default: `DEFAULT_ID_FIELD` when the first
            input's first record has it, else none. Without one, the record's position across
            all inputs, counted from 0 (a folder's records are named by their relative path);
            with one, a record that lacks it (or a line that is not JSON) has id None, never a
            position that could be another record's id.
        keep_fields: fields carried through to the output unchanged.
        max_chars: longer texts get an error instead of a score.
        html: the text field holds HTML pages; each page's article text is extracted
            (trafilatura) and scored, and kept in the output as `extracted_text`.
        site_field: field naming each record's site (a URL or a domain), for line repeats.
    """

    inputs: Sequence[Path]
    text_field: str = "text"
    id_field: str | None = None
    keep_fields: Sequence[str] = ()
    max_chars: int = MAX_CHARS
    html: bool = False
    site_field: str | None = None
    fields: RecordFields = field(init=False)

    def __post_init__(self) -> None:
        self.inputs = [Path(p) for p in self.inputs]
        if not self.inputs:
            raise InputError("no input given")
        self.formats = [input_format(p) for p in self.inputs]
        named = [(self.id_field, "--id-field"), (self.site_field, "--site-field"), *((f, "--keep-fields") for f in self.keep_fields)]
        if self.id_field is None and DEFAULT_ID_FIELD in first_record_fields(self.inputs[0], self.formats[0]):
            self.id_field = DEFAULT_ID_FIELD
        self.fields = RecordFields(
            self.text_field, self.id_field, tuple(self.keep_fields), self.max_chars, self.html, self.site_field
        )
        tables: dict[Path, list[str]] = {}
        for path, fmt in zip(self.inputs, self.formats):  # a missing text column stops the run before it starts
            if fmt in ("parquet", "csv"):
                tables[path] = column_names(InputFile(path, fmt, path.name))
                self.fields.columns(tables[path], path)
        if tables and len(tables) == len(self.inputs):  # every input's columns are known
            _check_named_columns([(name, option) for name, option in named if name is not None], tables)

    def files(self) -> Iterator[InputFile]:
        """Every file to read, in order (folders expanded to their .txt files)."""
        for path, fmt in zip(self.inputs, self.formats):
            if fmt == "folder":
                entries = folder_entries(path)
                if not entries:
                    raise InputError(f"{path} has no .txt files")
                yield from (InputFile(file, "text", name, error) for name, file, error in entries)
            else:
                yield InputFile(path, fmt, path.name)

    def __iter__(self) -> Iterator[Record]:
        position = 0
        for file in self.files():
            for record in read_file(file, self.fields):
                if record.id is None and self.fields.id_field is None:
                    record.id = position
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
                total += len(folder_entries(path))
            elif fmt == "jsonl":
                total += count_json_records(InputFile(path, "jsonl", path.name), self.fields)
            else:
                return None
        return total


def _check_named_columns(named: Sequence[tuple[str, str]], tables: dict[Path, list[str]]) -> None:
    """Refuse a column the user named (for the id, the site or to keep) that no input table
    has: a typo, which would give every record a null id or field without a word. A column
    that only some tables have is taken (their other records get null)."""
    for name, option in named:
        if not any(name in columns for columns in tables.values()):
            path, columns = next(iter(tables.items()))
            if len(tables) == 1:
                raise InputError(f"{path} has no column '{name}' (columns: {', '.join(columns)}); check {option}")
            raise InputError(f"no input table has a column '{name}' ({path}'s columns: {', '.join(columns)}); check {option}")


def folder_entries(folder: Path) -> list[tuple[str, Path, str | None]]:
    """(relative name, path, error) of every text file below `folder`, by name: files ending
    in .txt in any case, and as errors, so that no record is dropped unseen, links that lead
    nowhere and subfolders that cannot be read."""
    entries: list[tuple[str, Path, str | None]] = []

    def unreadable(exc: OSError) -> None:
        where = Path(exc.filename) if exc.filename else folder
        name = where.relative_to(folder).as_posix() if where != folder else "."
        entries.append((name, where, f"cannot read folder {name}: {exc.strerror or exc}"))

    seen = {os.path.realpath(folder)}
    for root, dirs, files in os.walk(folder, onerror=unreadable, followlinks=True):
        # linked subfolders are read, once each (a link back up would loop forever)
        dirs[:] = [d for d in sorted(dirs) if os.path.realpath(os.path.join(root, d)) not in seen]
        seen.update(os.path.realpath(os.path.join(root, d)) for d in dirs)
        for file_name in files:
            if not file_name.lower().endswith(".txt"):
                continue
            path = Path(root) / file_name
            name = path.relative_to(folder).as_posix()
            if path.is_file():
                entries.append((name, path, None))
            elif path.is_symlink() and not path.exists():
                entries.append((name, path, f"{name} is a link to nothing ({os.readlink(path)})"))
    return sorted(entries, key=lambda entry: entry[0])

"""Input records for batch jobs: checking one record's text, and its output record.

Shared by the file batch runner, the Ray Data step and the datatrove step, so a record that
cannot be scored gets the same clear `error` message whichever engine reads it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from coherence.results import ArticleResult
from coherence.io.safe_values import replace_surrogates


if TYPE_CHECKING:
    from coherence.detector import Detector

__all__ = [
    "MAX_CHARS", "Record", "RecordError", "check_text", "chunked", "output_record", "score_records", "too_long", "utf16_message",
    "writable",
]

MAX_CHARS = 200_000
"""Longest text scored by default (about 40 long news articles); longer is not one article,
and would cost minutes and gigabytes to cluster. Raise it with ``max_chars``."""


# C0 and C1 control characters other than tab, newline and carriage return.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class RecordError(ValueError):
    """A record that cannot be scored; the message goes into the output's `error` field."""


@dataclass(slots=True)
class Record:
    """One input record: its id, its text (None if unusable), why not, and fields to carry."""

    id: Any
    text: str | None
    error: str | None = None
    kept: dict[str, Any] = field(default_factory=dict)
    site: Any = None  # the site (URL or domain) it came from, for line repeats


def check_text(value: Any, field_name: str = "text", max_chars: int = MAX_CHARS) -> str:
    """The text of a record, cleaned of control characters and lone surrogates (which no
    tokenizer or UTF-8 writer takes; both keep every offset).

    Raises:
        RecordError: the value is missing, not text, empty, or longer than `max_chars`.
    """
    if value is None:
        raise RecordError(f"'{field_name}' is missing or null")
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if not isinstance(value, str):
        kind = "a boolean" if isinstance(value, bool) else "a number" if isinstance(value, (int, float)) else f"a {type(value).__name__}"
        raise RecordError(f"'{field_name}' is {kind}, not text")
    text = replace_surrogates(_CONTROL.sub(" ", value))
    if not text.strip():
        raise RecordError(f"'{field_name}' is empty")
    if len(text) > max_chars:
        raise RecordError(too_long(f"'{field_name}'", len(text), max_chars))
    return text


def too_long(what: str, chars: int, limit: int, option: str = "max_chars, --max-chars on the command line") -> str:
    """Why a text over the length limit is refused: a corpus or a dump, not one article, whose
    scoring would fill memory (`option` names the setting as the user gives it)."""
    return f"{what} has {chars:,} characters, more than the limit of {limit:,} (not one article; split it or raise {option})"


_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def utf16_message(head: bytes, name: str, reads: str = "UTF-8") -> str | None:
    """What to tell the user when `head` (a file's first bytes) opens with a UTF-16 byte-order
    mark, else None: such a file holds NUL bytes but is text, and split at b"\\n" it would give
    one broken record a line, so it is named for what it is, with the way to convert it."""
    if head[:2] not in _UTF16_BOMS:
        return None
    return f"{name} is UTF-16 text; coherence reads {reads} (convert it, e.g. iconv -f UTF-16 -t UTF-8)"


def output_record(result: ArticleResult, kept: dict[str, Any] | None = None) -> dict[str, Any]:
    """The output-schema record of a scored (or failed) article, with carried fields after it."""
    record = result.to_dict()
    if kept:
        record.update(kept)
    return record


def writable(record: dict[str, Any], convert: Callable[[Any], Any]) -> dict[str, Any]:
    """`record` passed through `convert` (see `coherence.io.safe_values`); a record that cannot
    be converted (nesting too deep for Python, say) becomes an error record with its id, so
    one record never stops a batch."""
    try:
        return convert(record)
    except Exception as exc:  # noqa: BLE001 - reported in the record, never raised
        message = f"could not be written: {type(exc).__name__}: {str(exc)[:200]}"
        try:
            record_id = convert(record.get("id"))
        except Exception:  # noqa: BLE001 - the id itself is what fails
            record_id = None
        failed = ArticleResult.failed(message, id=record_id).to_dict()
        return convert({**failed, **{name: None for name in record if name not in failed}})


def score_records(detector: Detector, records: Sequence[Record]) -> list[dict[str, Any]]:
    """Output records for `records`, in order: usable texts are embedded in shared batches.

    A record that fails (bad input, or an unexpected error while scoring it) gets a record
    with `error` set; nothing raised by one record stops the others.
    """
    usable = [r for r in records if r.error is None and r.text is not None]
    try:
        results = detector.score_many([r.text for r in usable], ids=[r.id for r in usable], sites=[r.site for r in usable])
        scored = dict(zip(map(id, usable), results))
    except Exception:  # noqa: BLE001 - find the record at fault, score the rest one by one
        scored = {id(r): _score_alone(detector, r) for r in usable}
    out = []
    for r in records:
        result = scored.get(id(r)) or ArticleResult.failed(r.error or "no text", id=r.id)
        out.append(output_record(result, r.kept))
    return out


def _score_alone(detector: Detector, record: Record) -> ArticleResult:
    try:
        result = detector.score(record.text or "", site=record.site)
    except Exception as exc:  # noqa: BLE001 - reported in the record, never raised
        return ArticleResult.unscorable(exc, id=record.id)
    result.id = record.id
    return result


def chunked(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Lists of `size` items (the last may be shorter), lazily."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk

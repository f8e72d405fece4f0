"""The output record, defined once: every field's name, Arrow type and how it is read from a
result. `ArticleResult.to_dict`, the Parquet writer, the Ray and Hugging Face engines and the
corpus report all derive their columns from here, so a new field is one line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from coherence.verdict import REASONS

if TYPE_CHECKING:
    from coherence.results import ArticleResult, SentenceResult

__all__ = [
    "DECIMALS", "OUTPUT_FIELDS", "SPAN_FIELDS", "TYPED_FIELDS", "OutputField", "arrow_schema", "record_of", "sentence_of",
    "span_of",
]  # fmt: skip

DECIMALS = 4  # scores and coherence are rounded to this many decimals in records


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, DECIMALS)


@dataclass(frozen=True)
class OutputField:
    """One field of the output record."""

    name: str
    arrow: Callable[[Any], Any] | None  # pyarrow module -> type; None: the input's type (the id)
    value: Callable[[ArticleResult], Any]


def _span_type(pa: Any) -> Any:
    return pa.struct([(name, arrow(pa)) for name, arrow, _ in _SPAN])


_SPAN: tuple[tuple[str, Callable[[Any], Any], Callable[[SentenceResult], Any]], ...] = (
    ("start", lambda pa: pa.int64(), lambda s: s.start),
    ("end", lambda pa: pa.int64(), lambda s: s.end),
    ("reason", lambda pa: pa.string(), lambda s: s.reason),
    ("score", lambda pa: pa.float64(), lambda s: _rounded(s.score)),
    ("text", lambda pa: pa.string(), lambda s: s.text),
    ("explanation", lambda pa: pa.string(), lambda s: s.explanation),
)
SPAN_FIELDS = tuple(name for name, _, _ in _SPAN)

FIELDS: tuple[OutputField, ...] = (
    OutputField("id", None, lambda r: r.id),
    OutputField("coherence", lambda pa: pa.float64(), lambda r: _rounded(r.coherence)),
    OutputField("passed", lambda pa: pa.bool_(), lambda r: r.passed),
    OutputField("n_sentences", lambda pa: pa.int64(), lambda r: len(r.sentences)),
    OutputField("n_flagged", lambda pa: pa.int64(), lambda r: len(r.flagged)),
    OutputField("counts", lambda pa: pa.struct([(reason, pa.int64()) for reason in REASONS]), lambda r: r.counts),
    OutputField("flags", lambda pa: pa.list_(_span_type(pa)), lambda r: [span_of(s) for s in r.flagged]),
    OutputField("error", lambda pa: pa.string(), lambda r: r.error),
    OutputField("language", lambda pa: pa.string(), lambda r: r.language),
)
OUTPUT_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS)
TYPED_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.arrow is not None)  # all but the id

# Every sentence, with `--sentences` (JSON only): the span's fields and what scoring saw.
_SENTENCE: tuple[tuple[str, Callable[[SentenceResult], Any]], ...] = (
    ("text", lambda s: s.text),
    ("start", lambda s: s.start),
    ("end", lambda s: s.end),
    ("paragraph", lambda s: s.paragraph),
    ("score", lambda s: _rounded(s.score)),
    ("fit", lambda s: _rounded(s.fit)),
    ("confidence", lambda s: _rounded(s.confidence)),
    ("leftover", lambda s: _rounded(s.leftover)),
    ("flagged", lambda s: s.flagged),
    ("reason", lambda s: s.reason),
    ("evidence", lambda s: s.evidence),
    ("explanation", lambda s: s.explanation),
)


def span_of(sentence: SentenceResult) -> dict[str, Any]:
    """The output-schema span of a flagged sentence."""
    return {name: value(sentence) for name, _, value in _SPAN}


def sentence_of(sentence: SentenceResult) -> dict[str, Any]:
    """One sentence as `--sentences` lists it."""
    return {name: value(sentence) for name, value in _SENTENCE}


def record_of(result: ArticleResult, sentences: bool = False) -> dict[str, Any]:
    """The output record of one article (with every sentence, when asked)."""
    record = {f.name: f.value(result) for f in FIELDS}
    if sentences:
        record["sentences"] = [sentence_of(s) for s in result.sentences]
    return record


def arrow_schema() -> Any:
    """The Arrow schema of the typed fields (the id takes its type from the input)."""
    import pyarrow as pa

    return pa.schema([(f.name, f.arrow(pa)) for f in FIELDS if f.arrow is not None])

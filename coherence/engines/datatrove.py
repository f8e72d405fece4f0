"""A datatrove pipeline step: annotate, gate and clean news articles (``pip install coherence[datatrove]``).

>>> from coherence.engines.datatrove import CoherenceFilter
>>> step = CoherenceFilter(drop_failed=True, remove_flagged=("boilerplate", "duplicate"))

Every document gets ``doc.metadata["coherence"]``: the output-schema record of the batch
runner (id, coherence, passed, n_sentences, n_flagged, counts, flags, error, language), plus

- ``removed``: how many flagged spans were cut out of ``doc.text`` (0 when none were), and
- ``removed`` in each flag span: whether that span was cut out.

Flag offsets (``start``/``end``) always refer to the text as it was scored, i.e. the
document's text *before* this step; once ``removed > 0`` they no longer index ``doc.text``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from typing import Any

from coherence.extras import require

require("datatrove", "datatrove", "CoherenceFilter")  # before the imports below fail with less to say

from datatrove.data import Document  # noqa: E402
from datatrove.pipeline.filters.base_filter import BaseFilter  # noqa: E402
from datatrove.pipeline.writers.disk_base import DiskWriter  # noqa: E402

from coherence.build import ready_detector  # noqa: E402
from coherence.detector import Detector  # noqa: E402
from coherence.io.records import MAX_CHARS, Record, RecordError, check_text, score_records  # noqa: E402
from coherence.verdict import REASONS, Reason  # noqa: E402

__all__ = ["CoherenceFilter", "remove_spans"]

METADATA_KEY = "coherence"
FAILED = "coherence_failed"
ERROR = "coherence_error"


class CoherenceFilter(BaseFilter):
    """Score each document's text as a news article; annotate it, optionally drop or clean it.

    Documents are scored `batch_size` at a time, their sentences embedded together. A
    document whose text cannot be scored (empty, longer than `max_chars`) is never a crash:
    its record has `error` set (and `passed` False) and it is kept unless `drop_errors`.

    Args:
        drop_failed: drop documents that were scored and did not pass the coherence gate
            (`passed` False), with the reason ``"coherence_failed"``. Documents with an
            error are not "failed": `drop_errors` decides about them.
        drop_errors: drop documents whose text could not be scored, with the reason
            ``"coherence_error"``. Off by default: an unscorable text is a data problem to
            look at (the `error` says what), not evidence that the article is incoherent.
        remove_flagged: cut flagged sentences out of ``doc.text`` (of the documents kept):
            True for every reason, or the reason(s) to cut, e.g. ``("boilerplate", "duplicate")``.
            Only the whitespace next to a cut is tidied; see `remove_spans`.
        max_chars: longer texts get an `error` instead of a score.
        batch_size: documents scored together (their sentences share embedding batches).
        exclusion_writer: a datatrove writer that saves the dropped documents (annotated, text
            unchanged, ``metadata["filter_reason"]`` set).
        detector: a configured Detector; or give its options instead (`detector_options`:
            ``model``, ``threshold``, ``flag_rate``, ``off_topic_threshold``, ...).

    The model loads on first use, once per step instance. The step pickles without it (the
    project's encoders pickle without their loaded models, so each worker process loads its
    own; any other encoder object is pickled as it is), and a deep copy in the same process
    (datatrove's local executor copies the pipeline per task) shares it.

    Raises:
        ValueError: both `detector` and `detector_options`, an unknown reason in
            `remove_flagged`, or a detector option out of range (e.g. `flag_rate`).
        TypeError: an unknown detector option.
    """

    name = "🧭 Coherence"

    def __init__(
        self,
        drop_failed: bool = False,
        drop_errors: bool = False,
        remove_flagged: bool | Reason | Sequence[Reason] = False,
        max_chars: int = MAX_CHARS,
        batch_size: int = 64,
        exclusion_writer: DiskWriter | None = None,
        detector: Detector | None = None,
        **detector_options: Any,
    ) -> None:
        super().__init__(exclusion_writer=exclusion_writer, batch_size=batch_size)
        if detector is not None and detector_options:
            raise ValueError(f"give a detector or its options, not both (got {sorted(detector_options)})")
        self.drop_failed = drop_failed
        self.drop_errors = drop_errors
        self.remove_flagged = remove_flagged
        self.max_chars = max_chars
        self.detector = detector
        self.detector_options = detector_options
        self._reasons = _removal_reasons(remove_flagged)
        # Built now so bad options fail when the pipeline is defined; the model loads lazily.
        self._detector: Detector | None = ready_detector(detector or detector_options, prepare=False)

    # -- datatrove ------------------------------------------------------------------------
    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        """Annotate (and maybe clean) one document; whether to keep it."""
        return self.filter_batch([doc])[0]

    def filter_batch(self, batch: list[Document]) -> list[bool | tuple[bool, str]]:
        """Annotate (and maybe clean) a batch of documents scored together; whether to keep each."""
        records = [self._record(doc) for doc in batch]
        outputs = score_records(self.detector_, records)
        return [self._apply(doc, out) for doc, out in zip(batch, outputs)]

    # -- the detector, lazily, and pickling -----------------------------------------------
    @property
    def detector_(self) -> Detector:
        """The Detector in use (built from `detector` or `detector_options` on first use)."""
        if self._detector is None:
            self._detector = ready_detector(self.detector or self.detector_options, prepare=False)
        return self._detector

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_detector"] = None  # the project's encoders pickle without their loaded models
        return state

    def __deepcopy__(self, memo: dict[int, Any]) -> CoherenceFilter:
        clone = type(self).__new__(type(self))
        memo[id(self)] = clone
        for name, value in self.__dict__.items():
            if name == "detector_options":  # may hold a loaded encoder: copy the dict, not it
                value = dict(value)
            elif name not in ("detector", "_detector"):  # read-only once loaded: no second model
                value = copy.deepcopy(value, memo)
            setattr(clone, name, value)
        return clone

    # -- one document ---------------------------------------------------------------------
    def _record(self, doc: Document) -> Record:
        try:
            text = check_text(doc.text, max_chars=self.max_chars)
        except RecordError as exc:
            return Record(doc.id, None, str(exc))
        return Record(doc.id, text)

    def _apply(self, doc: Document, out: dict[str, Any]) -> bool | tuple[bool, str]:
        error = out["error"] is not None
        if error:
            self.stat_update("coherence_errors")
        else:
            self.stat_update("coherence_passed" if out["passed"] else "coherence_failed")
            for reason, n in out["counts"].items():
                if n:
                    self.stat_update(f"flagged_{reason}", value=n)
        keep = not (self.drop_errors if error else self.drop_failed and not out["passed"])
        editable = keep and isinstance(doc.text, str)  # dropped documents are saved as they came
        for flag in out["flags"]:
            flag["removed"] = editable and flag["reason"] in self._reasons and flag["start"] is not None
        cut = [flag for flag in out["flags"] if flag["removed"]]
        out["removed"] = len(cut)
        if cut:
            text = remove_spans(doc.text, [(f["start"], f["end"]) for f in cut])
            for flag in cut:
                self.stat_update(f"removed_{flag['reason']}")
            self.stat_update("removed_chars", value=len(doc.text) - len(text))
            doc.text = text
        doc.metadata[METADATA_KEY] = out
        if keep:
            return True
        return False, ERROR if error else FAILED


def remove_spans(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """`text` without the character spans ``[start, end)``, the whitespace at each cut tidied.

    Spans separated only by whitespace are cut as one. Where a cut was, the whitespace on its
    two sides becomes one separator: the one holding more line breaks (then the longer; a
    sentence cut from inside a paragraph leaves one space, a line cut from between paragraphs
    one blank line). A cut at the start of the text keeps the text's leading whitespace, one
    at the end its trailing whitespace. Nothing else changes.

    Raises:
        ValueError: a span outside the text, or with end before start.
    """
    regions: list[list[int]] = []
    for start, end in sorted(spans):
        if not 0 <= start <= end <= len(text):
            raise ValueError(f"span ({start}, {end}) is not within a text of {len(text)} characters")
        if start == end:
            continue
        if regions and (start <= regions[-1][1] or not text[regions[-1][1] : start].strip()):
            regions[-1][1] = max(regions[-1][1], end)
        else:
            regions.append([start, end])
    if not regions:
        return text
    bounds = [0, *(b for region in regions for b in region), len(text)]
    kept = [text[bounds[i] : bounds[i + 1]] for i in range(0, len(bounds), 2)]
    last = len(kept) - 1  # kept text between cuts holds more than whitespace; the ends may not
    at_start, at_end = not kept[0].strip(), not kept[last].strip()
    if last == 1 and at_start and at_end:  # nothing but whitespace kept
        return ""
    pieces = []
    for i, segment in enumerate(kept):
        if i > 0:  # the cut before this segment: one separator for the whitespace around it
            left = kept[i - 1][len(kept[i - 1].rstrip()) :]
            right = segment[: len(segment) - len(segment.lstrip())]
            if i == 1 and at_start:
                pieces.append(left)
            elif i == last and at_end:
                pieces.append(right)
            else:
                pieces.append(max(left, right, key=lambda ws: (ws.count("\n"), len(ws))))
        core = segment.lstrip() if i > 0 else segment
        pieces.append(core.rstrip() if i < last else core)
    return "".join(pieces)


def _removal_reasons(remove_flagged: bool | str | Sequence[str]) -> frozenset[str]:
    if remove_flagged is True:
        return frozenset(REASONS)
    if remove_flagged is False:
        return frozenset()
    reasons = (remove_flagged,) if isinstance(remove_flagged, str) else tuple(remove_flagged)
    unknown = [r for r in reasons if r not in REASONS]
    if unknown:
        raise ValueError(f"remove_flagged: unknown reason(s) {unknown}; choose from {list(REASONS)}")
    return frozenset(reasons)

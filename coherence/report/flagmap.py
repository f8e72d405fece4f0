"""The corpus page's map: a fixed-seed sample of flagged sentences among their articles,
embedded with the batch run's model and projected to 2-D. The articles' texts come from the
batch run's inputs, read in one streaming pass and checked against the results' ids."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from coherence.io.fields import InputError
from coherence.io.records import MAX_CHARS, RecordError
from coherence.report.corpus_stats import CorpusStats
from coherence.report.projection import Projection, project

if TYPE_CHECKING:
    from coherence.encoders.base import Backend
    from coherence.encoders.base import Encoder

__all__ = ["FlagMap", "MAP_REASONS", "flag_map", "input_texts", "mapped_flags"]

OPENING_CHARS = 1000  # an article is placed on the map by its opening (about the model's input length)
MAP_LABELS = 10
MAP_REASONS = ("off_topic", "duplicate")


@dataclass(frozen=True)
class FlagMap:
    """2-D positions of sampled flagged sentences and of their articles."""

    coords: np.ndarray
    reasons: list[str | None]  # None: an article's opening
    texts: list[str]
    method: str

    def labels(self, most: int = MAP_LABELS, width: int = 40) -> dict[int, str]:
        """Short texts for up to `most` flagged points spread over the map (farthest-first)."""
        flagged = [k for k, r in enumerate(self.reasons) if r is not None]
        if not flagged:
            return {}
        points = self.coords[flagged]
        chosen = [int(np.argmin(points[:, 0]))]
        distance = np.linalg.norm(points - points[chosen[0]], axis=1)
        while len(chosen) < min(most, len(flagged)):
            nxt = int(np.argmax(distance))
            if distance[nxt] == 0:
                break
            chosen.append(nxt)
            distance = np.minimum(distance, np.linalg.norm(points - points[nxt], axis=1))
        return {flagged[k]: textwrap.shorten(self.texts[flagged[k]], width, placeholder="…") for k in chosen}


def input_texts(
    wanted: dict[int, Any],
    inputs: Sequence[str | Path],
    *,
    text_field: str = "text",
    id_field: str | None = None,
    html: bool = False,
    max_chars: int = MAX_CHARS,
) -> dict[int, str]:
    """The texts of the input records at the `wanted` positions ({position: id in the
    results}), read in one streaming pass that stops after the last of them. With `html`
    (the run's --html-field), each wanted page's extracted article text, which the results'
    offsets refer to, extracted as the run did (the pages passed on the way are not).

    Raises:
        InputError: the inputs cannot be read or do not line up with the results (the batch
            run's inputs, in the same order, are needed).
    """
    from coherence.io.fields import RecordFields
    from coherence.io.html import extract_article
    from coherence.io.readers import RecordReader

    texts: dict[int, str] = {}
    if not wanted:
        return texts
    last = max(wanted)
    page_chars = RecordFields(max_chars=max_chars, html=html).source_chars  # a page may be longer than its article
    reader = RecordReader([Path(p) for p in inputs], text_field, id_field, max_chars=page_chars)
    for position, record in enumerate(reader):
        if position in wanted:
            if str(record.id) != str(wanted[position]) or record.text is None:
                found = "no usable text" if record.text is None else f"id {record.id!r}"
                raise InputError(
                    f"the input does not line up with the results: record {position} has {found} in the input and "
                    f"id {wanted[position]!r} in the results (give the inputs, --text-field and --id-field of the batch run)"
                )
            try:
                texts[position] = extract_article(record.text) if html else record.text
            except RecordError as exc:
                raise InputError(f"record {position} of the input: {exc}, though the batch run scored it") from None
        if position >= last:
            break
    if len(texts) < len(wanted):
        raise InputError(f"the input has fewer records than the results (none at position {last})")
    return texts


def mapped_flags(stats: CorpusStats) -> list[dict[str, Any]]:
    """The sampled flags drawn on the map: off-topic lines and repeats. Boilerplate and
    fragments are left out: short lines alike in any article, they sit apart from everything
    and would squeeze the rest of the map into a corner."""
    return [item for item in stats.flag_sample if item["reason"] in MAP_REASONS]


def flag_map(
    stats: CorpusStats,
    texts: dict[int, str],
    *,
    model: str | os.PathLike[str] | Encoder | None = None,
    backend: Backend | None = None,
    projection: Projection = "auto",
    seed: int = 0,
) -> FlagMap | None:
    """Embed the sampled flagged sentences and the openings of their articles (`texts` by
    position, see `input_texts`) with `model` (a name or path run on `backend`, or a loaded
    encoder; default: the bundled model); None when nothing is flagged."""
    from coherence.encoders.base import DEFAULT_MODEL, model_name
    from coherence.encoders.factory import make_encoder

    sample = mapped_flags(stats)
    if not sample:
        return None
    order = sorted({item["position"] for item in sample})
    openings = [" ".join(texts[p][:OPENING_CHARS].split()) for p in order]
    sentences = [item["text"] for item in sample]
    reasons: list[str | None] = [None] * len(order) + [item["reason"] for item in sample]
    name = DEFAULT_MODEL if model is None else model_name(model)
    encoder = model if name is None else make_encoder(name, backend)
    vectors = encoder.encode(openings + sentences)
    coords, method = project(np.asarray(vectors), projection, seed)
    return FlagMap(coords, reasons, openings + sentences, method)

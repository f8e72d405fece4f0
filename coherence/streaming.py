"""Scoring a stream of articles (`Detector.score_many`): chunks of articles, one step apart.

While one chunk's sentences are embedded (on the encoder's threads, which run outside the GIL),
the next chunk is prepared and the last one weighed, so the cores are not idle while Python
reads text. Every encoder call runs in turn on one thread, so the results are those of scoring
one chunk at a time; the stream reads one chunk ahead of what it has yielded, and when reading
the input fails, the chunk read before is yielded before the error is raised.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import TYPE_CHECKING, Any

import numpy as np

from coherence.preparation import PreparedArticle
from coherence.results import ArticleResult
from coherence.weighing import Weighing, conclude, weigh

if TYPE_CHECKING:
    from concurrent.futures import Executor, Future

    from coherence.detector import Detector

__all__ = ["score_stream"]

Prepared = list[PreparedArticle | str]  # a chunk's articles prepared, or why each cannot be scored


def score_stream(
    detector: Detector, articles: Iterable[Any], ids: Iterable[Any] | None, sites: Iterable[str | None] | None
) -> Iterator[ArticleResult]:
    """Results of `articles` in order, chunks of `detector.articles_per_batch` embedded together."""
    from concurrent.futures import ThreadPoolExecutor

    pending: tuple[Prepared, list[Any], Future[np.ndarray]] | None = None
    chunks = _chunks(articles, ids, sites, detector.articles_per_batch)
    with ThreadPoolExecutor(1, thread_name_prefix="coherence-encode") as encoding:
        while True:
            try:
                chunk, chunk_ids, chunk_sites = next(chunks)
                prepared = _prepare_chunk(detector, chunk, chunk_sites)
            except StopIteration:
                break
            except Exception:  # the input failed: what was read before it is still scored
                if pending is not None:
                    yield from _finish_chunk(detector, *pending, encoding)
                raise
            embedding = encoding.submit(detector._encode, _content_texts(prepared))
            if pending is not None:
                yield from _finish_chunk(detector, *pending, encoding)
            pending = (prepared, chunk_ids, embedding)
        if pending is not None:
            yield from _finish_chunk(detector, *pending, encoding)


def _chunks(
    articles: Iterable[Any], ids: Iterable[Any] | None, sites: Iterable[str | None] | None, size: int
) -> Iterator[tuple[list[Any], list[Any], list[str | None]]]:
    """The records in chunks of `size`, with their ids (their positions when none are given) and
    sites; when reading the records fails, the records read before it come out first."""
    id_iter = iter(ids) if ids is not None else None
    site_iter = iter(sites) if sites is not None else None
    records = iter(articles)
    position = 0
    failure: BaseException | None = None
    while failure is None:
        chunk: list[Any] = []
        try:
            for record in islice(records, size):
                chunk.append(record)
        except Exception as exc:  # noqa: BLE001 - raised again once the records read before it are out
            failure = exc
        if not chunk:
            break
        chunk_ids = [_next(id_iter, "ids", position + k) if id_iter is not None else position + k for k in range(len(chunk))]
        chunk_sites = [_next(site_iter, "sites", position + k) if site_iter is not None else None for k in range(len(chunk))]
        position += len(chunk)
        yield chunk, chunk_ids, chunk_sites
    if failure is not None:
        raise failure


def _next(values: Iterator[Any], name: str, position: int) -> Any:
    """The next of `values`; a ValueError when they end before the articles (a StopIteration
    here would end the stream, or surface as "generator raised StopIteration")."""
    for value in values:
        return value
    raise ValueError(f"{name} ran out after {position} articles: give one for every article")


def _prepare_chunk(detector: Detector, chunk: list[Any], sites: list[str | None]) -> Prepared:
    """Each record prepared, or the reason it cannot be scored."""
    prepared: Prepared = []
    for article, site in zip(chunk, sites):
        try:
            prepared.append(detector._prepare(article, site))
        except (TypeError, ValueError) as exc:
            prepared.append(str(exc))
    return prepared


def _content_texts(prepared: Sequence[PreparedArticle | str]) -> list[str]:
    """The content sentences of a chunk's scorable articles, in order: what one batch embeds."""
    return [t for p in prepared if isinstance(p, PreparedArticle) for t in p.content_texts]


def _finish_chunk(
    detector: Detector, prepared: Prepared, ids: list[Any], embedding: Future[np.ndarray], encoding: Executor
) -> Iterator[ArticleResult]:
    """Weigh and conclude a prepared chunk once its sentences are embedded. When the chunk's
    batch fails, each article is embedded alone (on the same thread, in turn), so that only
    the article at fault fails."""
    try:
        vectors: np.ndarray | None = embedding.result()
    except Exception:  # noqa: BLE001 - find the article at fault below; the others are scored
        vectors = None
    weighed: list[Weighing | ArticleResult] = []  # every article weighed before any is concluded: readings overlap
    offset = 0
    for p in prepared:
        if isinstance(p, str):
            weighed.append(ArticleResult.failed(p))
            continue
        n = len(p.content)
        try:
            own = vectors[offset : offset + n] if vectors is not None else encoding.submit(detector._encode, p.content_texts).result()
            weighed.append(weigh(detector, p, own))
        except Exception as exc:  # noqa: BLE001 - reported in the result: score_many never raises for one article
            weighed.append(ArticleResult.unscorable(exc))
        offset += n
    for item, record_id in zip(weighed, ids):
        result = item
        if isinstance(item, Weighing):
            try:
                result = conclude(detector, item)[0]
            except Exception as exc:  # noqa: BLE001 - as above
                result = ArticleResult.unscorable(exc)
        result.id = record_id
        yield result

"""File-to-file batch scoring: stream records in, score them in shared batches, write them out.

`score_file` reads JSONL (.gz), Parquet, CSV or folders of .txt files in constant memory,
scores chunks of articles in this process or in worker processes, writes every input record
exactly once (in input order) and can resume a run that was killed at any point.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from coherence import __version__
from coherence.encoders.cpus import available_cpus
from coherence.encoders.base import model_name
from coherence.build import ready_detector
from coherence.detector import Detector
from coherence.io.fields import InputError, RecordFields
from coherence.io.readers import RecordReader
from coherence.io.html import EXTRACTED_FIELD
from coherence.io.schema import OUTPUT_FIELDS
from coherence.io.records import MAX_CHARS, Record, chunked, score_records
from coherence.io.run_files import RunManifest, inputs_fingerprint, lock_path, output_lock, summary_path
from coherence.io.summary import BatchSummary
from coherence.io.writers import check_output_path, open_writer, output_format, parts_dir

__all__ = ["BatchPlan", "InputError", "available_cpus", "finish_report", "plan_run", "score_file", "summary_path"]

PARQUET_CHUNKS_PER_PART = 16  # a Parquet part holds this many scoring chunks


def score_file(
    inputs: str | Path | Sequence[str | Path],
    output: str | Path,
    *,
    text_field: str = "text",
    id_field: str | None = None,
    keep_fields: Sequence[str] = (),
    resume: bool = False,
    workers: int = 1,
    max_chars: int = MAX_CHARS,
    html: bool = False,
    site_field: str | None = None,
    line_counts_mb: int = 64,
    progress: bool | None = None,
    detector: Detector | None = None,
    **detector_options: Any,
) -> dict[str, Any]:
    """Score every record of `inputs` into `output` (.jsonl, .jsonl.gz or .parquet).

    Args:
        inputs: JSONL (.gz), Parquet or CSV files, or folders of .txt files (id = relative path).
        output: the output file; its extension picks the format.
        text_field, id_field, keep_fields: see `coherence.io.readers.RecordReader`.
        resume: continue a run of the same job that stopped (or was killed) part way; without
            it, an existing output is an error.
        workers: processes scoring in parallel (each loads the model once).
        max_chars: longer texts get an `error` instead of a score.
        html: the text field holds HTML pages: each is extracted with trafilatura first
            (the `html` extra) and the extracted text kept as `extracted_text`.
        site_field: field naming each record's site (a URL or a domain). A first pass then
            counts how many pages of each site hold each line (`Detector.count_lines`, a
            sketch of `line_counts_mb` MB), and a line repeated across a site's pages counts
            as evidence of its template. Costs a second read of the input; off by default.
        line_counts_mb: memory for that count.
        progress: show a progress bar; default: only when stderr is a terminal.
        detector: a configured Detector (its settings are used by every worker);
            `detector_options` build one otherwise.

    Returns:
        The run summary (also written beside the output, see `summary_path`).

    Raises:
        InputError: unreadable input, unwritable or already existing output, or a
            resumed run whose settings differ from the first run's.
    """
    started = time.perf_counter()
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise InputError(f"--workers must be a whole number of 1 or more, got {workers!r}")
    workers = min(workers, available_cpus())
    detector = ready_detector(detector or detector_options, prepare=False)  # bad options fail before any reading
    params = detector.get_params()
    if workers > 1 and model_name(params["model"]) is None:
        raise InputError("workers > 1 need the model as a name or path, not a loaded object")
    plan = plan_run(
        inputs, output, params, text_field=text_field, id_field=id_field, keep_fields=keep_fields, max_chars=max_chars,
        html=html, site_field=site_field,
    )  # fmt: skip
    if site_field is not None:
        detector.count_lines(((r.site, r.text) for r in plan.reader if r.text is not None), memory_mb=line_counts_mb)
    detector.prepare()  # a model built on first use is built once, here, not by every worker
    output, reader = plan.output, plan.reader
    with output_lock(output):
        manifest = RunManifest(output, plan.settings)
        writer = open_writer(output, plan.block, manifest.resume_from(resume), on_commit=manifest.commit)
        summary = BatchSummary()
        for record in writer.existing():
            summary.add(record)
        kept = writer.committed

        show = bool(sys.stderr is not None and sys.stderr.isatty()) if progress is None else progress
        bar = _progress_bar(reader.count() if show else None, kept, show)
        records = _skip(iter(reader), kept, output)
        chunks = chunked(records, detector.articles_per_batch)
        scored_here = 0
        try:
            results = (
                _score_in_process(detector, chunks)
                if workers == 1
                else _score_in_workers(params, chunks, workers, getattr(detector, "line_counts_", None))
            )
            for out in results:
                writer.add(out)
                for record in out:
                    summary.add(record)
                scored_here += len(out)
                bar.update(len(out))
            writer.finish()
        finally:
            bar.close()
        return finish_report(manifest, writer.state(), summary, kept, scored_here, started, workers)


@dataclass(frozen=True)
class BatchPlan:
    """One batch run, checked: its output, its reader, its commit block and the settings a
    resumed run must share with it."""

    output: Path
    reader: RecordReader
    block: int
    settings: dict[str, Any]


def plan_run(
    inputs: str | Path | Sequence[str | Path],
    output: str | Path,
    params: dict[str, Any],
    *,
    text_field: str = "text",
    id_field: str | None = None,
    keep_fields: Sequence[str] = (),
    max_chars: int = MAX_CHARS,
    html: bool = False,
    site_field: str | None = None,
) -> BatchPlan:
    """Check a run's inputs, output and carried fields (shared by the local and Ray engines).

    Raises:
        InputError: an unknown output format, a carried field that would overwrite an output
            field, or an input that cannot be read.
    """
    paths = [Path(p) for p in ([inputs] if isinstance(inputs, (str, Path)) else inputs)]
    output = Path(output)
    fmt = output_format(output)
    if isinstance(keep_fields, str):  # a str is a sequence too: "url" would keep fields u, r and l
        raise InputError(f"keep_fields takes a list of field names, got the string {keep_fields!r} (write [{keep_fields!r}])")
    if not isinstance(text_field, str) or not text_field:  # else every record is an error "'' is missing"
        raise InputError(f"--text-field must name a field, got {text_field!r}")
    clash = set(keep_fields) & (set(OUTPUT_FIELDS) | ({EXTRACTED_FIELD} if html else set()))
    if clash:
        raise InputError(f"--keep-fields {', '.join(sorted(clash))} would overwrite output fields")
    if not isinstance(max_chars, int) or isinstance(max_chars, bool) or max_chars < 1:
        raise InputError(f"--max-chars must be a whole number of 1 or more, got {max_chars!r}")
    if html:
        from coherence.io.html import require_extractor

        require_extractor()
    reader = RecordReader(paths, text_field, id_field, tuple(keep_fields), max_chars, html, site_field)
    _check_not_an_input(output, paths)
    check_output_path(output)
    chunk = params["articles_per_batch"]
    block = chunk * PARQUET_CHUNKS_PER_PART if fmt == "parquet" else chunk
    return BatchPlan(output, reader, block, _run_settings(paths, reader.fields, params, block))


def _check_not_an_input(output: Path, inputs: Sequence[Path]) -> None:
    """Refuse an output (or a file beside it that the run writes) that is one of the inputs:
    the run would destroy what it reads, in every mode."""
    for written in (output, summary_path(output), lock_path(output), parts_dir(output)):
        for source in inputs:
            if _same_path(written, source):
                what = "output" if written == output else f"{written.name}, written beside the output,"
                raise InputError(f"the {what} would overwrite the input {source}; choose another output")


def _same_path(a: Path, b: Path) -> bool:
    try:
        if os.path.exists(a) and os.path.exists(b):
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def _setting(value: Any) -> str | int | float | None:
    """A detector parameter as a run's settings keep it: a path as its text, an object by type."""
    if isinstance(value, (str, int, float, type(None))):
        return value
    return model_name(value) or f"<{type(value).__name__}>"


def _run_settings(paths: Sequence[Path], fields: RecordFields, params: dict[str, Any], block: int) -> dict[str, Any]:
    """What a resumed run must share with the run that wrote the output (kept in its summary)."""
    return {
        "inputs": [str(p.resolve()) for p in paths],
        "inputs_fingerprint": inputs_fingerprint(paths),
        "text_field": fields.text_field,
        "id_field": fields.id_field,
        "keep_fields": list(fields.keep_fields),
        "max_chars": fields.max_chars,
        "html": fields.html,
        "site_field": fields.site_field,
        "detector": {k: _setting(v) for k, v in params.items()},
        "block": block,
        "version": __version__,
    }


def finish_report(
    manifest: RunManifest,
    state: dict[str, Any],
    summary: BatchSummary,
    resumed_after: int,
    records: int,
    started: float,
    workers: int = 1,
) -> dict[str, Any]:
    """Write the final summary beside the output; return it with its printable `text`."""
    elapsed = time.perf_counter() - started
    report = {
        "complete": True,
        "output": str(manifest.output),
        **summary.to_dict(),
        "resumed_after": resumed_after,
        "this_run": {
            "records": records,
            "workers": workers,
            "seconds": round(elapsed, 2),
            "articles_per_second": round(records / elapsed, 2) if elapsed else None,
        },
    }
    manifest.finish(report, state)
    report["settings"] = manifest.settings
    report["text"] = f"{summary.format()}\n{_ids_line(manifest.settings)}"
    return report


def _ids_line(settings: dict[str, Any]) -> str:
    """What the output's ids are, in words: an id field's values, text files' paths in their
    folders, or record positions."""
    folders = sum(Path(p).is_dir() for p in settings.get("inputs", ()))
    if id_field := settings.get("id_field"):
        named = " (a folder's text files: their paths)" if folders else ""
        return f"ids: the records' {id_field!r} field (null where a record has none){named}"
    if folders and folders == len(settings.get("inputs", ())):
        return "ids: each text file's path in its folder"
    if folders:
        return "ids: text files' paths in their folder; other records' positions (the records have no id field)"
    return "ids: record positions (the records have no id field)"


def _skip(records: Iterator[Record], count: int, output: Path) -> Iterator[Record]:
    skipped = sum(1 for _ in islice(records, count))
    if skipped < count:
        raise InputError(f"{output} already holds {count} records but the input has only {skipped}")
    return records


def _score_in_process(detector: Detector, chunks: Iterable[list[Record]]) -> Iterator[list[dict[str, Any]]]:
    for chunk in chunks:
        yield score_records(detector, chunk)


def _score_in_workers(
    params: dict[str, Any], chunks: Iterable[list[Record]], workers: int, line_counts: Any = None
) -> Iterator[list[dict[str, Any]]]:
    """Chunks scored by `workers` processes, yielded in input order, few in flight."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    threads = max(1, available_cpus() // workers)
    context = multiprocessing.get_context("spawn")
    initargs = (params, threads, os.getpid(), line_counts)
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker, initargs=initargs) as pool:
        pending: deque[Any] = deque()
        for chunk in chunks:
            pending.append(pool.submit(_score_in_worker, chunk))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


_WORKER_DETECTOR: Detector | None = None
_WORKER_BLAS_LIMIT: Any = None


def _start_worker(params: dict[str, Any], threads: int, parent: int, line_counts: Any = None) -> None:
    global _WORKER_DETECTOR, _WORKER_BLAS_LIMIT
    _end_with_parent(parent)
    _WORKER_DETECTOR = ready_detector(params, threads=threads, prepare=False)  # the parent prepared
    if line_counts is not None:
        _WORKER_DETECTOR.line_counts_ = line_counts
    if params.get("speed") == "fast":
        from threadpoolctl import threadpool_limits

        # The fast tier scores on one core per worker. numpy's BLAS and the tokenizer would
        # each start a thread per core in every worker, and their spinning threads ran 2
        # workers at 1.4x the time. (Every tier weighs evidence on one BLAS thread anyway:
        # `coherence.encoders.cpus.one_blas_thread`.)
        _WORKER_BLAS_LIMIT = threadpool_limits(limits=threads, user_api="blas")
        os.environ.setdefault("RAYON_NUM_THREADS", str(threads))


def _end_with_parent(parent: int) -> None:
    """Make this worker die with the batch process that started it, however that one ends
    (kill -9 included), instead of running on and holding memory and the caller's pipes.

    On Linux the kernel sends SIGKILL when the parent dies (PR_SET_PDEATHSIG); everywhere, a
    daemon thread checks once a second that the parent is still this process's parent."""
    import signal

    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: no traceback per worker

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="coherence-parent-watch", daemon=True).start()


def _score_in_worker(chunk: list[Record]) -> list[dict[str, Any]]:
    assert _WORKER_DETECTOR is not None, "worker not started"
    return score_records(_WORKER_DETECTOR, chunk)


def _progress_bar(total: int | None, initial: int, show: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, unit=" articles", disable=not show, dynamic_ncols=True, smoothing=0.1)


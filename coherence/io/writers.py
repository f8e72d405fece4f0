"""Crash-safe output writers for batch runs: JSONL (.gz) and Parquet, chosen by extension.

Records are committed in whole blocks, each block durable (flushed and fsynced) before the
next one starts. After every block the writer reports its `state` (records, bytes or parts,
and a SHA-256 of everything committed) to an `on_commit` callback, which the batch runner
keeps in the run's summary. A resumed writer is handed that state back and proves the output
is that run's before it touches a byte: the committed prefix must hash to the recorded
digest. Only then is whatever follows it (a block torn by a kill) cut off. An output that
was changed, or that no run of ours wrote, is refused untouched. Blocks line up with the
runner's scoring chunks, so a resumed run embeds the same sentences together and gives the
same scores as an unbroken one.

- JSONL: one line per record; ``.gz`` appends one gzip member per block (a valid multi-member
  gzip file that any gzip reader reads whole).
- Parquet: a file cannot be appended to, so each block is written (atomically) as a part in
  ``OUTPUT.parts/``; ``finish`` merges the parts into ``OUTPUT`` row group by row group.

Every record is made writable first (`coherence.io.records.writable`): a value JSON or Arrow
cannot hold is converted, and a record that cannot be converted becomes an error record.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal, Protocol

from coherence.io.fields import InputError
from coherence.io.records import writable
from coherence.io.safe_values import arrow_safe, json_safe
from coherence.io.arrow_tables import clear_link, merge_parts, records_table

__all__ = [
    "OutputFormat", "OutputWriter", "check_output_path", "leftovers", "open_writer", "output_format", "parts_dir",
]

OutputFormat = Literal["jsonl", "jsonl.gz", "parquet"]
OnCommit = Callable[[dict[str, Any]], None]
_READ = 1 << 20


class OutputWriter(Protocol):
    committed: int
    """Records kept from an earlier run of the same job (0 for a new output)."""

    def existing(self) -> Iterator[dict[str, Any]]:
        """The records kept from an earlier run, in order."""

    def add(self, records: list[dict[str, Any]]) -> None:
        """Queue records; every full block is committed durably at once."""

    def finish(self) -> None:
        """Commit what is queued and close the output."""

    def state(self) -> dict[str, Any]:
        """What is committed so far, with its digest: what a resumed writer is given back."""


def output_format(path: Path) -> OutputFormat:
    name = path.name.lower()
    if name.endswith((".jsonl.gz", ".ndjson.gz")):
        return "jsonl.gz"
    if name.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    raise InputError(f"cannot tell the output format of {path}: use .jsonl, .jsonl.gz or .parquet")


def leftovers(path: Path) -> list[Path]:
    """Files an earlier run of this output left (the output itself, or unmerged parts)."""
    return [p for p in (path, parts_dir(path)) if os.path.lexists(p)]


def open_writer(
    path: Path, block: int, resume_from: dict[str, Any] | None = None, on_commit: OnCommit | None = None
) -> OutputWriter:
    """A writer for `path` committing `block` records at a time.

    Args:
        resume_from: the `state` an earlier writer of this output reported last; the output
            must still be exactly what that writer committed. None: a new output.
        on_commit: called with the writer's `state` once when opened (before it creates a
            file) and after every durable block.

    Raises:
        InputError: the output exists and there is nothing to resume from, it is not a
            regular file, it differs from `resume_from`, or it cannot be written.
    """
    check_output_path(path)
    if resume_from is None and leftovers(path):
        raise InputError(f"{path} already exists; pass --resume to continue that run, or remove it")
    fmt = output_format(path)
    if fmt == "parquet":
        return ParquetPartsWriter(path, block, resume_from, on_commit)
    return JsonlWriter(path, block, fmt == "jsonl.gz", resume_from, on_commit)


def check_output_path(path: Path) -> None:
    """Raise InputError unless `path` can be written as an output: a regular file or nothing,
    in a writable folder (a link to a device such as /dev/full is refused)."""
    if os.path.lexists(path) and not path.is_file():
        raise InputError(f"cannot write {path}: it is not a regular file")
    if not path.parent.is_dir():
        raise InputError(f"cannot write {path}: no folder {path.parent}")
    if not os.access(path.parent, os.W_OK):
        raise InputError(f"cannot write {path}: the folder is not writable")


def _changed(path: Path, why: str) -> InputError:
    return InputError(
        f"cannot resume into {path}: {why}, so it is not the output the earlier run left; it was not touched "
        "(write a new output, or remove it and its .summary.json to start again)"
    )


class _BlockWriter:
    """Queues records and commits them `block` at a time, the rest at `finish`; a subclass
    says how one block is committed durably and how the output is closed."""

    def __init__(self, path: Path, block: int, on_commit: OnCommit | None) -> None:
        self.path, self.block = path, block
        self.committed = 0
        self._on_commit = on_commit
        self._digest = hashlib.sha256()
        self._queue: list[dict[str, Any]] = []

    def add(self, records: list[dict[str, Any]]) -> None:
        self._queue.extend(records)
        while len(self._queue) >= self.block:
            self._commit(self._queue[: self.block])
            del self._queue[: self.block]

    def finish(self) -> None:
        if self._queue:
            self._commit(self._queue)
            self._queue = []
        self._close()

    def state(self) -> dict[str, Any]:
        return {"records": self.committed, "sha256": self._digest.hexdigest()}

    def _committed(self, records: int) -> None:
        self.committed += records
        self._report()

    def _report(self) -> None:
        if self._on_commit is not None:
            self._on_commit(self.state())

    def _commit(self, records: list[dict[str, Any]]) -> None:
        raise NotImplementedError

    def _close(self) -> None:
        raise NotImplementedError


class JsonlWriter(_BlockWriter):
    """JSON lines, one write + fsync per block; gzip output gets one member per block."""

    def __init__(self, path: Path, block: int, compress: bool, resume_from: dict[str, Any] | None, on_commit: OnCommit | None) -> None:
        super().__init__(path, block, on_commit)
        self.compress = compress
        self.size = 0
        if resume_from is not None:
            self._adopt(resume_from)
        self._report()  # before the file exists: a run killed at any instant leaves a resumable output
        self._handle = path.open("ab")

    def state(self) -> dict[str, Any]:
        return {**super().state(), "bytes": self.size}

    def _adopt(self, state: dict[str, Any]) -> None:
        """Check that the output starts with exactly the bytes `state` describes, then cut
        off what follows them (a block written after the last recorded commit)."""
        records, size, digest = int(state["records"]), int(state["bytes"]), str(state["sha256"])
        actual = self.path.stat().st_size if self.path.exists() else 0
        if actual < size:
            raise _changed(self.path, f"it holds {actual:,} bytes where the run committed {size:,}")
        self._digest = _hash_file(self.path, size) if size else self._digest
        if self._digest.hexdigest() != digest:
            raise _changed(self.path, f"its first {records:,} records differ from what the run wrote")
        self.committed, self.size = records, size
        if actual > size:
            with self.path.open("r+b") as handle:
                handle.truncate(size)
                os.fsync(handle.fileno())

    def existing(self) -> Iterator[dict[str, Any]]:
        if not self.committed:
            return
        opener = gzip.open if self.compress else open
        with opener(self.path, "rb") as handle:
            for _, line in zip(range(self.committed), handle):
                yield json.loads(line)

    def _close(self) -> None:
        self._handle.close()

    def _commit(self, records: list[dict[str, Any]]) -> None:
        lines = (json.dumps(writable(r, json_safe), ensure_ascii=False, allow_nan=False) + "\n" for r in records)
        data = "".join(lines).encode("utf-8")
        if self.compress:
            data = gzip.compress(data, mtime=0)
        self._handle.write(data)
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._digest.update(data)
        self.size += len(data)
        self._committed(len(records))


def _hash_file(path: Path, size: int | None = None, digest: Any = None) -> Any:
    """SHA-256 of the first `size` bytes of `path` (all of it for None), continuing `digest`
    when one is given."""
    digest = digest if digest is not None else hashlib.sha256()
    left = size
    with path.open("rb") as handle:
        while left is None or left > 0:
            chunk = handle.read(_READ if left is None else min(_READ, left))
            if not chunk:
                break
            digest.update(chunk)
            if left is not None:
                left -= len(chunk)
    return digest


class ParquetPartsWriter(_BlockWriter):
    """Each block becomes a Parquet part (written to a temporary name, then renamed);
    `finish` merges the parts into the output under one schema and removes them. The
    digest runs over the parts' bytes in order; the merged file's own digest is recorded
    before it replaces the output, so a finished run is provable too."""

    def __init__(self, path: Path, block: int, resume_from: dict[str, Any] | None, on_commit: OnCommit | None) -> None:
        super().__init__(path, block, on_commit)
        self.parts = parts_dir(path)
        self.finished = False
        self.merged: str | None = None
        self._count = 0
        self._recorded: dict[str, Any] | None = None  # the state of a finished run, adopted
        if resume_from is not None:
            self._adopt(resume_from)
        self._report()
        if not self.finished:
            self.parts.mkdir(exist_ok=True)

    def state(self) -> dict[str, Any]:
        if self._recorded is not None:
            return dict(self._recorded)
        return {**super().state(), "parts": self._count, "merged_sha256": self.merged}

    def _adopt(self, state: dict[str, Any]) -> None:
        records, count, digest = int(state["records"]), int(state["parts"]), str(state["sha256"])
        self.merged = state.get("merged_sha256")
        if self.path.exists():  # a finished run (its parts perhaps not yet removed)
            if self.merged is None or _hash_file(self.path).hexdigest() != self.merged:
                raise _changed(self.path, "it is not the file the run merged")
            self.committed, self._count, self.finished = records, count, True
            self._recorded = dict(state)
            shutil.rmtree(self.parts, ignore_errors=True)
            return
        files = self._part_files()
        if len(files) < count:
            raise _changed(self.parts, f"it holds {len(files)} parts where the run committed {count}")
        for part in files[:count]:
            _hash_file(part, digest=self._digest)
        if self._digest.hexdigest() != digest:
            raise _changed(self.parts, f"its first {count} parts differ from what the run wrote")
        for extra in [*files[count:], *self.parts.glob("*.tmp")]:  # written after the last recorded commit
            extra.unlink()
        self.committed, self._count = records, count

    def existing(self) -> Iterator[dict[str, Any]]:
        import pyarrow.parquet as pq

        for part in [self.path] if self.finished else self._part_files():
            for batch in pq.ParquetFile(part).iter_batches(batch_size=4096):
                yield from batch.to_pylist()

    def add(self, records: list[dict[str, Any]]) -> None:
        if self.finished and records:
            raise InputError(f"{self.path} is a finished output; it cannot take more records")
        super().add(records)

    def finish(self) -> None:
        if not self.finished:
            super().finish()

    def _close(self) -> None:
        temporary = merge_parts(self._part_files(), self.path)
        self.merged = _hash_file(temporary).hexdigest()
        self._report()  # recorded before the output appears: a kill in between leaves a provable file
        os.replace(temporary, self.path)
        shutil.rmtree(self.parts)
        self.finished = True

    def _part_files(self) -> list[Path]:
        return sorted(self.parts.glob("part-*.parquet"))

    def _commit(self, records: list[dict[str, Any]]) -> None:
        import pyarrow.parquet as pq

        final = self.parts / f"part-{self._count:06d}.parquet"
        temporary = final.with_suffix(".tmp")
        clear_link(temporary)
        pq.write_table(records_table([writable(r, arrow_safe) for r in records]), temporary)
        with temporary.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, final)
        _fsync_folder(self.parts)
        _hash_file(final, digest=self._digest)
        self._count += 1
        self._committed(len(records))


def parts_dir(path: Path) -> Path:
    """Where the Parquet writer keeps its committed blocks until `finish`."""
    return path.with_name(path.name + ".parts")


def _fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)

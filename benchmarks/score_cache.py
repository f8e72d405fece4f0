"""Resumable per-page results for the slow methods of a benchmark.

Scoring every scraped page with the detector takes hours on two cores, longer than a working
session; a run that stops loses nothing already scored. Each page's result is kept under a
key made of the page's id and a digest of its lines, in a folder named by a fingerprint of
everything that decides the result: the `coherence` package's code and model files, the
backend and the method. Change any of them and the old results are simply not found.

    cache = ScoreCache.open(root, method="coherence", backend="onnx")
    todo = [p for p in pages if cache.get(p.key, p.lines) is None]
    ...
    cache.put(page.key, page.lines, value)   # written to disk every `flush_every` pages
    cache.flush()
"""

from __future__ import annotations

import hashlib
import pickle
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["ScoreCache", "package_fingerprint"]

PACKAGE = Path(__file__).resolve().parents[1] / "coherence"
_SKIPPED_PARTS = {"__pycache__"}


def package_fingerprint(package: Path = PACKAGE) -> str:
    """sha256 over the path and bytes of every file of the package (code and shipped
    models), so a changed line of code or a refitted weight gives a new fingerprint."""
    digest = hashlib.sha256()
    for path in sorted(p for p in package.rglob("*") if p.is_file() and not _SKIPPED_PARTS & set(p.parts)):
        digest.update(str(path.relative_to(package)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def lines_digest(lines: Sequence[str]) -> str:
    """Digest of a page's lines: a page extracted or split differently is a new entry."""
    return hashlib.sha1("\n".join(lines).encode()).hexdigest()[:16]


class ScoreCache:
    """One method's per-page results under one fingerprint, kept in a single pickle file.

    Args:
        path: the file; read at once when it exists.
        flush_every: write the file after this many new results (and at `flush`).
    """

    def __init__(self, path: Path, flush_every: int = 25) -> None:
        self.path = path
        self.flush_every = flush_every
        self.entries_: dict[tuple[str, str], Any] = {}
        self.unsaved_ = 0
        if path.exists():
            with path.open("rb") as handle:
                self.entries_ = pickle.load(handle)

    @classmethod
    def open(cls, root: Path, method: str, backend: str, flush_every: int = 25) -> ScoreCache:
        """The cache of `method` for the package as it is now."""
        fingerprint = package_fingerprint()
        return cls(root / f"{fingerprint}-{backend}" / f"{method}.pkl", flush_every)

    def get(self, key: str, lines: Sequence[str]) -> Any | None:
        """The stored result of this page with these lines, or None."""
        return self.entries_.get((key, lines_digest(lines)))

    def put(self, key: str, lines: Sequence[str], value: Any) -> None:
        """Store a page's result; written to disk every `flush_every` results."""
        self.entries_[(key, lines_digest(lines))] = value
        self.unsaved_ += 1
        if self.unsaved_ >= self.flush_every:
            self.flush()

    def flush(self) -> None:
        """Write every result to disk (through a temporary file, so a kill leaves the old one)."""
        if not self.unsaved_:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(f".{time.time_ns()}.tmp")
        with temporary.open("wb") as handle:
            pickle.dump(self.entries_, handle, protocol=pickle.HIGHEST_PROTOCOL)
        temporary.replace(self.path)
        self.unsaved_ = 0

    def __len__(self) -> int:
        return len(self.entries_)

"""How many pages of a site hold a line, counted over a whole batch in bounded memory.

A line seen on many pages of one site is its template (a footer, a newsletter box, a menu),
whatever it says. Counting every (site, line) pair exactly needs memory that grows with the
corpus; a count-min sketch with conservative update keeps a fixed table (`memory_mb`) whose
counts can only be too high, by little when the table is large against the distinct pairs.
Pages per site are counted exactly (one integer per site).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

import numpy as np

from coherence.evidence.lines import normalise_line

__all__ = ["LineCounts", "site_of"]

_DEPTH = 4


def site_of(value: object) -> str | None:
    """The site a record belongs to: the host of a URL ("www." dropped), or the value itself
    (a domain or any site name); None when missing."""
    if value is None:
        return None
    text = str(value).strip().lower()
    if not text:
        return None
    host = urlsplit(text if "//" in text else f"//{text}").hostname or text
    return host[4:] if host.startswith("www.") else host


class LineCounts:
    """Pages per (site, normalised line), estimated by a count-min sketch.

    Args:
        memory_mb: size of the table; the estimate's excess grows with distinct pairs / table
            size (64 MB holds tens of millions of distinct lines with a typical excess of 0).
    """

    def __init__(self, memory_mb: int = 64) -> None:
        self.memory_mb = memory_mb
        self.width_ = max(1024, memory_mb * 2**20 // (4 * _DEPTH))
        self.table_ = np.zeros((_DEPTH, self.width_), dtype=np.uint32)
        self.pages_: Counter[str] = Counter()

    def add(self, site: str | None, lines: Iterable[str]) -> None:
        """Count one page: each distinct line once."""
        if site is None:
            return
        self.pages_[site] += 1
        rows = np.arange(_DEPTH)
        for key in {normalise_line(line) for line in lines} - {""}:
            cells = self._cells(site, key)
            low = self.table_[rows, cells].min()
            np.maximum.at(self.table_, (rows, cells), np.uint32(min(int(low) + 1, 2**32 - 1)))

    def seen(self, site: str | None, lines: Sequence[str]) -> tuple[list[int], int] | None:
        """For each line, on how many other pages of the site it was counted, and the site's
        page count; None for a site never counted (a page not in the batch counted)."""
        if site is None or self.pages_[site] == 0:
            return None
        rows = np.arange(_DEPTH)
        out = []
        for line in lines:
            key = normalise_line(line)
            count = int(self.table_[rows, self._cells(site, key)].min()) if key else 0
            out.append(max(count - 1, 0))
        return out, self.pages_[site]

    def _cells(self, site: str, key: str) -> np.ndarray:
        digest = hashlib.blake2b(f"{site}\x00{key}".encode("utf-8", "replace"), digest_size=4 * _DEPTH).digest()
        return np.frombuffer(digest, dtype=np.uint32) % self.width_

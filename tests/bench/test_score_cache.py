"""The benchmark's per-page score cache: a run that stops resumes, a changed package never reuses."""

from __future__ import annotations

import numpy as np

from benchmarks import scraped_lines as sl
from benchmarks.score_cache import ScoreCache, package_fingerprint
from benchmarks.scraped import through_cache


def _page(key: str, lines: list[str]) -> sl.Page:
    return sl.Page(key=key, dataset="d", id=key, site="s", split="test", lines=lines, labels=[0] * len(lines))


def _scorer(calls: list[str]):
    def score(pages):
        for page in pages:
            calls.append(page.key)
            n = len(page.lines)
            yield np.arange(n, dtype=float), np.zeros(n, dtype=bool), np.full(n, "", dtype=object)

    return score


def test_fingerprint_follows_every_file_of_the_package(tmp_path):
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "w.npz").write_bytes(b"\x00\x01")
    first = package_fingerprint(tmp_path)
    assert package_fingerprint(tmp_path) == first
    (tmp_path / "models" / "w.npz").write_bytes(b"\x00\x02")
    assert package_fingerprint(tmp_path) != first
    (tmp_path / "models" / "w.npz").write_bytes(b"\x00\x01")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "a.pyc").write_bytes(b"compiled")
    assert package_fingerprint(tmp_path) == first


def test_only_missing_pages_are_scored_and_order_is_kept(tmp_path):
    pages = [_page("p1", ["a", "b"]), _page("p2", ["c"]), _page("p3", ["d", "e", "f"])]
    calls: list[str] = []
    cache = ScoreCache(tmp_path / "m.pkl", flush_every=1)
    (scores, _, _), cached = through_cache(pages[:2], _scorer(calls), cache)
    assert calls == ["p1", "p2"] and cached == 0
    reopened = ScoreCache(tmp_path / "m.pkl")
    assert len(reopened) == 2
    (scores, flags, _), cached = through_cache(pages[::-1], _scorer(calls), reopened)
    assert calls == ["p1", "p2", "p3"] and cached == 2
    assert [len(s) for s in scores] == [3, 1, 2]


def test_a_page_with_other_lines_is_scored_again(tmp_path):
    calls: list[str] = []
    cache = ScoreCache(tmp_path / "m.pkl")
    through_cache([_page("p1", ["a", "b"])], _scorer(calls), cache)
    through_cache([_page("p1", ["a", "b", "c"])], _scorer(calls), cache)
    assert calls == ["p1", "p1"]


def test_unflushed_results_are_written_by_flush(tmp_path):
    cache = ScoreCache(tmp_path / "sub" / "m.pkl", flush_every=100)
    cache.put("k", ["x"], 1)
    assert not (tmp_path / "sub" / "m.pkl").exists()
    cache.flush()
    assert ScoreCache(tmp_path / "sub" / "m.pkl").get("k", ["x"]) == 1
    assert ScoreCache(tmp_path / "sub" / "m.pkl").get("k", ["y"]) is None

"""numpy's BLAS runs on one thread while an article's evidence is weighed, and gets its own
count back afterwards, however many threads score at once."""

from __future__ import annotations

import threading

import pytest

from coherence.encoders.cpus import one_blas_thread


def _blas_threads() -> int:
    from threadpoolctl import threadpool_info

    counts = [entry["num_threads"] for entry in threadpool_info() if entry["user_api"] == "blas"]
    if not counts:
        pytest.skip("numpy here has no BLAS that threadpoolctl controls")
    return counts[0]


def test_one_blas_thread_inside_and_the_original_count_after() -> None:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=2, user_api="blas"):
        before = _blas_threads()
        with one_blas_thread():
            assert _blas_threads() == 1
            with one_blas_thread():  # nested: still one, and leaving it does not lift the outer
                assert _blas_threads() == 1
            assert _blas_threads() == 1
        assert _blas_threads() == before


def test_threads_that_overlap_share_one_limit_lifted_by_the_last(monkeypatch) -> None:
    from coherence.encoders import cpus

    events: list[str] = []

    class Limit:
        def restore_original_limits(self) -> None:
            events.append("restore")

    class Controller:
        def limit(self, limits: int, user_api: str) -> Limit:
            events.append(f"limit {user_api} {limits}")
            return Limit()

    monkeypatch.setattr(cpus, "_blas_controller", lambda: Controller())
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen: list[list[str]] = []

    def first() -> None:
        with one_blas_thread():
            first_in.set()
            second_in.wait(5)
        first_out.set()

    def second() -> None:
        first_in.wait(5)
        with one_blas_thread():
            second_in.set()
            first_out.wait(5)
            seen.append(list(events))  # the first has left; the limit still holds

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen == [["limit blas 1"]]
    assert events == ["limit blas 1", "restore"]


def test_scores_do_not_change_with_the_blas_threads_outside(detector) -> None:
    from threadpoolctl import threadpool_limits

    article = (
        "The council approved the new flood barrier on Monday. Engineers will start work in May. "
        "The barrier will protect two thousand homes. Residents welcomed the decision. "
        "Shares in the chip maker fell sharply in Tokyo trading."
    )
    with threadpool_limits(limits=1, user_api="blas"):
        one = detector.score(article)
    with threadpool_limits(limits=2, user_api="blas"):
        two = detector.score(article)
    assert [s.score for s in one.sentences] == [s.score for s in two.sentences]

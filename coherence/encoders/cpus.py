"""How many CPUs this process may use: one answer for batch workers and encoder threads."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

__all__ = ["available_cpus", "one_blas_thread", "usable_cores"]

_BLAS_LOCK = threading.Lock()
_blas_users = 0
_blas_limit: Any = None


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one, as taskset and
    container CPU sets set it): more worker processes or threads than that only add memory
    and contention."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def usable_cores() -> int:
    """OMP_NUM_THREADS when set (Ray sets it to an actor's CPUs), else the cores this process may use."""
    try:
        return max(1, int(os.environ["OMP_NUM_THREADS"]))
    except (KeyError, ValueError):
        return available_cpus()


@lru_cache(maxsize=1)
def _blas_controller() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """numpy's BLAS on one thread while the block runs, as the original count after it.

    An article's evidence is made of small matrices (its sentences), and the encoder's passes
    already keep the cores busy: BLAS threads only spun beside them. On 250 BBC articles on 2
    cores, limiting them took `score_many` from 7.7 s to 6.55 s (CPU 14.3 s to 10.8 s) on an
    idle machine, and from 20-25 s to 12-13 s with another job on the cores. One thread also
    makes the last bits of a score independent of the machine's cores. Threads that score at
    once share one limit, lifted when the last of them leaves (OpenBLAS may not take a limit
    set outside the main thread once the main thread has set one: such threads lose the
    speed, never a score).
    """
    global _blas_users, _blas_limit
    with _BLAS_LOCK:
        if _blas_users == 0:
            _blas_limit = _blas_controller().limit(limits=1, user_api="blas")
        _blas_users += 1
    try:
        yield
    finally:
        with _BLAS_LOCK:
            _blas_users -= 1
            if _blas_users == 0:
                _blas_limit.restore_original_limits()
                _blas_limit = None

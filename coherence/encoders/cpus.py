"""How many CPUs this process may use: one answer for batch workers and encoder threads."""

from __future__ import annotations

import os

__all__ = ["available_cpus", "usable_cores"]


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

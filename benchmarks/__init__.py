"""Benchmark scripts (run as `python -m benchmarks.NAME` from the repository root) and the helpers they share."""

"""Feasibility probes (not shipped), run as `python -m training.probes.NAME` from the repository root."""

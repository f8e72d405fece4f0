"""Training scripts that fit the shipped model files (run as `python -m training.NAME` from the repository root)."""

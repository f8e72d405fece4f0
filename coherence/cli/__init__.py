"""The `coherence` command line, kept apart from the library it drives."""

from coherence.cli.main import main

__all__ = ["main"]

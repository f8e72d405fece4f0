"""`python -m coherence.cli`."""

from coherence.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())

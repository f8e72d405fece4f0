"""Score the project's canonical scraped article and check what issue 2 asks of it.

    python -m benchmarks.seed_check --article ../shared/data/seed/000_afeacf127a359cec.txt

Prints the sentence table and writes reports/seed.md with the checks: the stray
Philippines/Malaysia sentence flagged off_topic, the 2nd and 3rd headline copies duplicate,
"Related news" flagged, the lone "." flagged, at most 2 other off_topic flags.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from benchmarks.metrics import add_reader_option
from coherence import Detector
from coherence.cli.console import format_table

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ARTICLE = ROOT / ".." / "shared" / "data" / "seed" / "000_afeacf127a359cec.txt"


def checks(result) -> list[tuple[str, bool]]:
    sentences = result.sentences
    stray = [s for s in sentences if "Philippines" in s.text]
    headline = [s for s in sentences if s.text == sentences[0].text]
    related = [s for s in sentences if s.text.strip() == "Related news"]
    dot = [s for s in sentences if s.text.strip() == "."]
    other_off = [s for s in sentences if s.reason == "off_topic" and "Philippines" not in s.text]
    return [
        ("Philippines/Malaysia sentence flagged off_topic", bool(stray) and all(s.reason == "off_topic" for s in stray)),
        ("headline copies 2 and 3 flagged duplicate, first kept", len(headline) == 3 and not headline[0].flagged and all(s.reason == "duplicate" for s in headline[1:])),
        ('"Related news" flagged', bool(related) and all(s.flagged for s in related)),
        ('lone "." flagged (or absorbed)', all(s.flagged for s in dot)),
        (f"at most 2 other off_topic flags (found {len(other_off)})", len(other_off) <= 2),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--article", type=Path, default=DEFAULT_ARTICLE)
    parser.add_argument("--flag-rate", type=float, default=None, help="operating point (default: the detector's)")
    add_reader_option(parser)
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "seed.md")
    args = parser.parse_args(argv)
    if not args.article.exists():
        parser.error(f"article not found: {args.article}")
    detector = Detector(reader=args.reader) if args.flag_rate is None else Detector(flag_rate=args.flag_rate, reader=args.reader)
    result = detector.score(args.article.read_text(encoding="utf-8"))
    table = format_table(result, width=140, low_confidence=detector.min_confidence)
    lines = [f"- [{'x' if ok else ' '}] {name}" for name, ok in checks(result)]
    ranked = sorted((s for s in result.sentences if not s.flagged or s.reason == "off_topic"), key=lambda s: s.score)
    rank = next((k for k, s in enumerate(ranked, 1) if "Philippines" in s.text), None)
    report = (
        f"# The canonical scraped article\n\n`{args.article.name}`, scored {dt.date.today().isoformat()} "
        f"with the default detector (`coherence score{'' if args.reader == 'auto' else f' --reader {args.reader}'}`).\n\n"
        + "\n".join(lines)
        + f"\n\nThe Philippines sentence ranks {rank} of {len(ranked)} content sentences by score "
        "(1 = least fitting).\n\n```\n"
        + table
        + "\n```\n"
    )
    args.out.parent.mkdir(exist_ok=True)
    args.out.write_text(report)
    print(report)


if __name__ == "__main__":
    main()

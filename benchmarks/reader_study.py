"""Reader study: how far is the detector from what a careful reader finds?

    python -m benchmarks.reader_study make --out /tmp/reader          # the packet to read
    python -m benchmarks.reader_study score reports/reader_study/*.json

`make` writes numbered articles of the corpus's test half (same-category plants and clean
articles, shuffled, nothing marking which is which) for a reader to mark the sentences they
believe were inserted, with a confidence ("high" or "medium"). `score` rebuilds the same
articles from the seed, scores the reader's answers and, on the same articles, the default
detector at two operating points, and writes reports/reader_study.md. The packet is built
from the corpus each time and is not kept in the repository; only the answers are.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
from dataclasses import dataclass
from pathlib import Path

from benchmarks.intrusions import DEFAULT_CORPUS, Case, build_cases, is_planted, load_corpus, split_half
from benchmarks.metrics import machine
from coherence import Detector

ROOT = Path(__file__).resolve().parents[1]
PARTS = 2  # the packet is split in parts so that each reader gets a manageable file


@dataclass(frozen=True)
class Item:
    """One article of the packet: its content sentences as numbered for the reader."""

    case: Case
    texts: list[str]
    spans: list[tuple[int | None, int | None]]  # per numbered sentence, in case.text
    planted: list[bool]  # per numbered sentence


def build_items(corpus: Path, seed: int, per_condition: int, min_sentences: int, max_sentences: int) -> list[Item]:
    """Same-category plants and clean test-half articles of a readable length, shuffled."""
    sources = split_half(load_corpus(corpus), "test")
    detector = Detector()
    rng = random.Random(seed)
    items: list[Item] = []
    for condition, n_planted in (("same", (1, 3)), ("clean", (1, 1))):
        cases = build_cases(sources, condition, seed=seed, n_planted=n_planted)
        rng.shuffle(cases)
        taken = 0
        for case in cases:
            prepared = detector._prepare(case.text)
            if not min_sentences <= len(prepared.content) <= max_sentences:
                continue
            spans = [(prepared.sentences[i].start, prepared.sentences[i].end) for i in prepared.content]
            planted = [bool(is_planted(start, end, case.planted)) for start, end in spans]
            items.append(Item(case, prepared.content_texts, spans, planted))
            taken += 1
            if taken == per_condition:
                break
    rng.shuffle(items)
    return items


def write_packet(items: list[Item], out: Path) -> list[Path]:
    """Numbered articles, split in PARTS files."""
    out.mkdir(parents=True, exist_ok=True)
    blocks = [
        f"=== ARTICLE {n}\n" + "".join(f"[{k}] {t}\n" for k, t in enumerate(item.texts, 1)) + "\n"
        for n, item in enumerate(items, 1)
    ]
    size = -(-len(blocks) // PARTS)
    paths = []
    for p in range(PARTS):
        path = out / f"part_{chr(ord('a') + p)}.txt"
        path.write_text("".join(blocks[p * size : (p + 1) * size]))
        paths.append(path)
    return paths


@dataclass
class Tally:
    """Sentence recall and precision on planted articles, flag rate on clean ones."""

    found: int = 0
    planted: int = 0
    wrong: int = 0
    clean_flagged: int = 0
    clean: int = 0

    def add(self, item: Item, flagged: set[int]) -> None:
        self.planted += sum(item.planted)
        self.found += sum(item.planted[i] for i in flagged)
        self.wrong += sum(not item.planted[i] for i in flagged)
        if item.case.condition == "clean":
            self.clean += 1
            self.clean_flagged += bool(flagged)

    def row(self, name: str) -> str:
        precision = self.found / max(self.found + self.wrong, 1)
        return (
            f"| {name} | {self.found}/{self.planted} = {self.found / max(self.planted, 1):.1%} | {precision:.1%} "
            f"| {self.clean_flagged}/{self.clean} = {self.clean_flagged / max(self.clean, 1):.1%} |"
        )


def reader_flags(answers: dict[str, list[dict]], article: int, confidences: tuple[str, ...], n: int) -> set[int]:
    """0-based sentence indices the reader flagged in one article; a missing article is an error."""
    if str(article) not in answers:
        raise SystemExit(f"answers have no entry for article {article}")
    flagged = {int(a["sentence"]) - 1 for a in answers[str(article)] if a.get("confidence") in confidences}
    if any(not 0 <= i < n for i in flagged):
        raise SystemExit(f"article {article}: a flagged sentence number is out of range")
    return flagged


def detector_flags(detector: Detector, item: Item) -> set[int]:
    """Indices of the numbered sentences the detector flags off_topic (matched by span)."""
    result = detector.score(item.case.text)
    hits = {(s.start, s.end) for s in result.sentences if s.flagged and s.reason == "off_topic"}
    return {k for k, span in enumerate(item.spans) if span in hits}


READINGS = {  # the detector's `reader` options, as the table names them
    "never": "reader model never (the evidence alone)",
    "auto": "reader model on what is in doubt (the default)",
    "always": "reader model on every article",
}


def score(items: list[Item], answer_files: list[Path], rates: tuple[float, ...]) -> list[str]:
    """Table rows for the reader(s) and for the detector on the same articles."""
    answers: dict[str, list[dict]] = {}
    for path in answer_files:
        answers.update(json.loads(path.read_text()))
    rows = []
    for name, confidences in (("reader, high confidence", ("high",)), ("reader, high or medium", ("high", "medium"))):
        tally = Tally()
        for n, item in enumerate(items, 1):
            tally.add(item, reader_flags(answers, n, confidences, len(item.texts)))
        rows.append(tally.row(name))
    for reader in READINGS:
        for rate in rates:
            detector = Detector(flag_rate=rate, reader=reader)
            tally = Tally()
            for item in items:
                tally.add(item, detector_flags(detector, item))
            rows.append(tally.row(f"detector, {READINGS[reader]}, flag_rate={rate}"))
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["make", "score"])
    parser.add_argument("answers", nargs="*", type=Path, help="reader answer files (score)")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--seed", type=int, default=555)
    parser.add_argument("--per-condition", type=int, default=45)
    parser.add_argument("--min-sentences", type=int, default=8)
    parser.add_argument("--max-sentences", type=int, default=30)
    parser.add_argument("--out", type=Path, help="packet folder (make) or report file (score)")
    args = parser.parse_args(argv)
    if not args.corpus.exists():
        parser.error(f"corpus not found: {args.corpus}")
    items = build_items(args.corpus, args.seed, args.per_condition, args.min_sentences, args.max_sentences)
    if args.command == "make":
        for path in write_packet(items, args.out or Path("reader_packet")):
            print(path)
        return
    if not args.answers:
        parser.error("score needs the reader's answer files")
    rows = score(items, args.answers, (0.05, 0.10))
    n_same = sum(i.case.condition == "same" for i in items)
    report = f"""# Reader study: the detector next to a careful reader

Date {dt.date.today().isoformat()}; machine: {machine()}.
Corpus `{args.corpus.name}`, test half, seed {args.seed}: {n_same} articles with 1 to 3 planted sentences from one other
article of the same category and {len(items) - n_same} clean articles, {args.min_sentences} to {args.max_sentences} content
sentences each, shuffled, numbered and split in {PARTS} parts (`python -m benchmarks.reader_study make`).
Answers: {", ".join(f"`{p.name}`" for p in args.answers)}.

| who | planted sentences found | precision | clean articles with a flag |
|---|---|---|---|
""" + "\n".join(rows) + "\n"
    out = args.out or ROOT / "reports" / "reader_study.md"
    out.write_text(report + NOTES)
    print(report)


NOTES = """
## How the answers were made

Each part was read by a separate language-model agent (a helper session of the project's own tooling) told to judge by
reading alone, as an attentive news editor: no code, no other files, no look-ups. It was told that some articles are
untouched and that others carry 1 to 3 sentences from one other article of the same category, and that a false flag on
an untouched article is costly. It never saw the key. Such a reader may have met these 2004-5 BBC articles before, so
its numbers are an upper bound on what reading alone gives, not a human baseline.

## What it says

The same-category case is not at the limit of the task: a reader who follows names, referents and the thread of the
story finds almost every planted line without a false flag on clean articles. The detector's evidence (one mean-pooled
MiniLM vector per sentence, word and name continuity, the article-context model) and its reader model (MiniLM with
low-rank adapters, trained to tag planted sentences while reading 256-token windows of the article) find far fewer at
the same budget (rows above; 45 articles of each kind, so one clean article is 2.2 points). The gap is the models',
not the data's.
"""


if __name__ == "__main__":
    main()

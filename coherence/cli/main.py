"""Command line: `coherence score PATH|-` (a table, or --json), `coherence batch INPUT... -o OUT`,
`coherence report INPUT -o OUT.html` and `coherence prepare` (build cached models ahead of time)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import Any, get_args

from coherence.cli.commands import batch_command, prepare_command, report_command, score_command
from coherence.cli.console import silence_stdout
from coherence.encoders.base import Backend, PageReaderUse, ReaderUse
from coherence.io.fields import InputError  # input the user must fix: one line, exit code 2
from coherence.io.records import MAX_CHARS
from coherence.models.intrusion import DEFAULT_FLAG_RATE

__all__ = ["main"]


def _share(value: str) -> float:
    """argparse type: a share of articles within the shipped operating points."""
    from coherence.models.intrusion import IntrusionModel

    try:
        share = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    try:
        IntrusionModel.default().score_cut(share)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return share


def _ranged(convert: Callable[[str], Any], low: float, high: float | None, words: str) -> Callable[[str], Any]:
    """An argparse type: `convert`ed values within [low, high] (NaN is never within)."""

    def parse(value: str) -> Any:
        try:
            number = convert(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not {words}: {value!r}") from None
        if not (low <= number and (high is None or number <= high)):
            span = f"within [{low:g}, {high:g}]" if high is not None else f"{low:g} or more"
            raise argparse.ArgumentTypeError(f"must be {span}, got {value}")
        return number

    return parse


_unit = _ranged(float, 0.0, 1.0, "a number")
_positive = _ranged(int, 1, None, "a whole number")


def _companion(value: str) -> float | None:
    """argparse type: a score in [0, 1], or "none" for no companion flags."""
    if value.strip().lower() == "none":
        return None
    try:
        cut = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number or 'none': {value!r}") from None
    if not 0.0 <= cut <= 1.0:
        raise argparse.ArgumentTypeError(f"must be within [0, 1] or 'none', got {value}")
    return cut


_BACKENDS = get_args(Backend)
_BACKEND_HELP = (
    "onnx: int8 copy of the model, built locally once and cached (see `coherence prepare`), fast and "
    "quick to start; torch: fp32 sentence-transformers, the exact reference"
)


def _backend_option(command: argparse.ArgumentParser) -> None:
    command.add_argument("--backend", choices=_BACKENDS, help=_BACKEND_HELP + " (default onnx; not with --speed fast)")


def _speed_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--speed",
        choices=("default", "fast"),
        default="default",
        help="fast: first-pass triage on static token vectors distilled from the bundled model, tens of times "
        "faster and less accurate (see `coherence prepare --speed fast`); default: the full detector",
    )


def _common_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--threshold", type=_unit, default=0.8, help="coherence needed to pass, within [0, 1] (default 0.8)")
    command.add_argument(
        "--flag-rate",
        type=_share,
        default=DEFAULT_FLAG_RATE,
        help=f"operating point for off_topic flags: the share of clean news articles that get one (default {DEFAULT_FLAG_RATE})",
    )
    _companion_option(command)
    _backend_option(command)
    _speed_option(command)
    command.add_argument("--model", default="all-MiniLM-L6-v2", help="the bundled model's name or a local sentence-transformers model folder (a hub name: --backend torch)")
    _reader_option(command)


def _reader_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--reader",
        nargs="?",
        choices=get_args(ReaderUse),
        const="always",
        default="auto",
        help="which articles the reader model reads as one text (the bundled model with shipped adapters, built once, "
        "see `coherence prepare`): auto (default) those in doubt, where it finds stray lines on the same subject; "
        "always (`--reader` alone) every article, a pass of its own; never",
    )
    command.add_argument(
        "--page-reader",
        choices=get_args(PageReaderUse),
        default="auto",
        help="which texts the page reader reads line by line to find extraction leftovers: auto (default): only those on "
        "which the line model sees page furniture, at the default speed; always; never: the line model alone",
    )


def _companion_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--companion-threshold",
        type=_companion,
        default=0.5,
        help="in an article with an off_topic flag, also flag sentences scored below this; 'none': off (default 0.5)",
    )


def _article_options(command: argparse.ArgumentParser) -> None:
    """How one article is read (`coherence score`, and `coherence report` of one article)."""
    command.add_argument(
        "--html", action=argparse.BooleanOptionalAction, default=None,
        help="the input is an HTML page: extract its article text with trafilatura first "
        "(default: when the name ends in .html/.htm or the text starts like a page)",
    )
    command.add_argument(
        "--max-chars", type=_positive, default=MAX_CHARS,
        help=f"a longer text (an HTML page's extracted text) is refused as not one article (default {MAX_CHARS:,})",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="coherence", description="Find the sentences that do not belong in a news article."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    score = sub.add_parser("score", help="score one article (a text file, or - for stdin)")
    score.add_argument("path", help="article text file or HTML page, or - to read stdin")
    _article_options(score)
    score.add_argument("--json", action="store_true", help="print the JSON record instead of a table")
    score.add_argument("--sentences", action="store_true", help="with --json: include every sentence")
    _common_options(score)
    score.set_defaults(run=score_command)

    batch = sub.add_parser(
        "batch",
        help="score a corpus: JSONL (.gz), Parquet, CSV or folders of .txt files into JSONL (.gz) or Parquet",
    )
    batch.add_argument("inputs", nargs="+", metavar="INPUT", help="input files or folders, read in order")
    batch.add_argument("-o", "--output", required=True, help="output file: .jsonl, .jsonl.gz or .parquet")
    batch.add_argument("--text-field", default="text", help="field or column with the article text (default: text)")
    batch.add_argument(
        "--html-field", metavar="FIELD",
        help="field with HTML pages instead of text: each page's article text is extracted (trafilatura) and "
        "scored, and kept in the output as extracted_text (pip install \"coherence[html]\")",
    )
    batch.add_argument(
        "--site-field", metavar="FIELD",
        help="field with each record's URL or domain: a first pass counts the lines repeated across a site's "
        "pages (template: footers, menus), in 64 MB; costs a second read of the input; local engine only (default: off)",
    )
    batch.add_argument(
        "--id-field", help="field or column with the record id (default: 'id' when the records have it, else the position)"
    )
    batch.add_argument("--keep-fields", default="", help="comma-separated fields to carry into the output")
    batch.add_argument("--workers", type=_positive, default=1, help="processes scoring in parallel, at most one per CPU (default 1)")
    batch.add_argument("--resume", action="store_true", help="continue a run that stopped; skips records already written")
    batch.add_argument("--max-chars", type=_positive, default=MAX_CHARS, help=f"longer texts get an error record (default {MAX_CHARS:,})")
    batch.add_argument("--engine", choices=("local", "ray"), default="local", help="local processes, or Ray Data (pip install coherence[ray])")
    batch.add_argument("--address", help="with --engine ray: the Ray cluster to join (default: start a local one)")
    _common_options(batch)
    batch.set_defaults(run=batch_command)

    report = sub.add_parser(
        "report",
        help="HTML report of one article (a text file, or -) or of `coherence batch` output (.jsonl, .jsonl.gz, .parquet)",
    )
    report.add_argument("input", metavar="INPUT", help="an article text file (- for stdin), or batch output")
    report.add_argument("-o", "--output", help="the self-contained .html page to write")
    report.add_argument("--png", help="also write the figure alone as PNG")
    report.add_argument("--svg", help="also write the figure alone as SVG")
    report.add_argument("--input", dest="corpus", action="append", metavar="CORPUS",
                        help="with batch output: the batch run's input (repeat for several), to map flagged sentences")
    report.add_argument("--text-field", help="with --input: the text field (default: the batch run's, else text)")
    report.add_argument("--id-field", help="with --input: the id field (default: the batch run's, else positions)")
    report.add_argument("--title", help="the page heading for one article (default: the file name)")
    _article_options(report)
    report.add_argument("--worst", type=int, default=20, help="least coherent articles listed (default 20)")
    report.add_argument("--sample", type=int, default=100, help="flagged sentences per reason on the map (default 100)")
    report.add_argument("--projection", choices=("auto", "umap", "pca"), default="auto",
                        help="sentence maps: UMAP, PCA, or auto (PCA when too few points for UMAP)")
    report.add_argument("--seed", type=int, default=0, help="fixes map layouts and samples (default 0)")
    report.add_argument("--threshold", type=_unit, help="coherence needed to pass (default: the batch run's, else 0.8)")
    report.add_argument(
        "--flag-rate", type=_share, default=DEFAULT_FLAG_RATE,
        help=f"one article: operating point for off_topic flags (default {DEFAULT_FLAG_RATE})",
    )
    _companion_option(report)
    report.add_argument("--backend", choices=_BACKENDS, help=_BACKEND_HELP + " (default: the batch run's, else onnx)")
    report.add_argument(
        "--speed",
        choices=("default", "fast"),
        default="default",
        help="one article: the tier to score it with (a batch run's results keep the tier they were scored with)",
    )
    report.add_argument("--model", help="sentence-transformers model name or path (default: the batch run's, else the bundled one)")
    _reader_option(report)
    report.set_defaults(run=report_command)

    prepare = sub.add_parser(
        "prepare", help="build the int8 ONNX model (the default backend) or the fast tier's table (--speed fast) now, not on first use"
    )
    prepare.add_argument("--model", default="all-MiniLM-L6-v2", help="the bundled model's name or a local model directory")
    prepare.add_argument(
        "--speed", choices=("default", "fast"), default="default", help="fast: the fast tier's token table (default: the int8 model)"
    )
    prepare.add_argument("--rebuild", action="store_true", help="build again even if an intact copy is cached")
    prepare.set_defaults(run=prepare_command)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if sys.stderr is None:  # started with stderr closed (`2>&-`): notes and errors go nowhere, never to stdout
        sys.stderr = open(os.devnull, "w", encoding="utf-8")
    for stream in (sys.stdout, sys.stderr):  # a name with undecodable bytes must not stop a print
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    try:
        return args.run(args)
    except (InputError, RuntimeError, ValueError, TypeError, ImportError) as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader went away while something other than `emit` wrote
        silence_stdout()
        return _fail("standard output was closed before everything was written (broken pipe)")
    except MemoryError:
        return _fail("out of memory (lower --workers, or --max-chars for huge records)")
    except Exception as exc:  # noqa: BLE001 - a bug: one line, the traceback on request
        if os.environ.get("COHERENCE_TRACEBACK"):
            raise
        return _fail(f"internal error: {type(exc).__name__}: {exc} (set COHERENCE_TRACEBACK=1 to see where)")


def _fail(message: str) -> int:
    """Report what stopped the command in one line on stderr; the exit code for it (2)."""
    try:
        print(f"coherence: error: {' '.join(message.split())}", file=sys.stderr)
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        pass
    return 2


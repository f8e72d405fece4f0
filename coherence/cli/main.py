"""Command line: `coherence score PATH|-` (a table, or --json), `coherence batch INPUT... -o OUT`,
`coherence report INPUT -o OUT.html` and `coherence prepare` (build cached models ahead of time)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import textwrap
from pathlib import Path
from collections.abc import Callable
from typing import Any

from coherence.io.readers import InputError  # input the user must fix: one line, exit code 2
from coherence.io.records import MAX_CHARS, RecordError
from coherence.results import ArticleResult
from coherence.io.safe_values import json_safe

__all__ = ["main"]


ARTICLE_BYTES = 20 << 20
"""Largest file `score` and `report` read as one article (a long HTML page is a few MB): a
device such as /dev/zero, or a whole corpus by mistake, is refused instead of filling memory."""


def read_article(path: str) -> str:
    """Text of a file (or of stdin for '-'), refusing binary, empty and outsized input."""
    try:
        if path == "-":
            data = _read_stdin()
        else:
            with Path(path).open("rb") as handle:
                data = handle.read(ARTICLE_BYTES + 1)
    except FileNotFoundError:
        raise InputError(f"no such file: {path}") from None
    except IsADirectoryError:
        raise InputError(f"{path} is a folder; give one article file") from None
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    if b"\x00" in data[:65536]:
        raise InputError(f"{path} looks like a binary file, not text")
    if len(data) > ARTICLE_BYTES:
        raise InputError(f"{path} is larger than {ARTICLE_BYTES >> 20} MB, not one article (score a corpus with `coherence batch`)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("utf-8", errors="replace")
        if text.count("\ufffd") > max(10, len(text) // 100):
            raise InputError(f"{path} is not UTF-8 text") from None
    if not text.strip():
        raise InputError(f"{path} has no text")
    return text


def _read_stdin() -> bytes:
    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:  # started with stdin closed (`<&-`)
        raise InputError("no standard input to read (it is closed); give a file, or pipe the article in")
    try:
        return stream.read(ARTICLE_BYTES + 1)
    except ValueError:  # a closed file object
        raise InputError("no standard input to read (it is closed); give a file, or pipe the article in") from None


def emit(text: str) -> None:
    """Print `text` to stdout and flush it, so that a full disk or a closed pipe is found
    here and reported in one line, never as a traceback at exit."""
    if sys.stdout is None:  # started with stdout closed (`>&-`)
        raise InputError("cannot write to standard output: it is closed")
    try:
        print(text)
        sys.stdout.flush()
    except OSError as exc:
        _silence_stdout()
        if isinstance(exc, BrokenPipeError):
            raise InputError("standard output was closed before everything was written (broken pipe)") from None
        raise InputError(f"cannot write to standard output: {exc.strerror or exc}") from None


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush at exit has nowhere to fail."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def format_table(result: ArticleResult, *, low_confidence: float, width: int | None = None) -> str:
    """A readable table: every sentence with its score, flagged ones marked and explained."""
    width = width or max(60, min(shutil.get_terminal_size((100, 20)).columns, 140))
    verdict = "PASS" if result.passed else "FAIL"
    counts = ", ".join(f"{k} {v}" for k, v in result.counts.items() if v) or "none"
    lines = [
        f"coherence {result.coherence:.3f}  {verdict} (threshold {result.threshold:.2f})  "
        f"{len(result.sentences)} sentences, flagged: {counts}",
        "",
        f"{'#':>3}  {'score':>5}  {'flag':<12} sentence",
    ]
    text_width = max(20, width - 26)
    vague = False
    for n, s in enumerate(result.sentences, 1):
        mark = ">>" if s.flagged else "  "
        flag = s.reason or ""
        low = not s.flagged and s.confidence < low_confidence
        vague = vague or low
        text = textwrap.shorten(" ".join(s.text.split()), text_width, placeholder=" ...")
        lines.append(f"{n:>3}{mark}{s.score:5.2f}{'~' if low else ' '} {flag:<12} {text}")
        if s.flagged and s.explanation:
            for part in textwrap.wrap(s.explanation, text_width):
                lines.append(f"{'':>24}{part}")
    if vague:
        lines += ["", "~ little topic information of its own (a vague line or quote): low-confidence score, never flagged off_topic"]
    return "\n".join(lines)


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


def _detector_options(args: argparse.Namespace) -> dict[str, Any]:
    """The Detector arguments of `_common_options`."""
    return dict(
        model=args.model,
        threshold=args.threshold,
        flag_rate=args.flag_rate,
        companion_threshold=args.companion_threshold,
        backend=args.backend,
        speed=args.speed,
    )


def _cmd_score(args: argparse.Namespace) -> int:
    text = read_article(args.path)
    from coherence.io.html import EXTRACTED_FIELD, extract_article, looks_like_html

    extracted = args.html or (args.html is None and (_is_html_name(args.path) or looks_like_html(text)))
    if extracted:
        try:
            text = extract_article(text)
        except RecordError as exc:
            raise InputError(f"{args.path}: {exc}") from None
    from coherence.detector import Detector

    detector = Detector(**_detector_options(args))
    result = detector.score(text)
    result.id = args.path
    if args.json:
        record = result.to_dict(sentences=args.sentences) | ({EXTRACTED_FIELD: text} if extracted else {})
        emit(json.dumps(json_safe(record), ensure_ascii=False, indent=2))
    else:
        emit(format_table(result, low_confidence=detector.min_confidence))
    return 0


def _is_html_name(path: str) -> bool:
    return path.lower().endswith((".html", ".htm", ".xhtml"))


def _cmd_batch(args: argparse.Namespace) -> int:
    if args.site_field and args.engine == "ray":
        raise InputError("--site-field works with the local engine only (it counts lines in a first pass)")
    options = dict(
        text_field=args.html_field or args.text_field,
        id_field=args.id_field,
        keep_fields=[f for f in args.keep_fields.split(",") if f] if args.keep_fields else [],
        max_chars=args.max_chars,
        **_detector_options(args),
    )
    from coherence.encoders.cpus import available_cpus

    cpus = available_cpus()
    if args.engine == "local" and args.workers > cpus:
        print(f"coherence: note: --workers {args.workers} is more than the {cpus} CPUs here; using {cpus} (more would only add memory)", file=sys.stderr)
    try:
        if args.engine == "ray":
            from coherence.engines.ray import score_file_with_ray

            if args.resume:
                raise InputError("--resume works with the local engine only; Ray runs restart from the start")
            report = score_file_with_ray(args.inputs, args.output, address=args.address, html=bool(args.html_field), **options)
        else:
            from coherence.engines.local import score_file

            report = score_file(
                args.inputs, args.output, resume=args.resume, workers=args.workers, html=bool(args.html_field),
                site_field=args.site_field, **options,
            )  # fmt: skip
    except OSError as exc:
        raise InputError(f"{exc.filename or args.output}: {exc.strerror or exc}") from None
    from coherence.engines.local import summary_path

    emit(f"{report['text']}\nsummary: {summary_path(args.output)}")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from coherence.report.corpus_stats import results_format
    from coherence.report.projection import TooFewPoints

    figures = [path for path in (args.png, args.svg) if path]
    if not args.output and not figures:
        raise InputError("give -o OUT.html, --png FIGURE.png or --svg FIGURE.svg")
    if args.worst < 0 or args.sample < 1:
        raise InputError("--worst must be 0 or more and --sample 1 or more")
    for path, suffix in ((args.output, None), (args.png, ".png"), (args.svg, ".svg")):
        if path and suffix and not path.lower().endswith(suffix):
            raise InputError(f"--{suffix[1:]} needs a {suffix} file name, got {path}")
        if path and not Path(path).resolve().parent.is_dir():
            raise InputError(f"cannot write {path}: no folder {Path(path).parent}")
    corpus = args.input != "-" and results_format(Path(args.input)) is not None
    if args.corpus and not corpus:
        raise InputError("--input goes with `coherence batch` output (.jsonl, .jsonl.gz or .parquet), not with one article")
    try:
        if corpus:
            from coherence.report.corpus import corpus_report

            stats = corpus_report(
                args.input, args.output, figures=figures, inputs=args.corpus or (), text_field=args.text_field,
                id_field=args.id_field, threshold=args.threshold, model=args.model, backend=args.backend, worst=args.worst,
                sample=args.sample, projection=args.projection, seed=args.seed,
            )
            done = f"{stats.summary.records:,} records"
        else:
            text = read_article(args.input)
            from coherence.detector import Detector
            from coherence.encoders.torch_encoder import DEFAULT_MODEL
            from coherence.report.article import article_report

            detector = Detector(
                model=args.model or DEFAULT_MODEL,
                threshold=0.8 if args.threshold is None else args.threshold,
                flag_rate=args.flag_rate,
                companion_threshold=args.companion_threshold,
                backend=args.backend or "torch",
                speed=args.speed,
            )
            title = args.title or ("stdin" if args.input == "-" else Path(args.input).name)
            scored = article_report(
                text, args.output, figures=figures, detector=detector, title=title,
                projection=args.projection, seed=args.seed,
            )
            result = scored.result
            done = f"coherence {result.coherence:.3f} {'PASS' if result.passed else 'FAIL'}, {len(result.flagged)} flagged"
    except TooFewPoints as exc:
        raise InputError(str(exc)) from None
    except ImportError as exc:
        raise RuntimeError(f"reports need matplotlib, umap-learn and jinja2: pip install 'coherence[report]' ({exc})") from None
    except OSError as exc:
        raise InputError(f"{exc.filename or args.output}: {exc.strerror or exc}") from None
    emit(f"{done}; wrote {', '.join(str(p) for p in [args.output, *figures] if p)}")
    return 0


def _cmd_prepare(args: argparse.Namespace) -> int:
    if args.speed == "fast":
        from coherence.encoders.static_encoder import StaticEncoder

        built, what = StaticEncoder(args.model).prepare(rebuild=args.rebuild), "fast tier's token table"
    else:
        from coherence.encoders.onnx_encoder import OnnxEncoder

        built, what = OnnxEncoder(args.model).prepare(rebuild=args.rebuild), "int8 ONNX model"
    how = f"built in {built.seconds:.1f} s" if built.built else "already built"
    emit(f"{what} of {args.model}: {built.path} ({how})")
    return 0


_BACKEND_HELP = (
    "torch: fp32 sentence-transformers; onnx: int8 copy of the model, built locally once and cached "
    "(see `coherence prepare`), faster and quick to start"
)


def _backend_option(command: argparse.ArgumentParser) -> None:
    command.add_argument("--backend", choices=("onnx", "torch"), default="torch", help=_BACKEND_HELP + " (default torch)")


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
        default=0.10,
        help="operating point for off_topic flags: the share of clean news articles that get one (default 0.10)",
    )
    _companion_option(command)
    _backend_option(command)
    _speed_option(command)
    command.add_argument("--model", default="all-MiniLM-L6-v2", help="sentence-transformers model name or path")


def _companion_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--companion-threshold",
        type=_companion,
        default=0.5,
        help="in an article with an off_topic flag, also flag sentences scored below this; 'none': off (default 0.5)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="coherence", description="Find the sentences that do not belong in a news article."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    score = sub.add_parser("score", help="score one article (a text file, or - for stdin)")
    score.add_argument("path", help="article text file or HTML page, or - to read stdin")
    score.add_argument(
        "--html", action=argparse.BooleanOptionalAction, default=None,
        help="the input is an HTML page: extract its article text with trafilatura first "
        "(default: when the name ends in .html/.htm or the text starts like a page)",
    )
    score.add_argument("--json", action="store_true", help="print the JSON record instead of a table")
    score.add_argument("--sentences", action="store_true", help="with --json: include every sentence")
    _common_options(score)
    score.set_defaults(run=_cmd_score)

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
    batch.add_argument("--id-field", help="field or column with the record id (default: the record's position)")
    batch.add_argument("--keep-fields", default="", help="comma-separated fields to carry into the output")
    batch.add_argument("--workers", type=_positive, default=1, help="processes scoring in parallel, at most one per CPU (default 1)")
    batch.add_argument("--resume", action="store_true", help="continue a run that stopped; skips records already written")
    batch.add_argument("--max-chars", type=_positive, default=MAX_CHARS, help=f"longer texts get an error record (default {MAX_CHARS:,})")
    batch.add_argument("--engine", choices=("local", "ray"), default="local", help="local processes, or Ray Data (pip install coherence[ray])")
    batch.add_argument("--address", help="with --engine ray: the Ray cluster to join (default: start a local one)")
    _common_options(batch)
    batch.set_defaults(run=_cmd_batch)

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
    report.add_argument("--worst", type=int, default=20, help="least coherent articles listed (default 20)")
    report.add_argument("--sample", type=int, default=100, help="flagged sentences per reason on the map (default 100)")
    report.add_argument("--projection", choices=("auto", "umap", "pca"), default="auto",
                        help="sentence maps: UMAP, PCA, or auto (PCA when too few points for UMAP)")
    report.add_argument("--seed", type=int, default=0, help="fixes map layouts and samples (default 0)")
    report.add_argument("--threshold", type=_unit, help="coherence needed to pass (default: the batch run's, else 0.8)")
    report.add_argument("--flag-rate", type=_share, default=0.10, help="one article: operating point for off_topic flags (default 0.10)")
    _companion_option(report)
    report.add_argument("--backend", choices=("onnx", "torch"), help=_BACKEND_HELP + " (default: the batch run's, else torch)")
    report.add_argument(
        "--speed",
        choices=("default", "fast"),
        default="default",
        help="one article: the tier to score it with (a batch run's results keep the tier they were scored with)",
    )
    report.add_argument("--model", help="sentence-transformers model name or path (default: the batch run's, else the bundled one)")
    report.set_defaults(run=_cmd_report)

    prepare = sub.add_parser(
        "prepare", help="build the int8 ONNX model (--backend onnx) or the fast tier's table (--speed fast) now, not on first use"
    )
    prepare.add_argument("--model", default="all-MiniLM-L6-v2", help="the bundled model's name or a local model directory")
    prepare.add_argument(
        "--speed", choices=("default", "fast"), default="default", help="fast: the fast tier's token table (default: the int8 model)"
    )
    prepare.add_argument("--rebuild", action="store_true", help="build again even if an intact copy is cached")
    prepare.set_defaults(run=_cmd_prepare)
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
        _silence_stdout()
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


"""What each `coherence` sub-command does, given its parsed arguments; the parser is in
`coherence.cli.main`. Each returns the exit code."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


from coherence.cli.console import emit, format_table, read_article
from coherence.extras import install_hint
from coherence.io.fields import InputError, is_corpus_name  # InputError: input the user must fix: one line, exit code 2
from coherence.io.records import MAX_CHARS, RecordError, too_long
from coherence.io.safe_values import json_safe


def _detector_options(args: argparse.Namespace) -> dict[str, Any]:
    """The Detector arguments of `_common_options`."""
    return dict(
        model=args.model,
        threshold=args.threshold,
        flag_rate=args.flag_rate,
        companion_threshold=args.companion_threshold,
        backend=args.backend,
        speed=args.speed,
        reader=args.reader,
        page_reader=args.page_reader,
    )


def article_text(path: str, html: bool | None, max_chars: int) -> tuple[str, bool]:
    """The article at `path` (- for stdin), and whether it was extracted from an HTML page
    (`html`; None: by its name or its first characters), held to `max_chars` as batch holds a
    record."""
    if is_corpus_name(path):
        raise InputError(f"{path} is a corpus, not one article: score it with `coherence batch`")
    text = read_article(path)
    from coherence.io.html import extract_article, looks_like_html

    extracted = html or (html is None and (_is_html_name(path) or looks_like_html(text)))
    if extracted:
        try:
            text = extract_article(text)
        except RecordError as exc:
            raise InputError(f"{path}: {exc}") from None
    if len(text) > max_chars:
        raise InputError(too_long(f"{path}{' (its article text)' if extracted else ''}", len(text), max_chars, "--max-chars"))
    return text, extracted


def score_command(args: argparse.Namespace) -> int:
    if args.sentences and not args.json:
        raise InputError("--sentences goes with --json (the table already shows every sentence)")
    text, extracted = article_text(args.path, args.html, args.max_chars)
    from coherence.build import ready_detector
    from coherence.io.html import EXTRACTED_FIELD

    detector = ready_detector(_detector_options(args), prepare=False).load()
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


def batch_command(args: argparse.Namespace) -> int:
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


def report_command(args: argparse.Namespace) -> int:
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
    if corpus and (args.html is not None or args.max_chars != MAX_CHARS):
        raise InputError("--html and --max-chars go with one article; a batch run's report reads them from its summary")
    text = None if corpus else article_text(args.input, args.html, args.max_chars)[0]
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
            from coherence.build import ready_detector
            from coherence.encoders.base import DEFAULT_MODEL
            from coherence.report.article import article_report

            options = _detector_options(args) | {
                "model": args.model or DEFAULT_MODEL,
                "threshold": 0.8 if args.threshold is None else args.threshold,
            }
            detector = ready_detector(options, prepare=False)
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
        raise RuntimeError(f"reports need matplotlib, umap-learn and jinja2 ({exc}): {install_hint('report')}") from None
    except OSError as exc:
        raise InputError(f"{exc.filename or args.output}: {exc.strerror or exc}") from None
    emit(f"{done}; wrote {', '.join(str(p) for p in [args.output, *figures] if p)}")
    return 0


def prepare_command(args: argparse.Namespace) -> int:
    from coherence.encoders.factory import make_encoder

    fast = args.speed == "fast"
    encoder: Any = make_encoder(args.model, None if fast else "onnx", args.speed)
    built = encoder.prepare(rebuild=args.rebuild)
    what = "fast tier's token table" if fast else "int8 ONNX model"
    how = f"built in {built.seconds:.1f} s" if built.built else "already built"
    emit(f"{what} of {args.model}: {built.path} ({how})")
    if not fast:  # the page reader and the article reader (both read by default, page_reader / reader "auto")
        from coherence.encoders.reader_encoder import ReaderEncoder

        for kind in ("page", "article"):
            built = ReaderEncoder(kind=kind).prepare(rebuild=args.rebuild)
            how = f"built in {built.seconds:.1f} s" if built.built else "already built"
            emit(f"{kind} reader model (bundled model + shipped adapters, int8): {built.path} ({how})")
    return 0

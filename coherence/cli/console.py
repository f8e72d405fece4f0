"""Console I/O of the command line: reading an article (file or stdin, bounded), writing to a
stdout that may close early, and the sentence table `coherence score` prints."""

from __future__ import annotations

import os
import shutil
import sys
import textwrap
from pathlib import Path

from coherence.io.fields import InputError  # input the user must fix: one line, exit code 2
from coherence.io.records import utf16_message
from coherence.results import ArticleResult, language_note

__all__ = ["ARTICLE_BYTES", "emit", "format_table", "read_article", "silence_stdout"]


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
    path = "standard input" if path == "-" else path  # as the messages below name it
    if (utf16 := utf16_message(data, path)) is not None:
        raise InputError(utf16)
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
        silence_stdout()
        if isinstance(exc, BrokenPipeError):
            raise InputError("standard output was closed before everything was written (broken pipe)") from None
        raise InputError(f"cannot write to standard output: {exc.strerror or exc}") from None


def silence_stdout() -> None:
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
        f"{len(result.sentences)} sentence{'' if len(result.sentences) == 1 else 's'}, flagged: {counts}",
        "",
        f"{'#':>3}  {'score':>5}  {'flag':<12} sentence",
    ]
    text_width = max(20, width - 26)
    vague = False
    note = language_note(result.language)
    for n, s in enumerate(result.sentences, 1):
        mark = ">>" if s.flagged else "  "
        flag = s.reason or ""
        low = note is None and not s.flagged and s.confidence < low_confidence
        vague = vague or low
        text = textwrap.shorten(" ".join(s.text.split()), text_width, placeholder=" ...")
        lines.append(f"{n:>3}{mark}{s.score:5.2f}{'~' if low else ' '} {flag:<12} {text}")
        if s.flagged and s.explanation:
            for part in textwrap.wrap(s.explanation, text_width):
                lines.append(f"{'':>24}{part}")
    if vague:
        lines += ["", "~ little topic information of its own (a vague line or quote): low-confidence score, never flagged off_topic"]
    if note is not None:
        lines += ["", *textwrap.wrap(note, width - 2)]
    return "\n".join(lines)

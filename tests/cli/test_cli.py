"""The `coherence score` command: table, --json, --threshold, stdin, and one-line errors."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from coherence.cli import main
from coherence.verdict import REASONS

RECORD_KEYS = {"id", "coherence", "passed", "n_sentences", "n_flagged", "flags", "error"}
SPAN_KEYS = {"start", "end", "reason", "score", "text"}
ROW = re.compile(r"^\s{0,2}(\d+)(>>|  )\s*(\d\.\d\d)  (\S*)")


def run(argv: list[str]) -> int:
    """Run the CLI in-process; return its exit code whether it returns or raises SystemExit."""
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1


def run_json(argv: list[str], capsys) -> dict:
    code = run(argv)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def test_table_marks_flagged_sentences(planted_path, detector, capsys):
    code = run(["score", str(planted_path)])
    out = capsys.readouterr().out
    assert code == 0
    expected = detector.score(planted_path.read_text(encoding="utf-8"))
    rows = {int(m[1]): (m[2], m[4]) for m in map(ROW.match, out.splitlines()) if m}
    assert sorted(rows) == list(range(1, len(expected.sentences) + 1)), out
    for n, sentence in enumerate(expected.sentences, 1):
        mark, flag = rows[n]
        if sentence.flagged:
            assert (mark, flag) == (">>", sentence.reason), f"row {n}: {out}"
        else:
            assert (mark, flag) == ("  ", ""), f"row {n}: {out}"
    shown = {flag for _, flag in rows.values() if flag}
    assert {"boilerplate", "duplicate", "fragment"} <= shown
    assert ("PASS" if expected.passed else "FAIL") in out.splitlines()[0]


def test_json_output_schema(planted_path, detector, capsys):
    record = run_json(["score", str(planted_path), "--json"], capsys)
    text = planted_path.read_text(encoding="utf-8")
    assert RECORD_KEYS <= set(record)
    assert record["id"] == str(planted_path)
    assert record["error"] is None
    assert type(record["passed"]) is bool
    assert 0.0 <= record["coherence"] <= 1.0
    assert record["coherence"] == pytest.approx(detector.score(text).coherence, abs=1e-4)
    assert record["n_flagged"] == len(record["flags"]) > 0
    for span in record["flags"]:
        assert SPAN_KEYS <= set(span)
        assert span["reason"] in REASONS
        assert text[span["start"] : span["end"]] == span["text"]
    assert {"boilerplate", "duplicate", "fragment"} <= {span["reason"] for span in record["flags"]}


def test_json_with_sentences(clean_path, capsys):
    record = run_json(["score", str(clean_path), "--json", "--sentences"], capsys)
    assert len(record["sentences"]) == record["n_sentences"] > 0


def test_threshold_changes_passed(planted_path, capsys):
    coherence = run_json(["score", str(planted_path), "--json"], capsys)["coherence"]
    low = run_json(["score", str(planted_path), "--json", "--threshold", f"{coherence - 0.01:.4f}"], capsys)
    high = run_json(["score", str(planted_path), "--json", "--threshold", f"{coherence + 0.01:.4f}"], capsys)
    assert low["passed"] is True
    assert high["passed"] is False
    assert low["coherence"] == high["coherence"] == coherence


def test_stdin(planted_path, monkeypatch, capsys):
    from_file = run_json(["score", str(planted_path), "--json"], capsys)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(planted_path.read_bytes())))
    from_stdin = run_json(["score", "-", "--json"], capsys)
    assert from_stdin["id"] == "-"
    assert from_stdin["flags"] == from_file["flags"]
    assert from_stdin["coherence"] == from_file["coherence"]


def test_the_table_counts_one_sentence_in_the_singular(tmp_path, capsys):
    article = tmp_path / "one.txt"
    article.write_text("The council approved the new flood barrier on Monday.", encoding="utf-8")
    assert main(["score", str(article)]) == 0
    assert " 1 sentence, flagged: " in capsys.readouterr().out


def test_sentences_without_json_is_refused(planted_path, capsys):
    assert_one_line_error(main(["score", str(planted_path), "--sentences"]), capsys)


def test_a_corpus_file_is_refused_as_one_article(tmp_path, capsys):
    corpus = tmp_path / "corpus.csv"
    corpus.write_text("id,text\na,The council met on Monday.\n", encoding="utf-8")
    assert_one_line_error(main(["score", str(corpus)]), capsys)
    results = tmp_path / "scored.jsonl"
    results.write_text("", encoding="utf-8")
    assert_one_line_error(main(["report", str(results), "-o", str(tmp_path / "r.html"), "--no-html"]), capsys)


def make_bad_input(kind: str, tmp_path: Path) -> str:
    path = tmp_path / "article.txt"
    if kind == "missing":
        return str(tmp_path / "no-such-article.txt")
    if kind == "directory":
        return str(tmp_path)
    content = {"empty": b"", "whitespace": b"  \n\n\t \r\n ", "binary": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x01"}
    path.write_bytes(content[kind])
    return str(path)


def assert_one_line_error(code: int, capsys) -> None:
    captured = capsys.readouterr()
    assert code != 0
    assert captured.out == ""
    assert "Traceback" not in captured.err
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("coherence: error:"), captured.err


@pytest.mark.parametrize("kind", ["missing", "empty", "whitespace", "binary", "directory"])
def test_bad_input_gives_one_line_error(kind, tmp_path, capsys):
    code = run(["score", make_bad_input(kind, tmp_path)])
    assert_one_line_error(code, capsys)


def test_a_utf16_file_is_named_utf16_not_binary(tmp_path, capsys):
    path = tmp_path / "article.txt"
    path.write_text("The river rose overnight. The barrier closed.", encoding="utf-16")
    assert run(["score", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("coherence: error:") and "UTF-16" in err and "\n" not in err  # once "looks like a binary file"


@pytest.mark.parametrize("data", [b"", b" \n ", b"text\x00with\x00nuls"], ids=["empty", "whitespace", "binary"])
def test_bad_stdin_gives_one_line_error(data, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    assert run(["score", "-", "--json"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("coherence: error: standard input ") and "\n" not in err  # not "- has no text"


def console_script() -> str | None:
    beside = Path(sys.executable).with_name("coherence")
    return str(beside) if beside.exists() else shutil.which("coherence")


def test_installed_console_script(planted_path):
    exe = console_script()
    if exe is None:
        pytest.skip("the `coherence` console script is not installed")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    proc = subprocess.run(
        [exe, "score", "--json", str(planted_path)], capture_output=True, text=True, env=env, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    record = json.loads(proc.stdout)
    assert RECORD_KEYS <= set(record)
    assert {"boilerplate", "duplicate", "fragment"} <= {span["reason"] for span in record["flags"]}


def test_a_reader_that_stops_early_is_one_line_and_exit_2(planted_path, monkeypatch, capsys):
    class ClosedPipe:
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self) -> None:
            raise BrokenPipeError(32, "Broken pipe")

        def fileno(self) -> int:
            return fake_stdout.fileno()

    fake_stdout = open(os.devnull, "w")
    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    saved = os.dup(1)  # main() points file descriptor 1 at /dev/null: restore it afterwards
    try:
        assert main(["score", str(planted_path)]) == 2
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        fake_stdout.close()
    err = capsys.readouterr().err
    errors = [line for line in err.strip().splitlines() if "building" not in line]  # a first run also says it builds the model
    assert "Traceback" not in err and err.strip().endswith("(broken pipe)") and len(errors) == 1


@pytest.mark.parametrize("command", [["score", "x.txt"], ["batch", "x.jsonl", "-o", "out.jsonl"], ["report", "x.txt", "-o", "out.html"]])
def test_commands_flag_at_the_library_default_operating_point(command):
    import inspect

    from coherence import Detector
    from coherence.cli.main import build_parser

    library_default = inspect.signature(Detector).parameters["flag_rate"].default
    assert build_parser().parse_args(command).flag_rate == library_default

"""Hostile inputs and options for `coherence batch` and `coherence score`, as a new user writes them.

Each case checks the promises of the README: one output record per input record, in order;
nothing but the output and the files beside it is written or changed; a problem with a whole
run is one line on stderr and exit code 2, never a traceback; memory stays bounded; worker
processes end with their parent. Scoring runs on the fast tier (`--speed fast`) wherever the
model does not matter, so the suite stays quick.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

from coherence import Detector
from coherence.engines.local import available_cpus, summary_path
from coherence.cli import main
from coherence.io.run_files import output_lock
from conftest import read_output, write_jsonl

FAST = ["--speed", "fast"]
ARTICLE = (
    "River barrier opens early as town braces for winter floods.\n\n"
    "The council opened the new flood barrier on the River Wend two weeks ahead of schedule on Tuesday.\n\n"
    "Engineers said the steel gates would close automatically when the river rose above its banks.\n\n"
    "Residents of the lower town, flooded twice in the last decade, welcomed the early opening.\n\n"
    "The barrier cost 40 million pounds and took three years to build, the council said.\n\n"
    "Forecasters expect heavy rain across the region later this week.\n"
)


@pytest.fixture(scope="module", autouse=True)
def fast_tier() -> None:
    """Build the fast tier's token table once (into the test session's cache)."""
    Detector(speed="fast").prepare()


def article(k: int) -> str:
    return ARTICLE.replace("two weeks", f"{k + 2} weeks")


def records(n: int, **extra: Any) -> list[dict[str, Any]]:
    return [{"id": f"doc-{k}", "text": article(k), **extra} for k in range(n)]


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file below `folder` (links as their target's name) by relative path."""
    files = {}
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if path.is_symlink():
            files[name] = b"-> " + os.fsencode(os.readlink(path))
        elif path.is_file():
            files[name] = path.read_bytes()
    return files


def batch(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """`coherence batch ARGS --speed fast` in this process: exit code and stderr."""
    code = main(["batch", *args, *FAST])
    return code, capsys.readouterr().err


def outputs(
    capsys: pytest.CaptureFixture[str], folder: Path, lines: list[str], suffixes: tuple[str, ...], *args: str
) -> Iterator[list[dict[str, Any]]]:
    """`lines` written to FOLDER/in.jsonl as they are, then batch-scored into each output
    format in turn: that output's records (every run must exit 0)."""
    source = folder / "in.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for suffix in suffixes:
        out = folder / f"out.{suffix}"
        code, err = batch(capsys, str(source), "-o", str(out), *args)
        assert code == 0, err
        yield read_output(out)


def one_line_error(err: str, *words: str) -> bool:
    lines = err.strip().splitlines()
    return len(lines) == 1 and lines[0].startswith("coherence: error: ") and all(w in lines[0] for w in words)


CLI = [sys.executable, "-c", "import sys; from coherence.cli.main import main; sys.exit(main())"]


def cli(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
    """`coherence ARGS` in a fresh process (real stdin, stdout and exit)."""
    kwargs.setdefault("stdout", subprocess.PIPE)
    kwargs.setdefault("stderr", subprocess.PIPE)
    return subprocess.run([*CLI, *args], timeout=300, **kwargs)


def cli_peak(*args: str) -> tuple[subprocess.CompletedProcess[bytes], float]:
    """`coherence ARGS` in a fresh process, and that process's own peak memory in MB, which it
    reads itself at exit (VmHWM: since its exec). A fork's rusage would count the pytest
    process's memory at the fork (Linux keeps the pre-exec high-water mark), and
    RUSAGE_CHILDREN the largest child of the whole session."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "peak"
        code = (
            "import atexit, sys\n"
            "def peak():\n"
            "    line = next(l for l in open('/proc/self/status') if l.startswith('VmHWM:'))\n"
            f"    open({str(report)!r}, 'w').write(line.split()[1])\n"
            "atexit.register(peak)\n"
            "from coherence.cli.main import main\n"
            "sys.exit(main())\n"
        )
        done = subprocess.run([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
        return done, int(report.read_text()) / 1024


# -- 1. --resume never touches what it did not write -------------------------------------------
@pytest.mark.parametrize("suffix", ["jsonl", "jsonl.gz", "parquet"])
@pytest.mark.parametrize("resume", [True, False])
def test_output_equal_to_the_input_is_refused_untouched(tmp_path, capsys, suffix, resume):
    base = tmp_path / f"w.{suffix}"
    rows = records(150)
    if suffix == "parquet":
        pq.write_table(pa.Table.from_pylist(rows), base)
    else:
        data = "".join(json.dumps(r) + "\n" for r in rows).encode()
        base.write_bytes(gzip.compress(data) if suffix.endswith("gz") else data)
    before = snapshot(tmp_path)
    code, err = batch(capsys, str(base), "-o", str(base), *(["--resume"] if resume else []))
    assert code == 2 and one_line_error(err, "would overwrite the input")
    assert snapshot(tmp_path) == before


def test_output_linked_to_the_input_is_refused(tmp_path, capsys):
    source = write_jsonl(tmp_path / "in.jsonl", records(3))
    (tmp_path / "link.jsonl").symlink_to(source)
    os.link(source, tmp_path / "hard.jsonl")
    before = snapshot(tmp_path)
    for output in ("link.jsonl", "hard.jsonl"):
        code, err = batch(capsys, str(source), "-o", str(tmp_path / output), "--resume")
        assert code == 2 and one_line_error(err, "would overwrite the input")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("lines", [100, 2_000])
def test_resume_into_a_file_no_run_wrote_is_refused_untouched(tmp_path, capsys, lines):
    source = write_jsonl(tmp_path / "in.jsonl", records(150))
    foreign = write_jsonl(tmp_path / "other.jsonl", [{"name": f"row {k}"} for k in range(lines)])
    before = snapshot(tmp_path)
    code, err = batch(capsys, str(source), "-o", str(foreign), "--resume")
    assert code == 2 and one_line_error(err, "no readable other.jsonl.summary.json", "not touched")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("suffix", ["jsonl", "jsonl.gz", "parquet"])
def test_resume_refuses_an_output_changed_since_its_run(tmp_path, capsys, suffix):
    source = write_jsonl(tmp_path / "in.jsonl", records(20))
    out = tmp_path / f"out.{suffix}"
    assert batch(capsys, str(source), "-o", str(out))[0] == 0
    data = bytearray(out.read_bytes())
    data[len(data) // 3] ^= 0x20
    out.write_bytes(bytes(data))
    before = snapshot(tmp_path)
    code, err = batch(capsys, str(source), "-o", str(out), "--resume")
    assert code == 2 and one_line_error(err, "not the output the earlier run left")
    assert snapshot(tmp_path) == before


def test_resume_without_its_summary_is_refused_untouched(tmp_path, capsys):
    source = write_jsonl(tmp_path / "in.jsonl", records(20))
    out = tmp_path / "out.jsonl"
    assert batch(capsys, str(source), "-o", str(out))[0] == 0
    summary_path(out).unlink()
    before = snapshot(tmp_path)
    code, err = batch(capsys, str(source), "-o", str(out), "--resume")
    assert code == 2 and one_line_error(err, "not touched")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("change", ["shrank", "grew", "rewritten"])
def test_resume_after_the_input_changed_is_refused_untouched(tmp_path, capsys, change):
    rows = records(100)
    source = write_jsonl(tmp_path / "in.jsonl", rows)
    out = tmp_path / "out.jsonl"
    assert batch(capsys, str(source), "-o", str(out))[0] == 0
    if change == "shrank":
        write_jsonl(source, rows[:40])
    elif change == "grew":
        write_jsonl(source, rows + records(5))
    else:
        write_jsonl(source, list(reversed(rows)))
    before = snapshot(tmp_path)
    code, err = batch(capsys, str(source), "-o", str(out), "--resume")
    assert code == 2 and one_line_error(err, "the inputs changed")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("resume", [True, False])
def test_output_linked_to_a_device_is_refused_at_once(tmp_path, capsys, resume):
    source = write_jsonl(tmp_path / "in.jsonl", records(3))
    out = tmp_path / "full.jsonl"
    out.symlink_to("/dev/full")
    code, err = batch(capsys, str(source), "-o", str(out), *(["--resume"] if resume else []))
    assert code == 2 and one_line_error(err, "not a regular file")


def test_a_killed_run_still_resumes_to_every_record_once(tmp_path, capsys):
    """The proof does not cost the crash safety: an output cut mid-block (what a kill
    leaves) resumes to every record once, equal to an unbroken run."""
    source = write_jsonl(tmp_path / "in.jsonl", records(150))
    reference, out = tmp_path / "reference.jsonl", tmp_path / "out.jsonl"
    assert batch(capsys, str(source), "-o", str(reference))[0] == 0
    assert batch(capsys, str(source), "-o", str(out))[0] == 0
    summary = json.loads(summary_path(out).read_text())
    data = out.read_bytes()
    cut = len(b"".join(data.splitlines(keepends=True)[:64]))  # the first block, as recorded after it
    import hashlib

    summary["complete"] = False
    summary["output_state"] = {"records": 64, "bytes": cut, "sha256": hashlib.sha256(data[:cut]).hexdigest()}
    summary_path(out).write_text(json.dumps(summary))
    out.write_bytes(data[: cut + 300])  # and a block torn part way
    assert batch(capsys, str(source), "-o", str(out), "--resume")[0] == 0
    assert read_output(out) == read_output(reference)
    assert json.loads(summary_path(out).read_text())["resumed_after"] == 64


# -- 2. one writer per output --------------------------------------------------------------
def test_a_second_run_on_a_locked_output_is_refused(tmp_path, capsys):
    source = write_jsonl(tmp_path / "in.jsonl", records(10))
    out = tmp_path / "out.jsonl"
    with output_lock(out):
        for extra in ([], ["--resume"]):
            code, err = batch(capsys, str(source), "-o", str(out), *extra)
            assert code == 2 and one_line_error(err, "another coherence run is writing")
        assert not out.exists()
    assert batch(capsys, str(source), "-o", str(out))[0] == 0  # the lock went with its holder
    assert not (tmp_path / "out.jsonl.lock").exists()


def test_a_plain_run_and_a_resume_at_once_give_every_record_once(tmp_path):
    rows = records(6_000)  # about 20 s on the fast tier: still running when the second run starts
    source = write_jsonl(tmp_path / "in.jsonl", rows)
    out = tmp_path / "out.jsonl"
    first = subprocess.Popen(
        [sys.executable, "-m", "coherence.cli", "batch", str(source), "-o", str(out), "--id-field", "id", *FAST],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while not (tmp_path / "out.jsonl.lock").exists() and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    second = cli("batch", str(source), "-o", str(out), "--resume", "--id-field", "id", *FAST)
    assert first.wait(timeout=300) == 0, first.stderr.read().decode()[-2000:]
    assert second.returncode == 2 and b"another coherence run is writing" in second.stderr
    assert [r["id"] for r in read_output(out)] == [r["id"] for r in rows]


# -- 3. one record never stops a batch -----------------------------------------------------
def typed_table() -> pa.Table:
    return pa.table(
        {
            "id": ["a", "b", "c"],
            "text": [article(0), article(1), article(2)],
            "day": pa.array([dt.date(2020, 1, 31), None, dt.date(1999, 12, 1)], pa.date32()),
            "at": pa.array([dt.datetime(2020, 1, 31, 12, 30), None, dt.datetime(2001, 2, 3)], pa.timestamp("ms")),
            "price": pa.array([Decimal("12.50"), None, Decimal("-0.01")], pa.decimal128(6, 2)),
            "blob": pa.array([b"\x00\xffraw", None, b""], pa.binary()),
            "ratio": [float("nan"), 1.5, float("inf")],
        }
    )


@pytest.mark.parametrize("source_format", ["parquet", "csv"])
@pytest.mark.parametrize("suffix", ["jsonl", "parquet"])
def test_kept_fields_of_any_arrow_type_are_written(tmp_path, capsys, source_format, suffix):
    source = tmp_path / f"in.{source_format}"
    table = typed_table()
    if source_format == "parquet":
        pq.write_table(table, source)
    else:
        pcsv.write_csv(table.drop_columns(["blob"]), source)  # CSV has no binary; its dates are inferred
    keep = ["day", "at", "price", "ratio"] + (["blob"] if source_format == "parquet" else [])
    out = tmp_path / f"out.{suffix}"
    code, err = batch(capsys, str(source), "-o", str(out), "--id-field", "id", "--keep-fields", ",".join(keep))
    assert code == 0, err
    got = read_output(out)
    assert [r["id"] for r in got] == ["a", "b", "c"] and all(r["error"] is None for r in got)
    if suffix == "jsonl":
        assert got[0]["day"] == "2020-01-31" and got[1]["day"] is None
        assert got[0]["at"].startswith("2020-01-31") and "12:30" in got[0]["at"]
        assert got[0]["price"] in ("12.50", 12.5) and got[2]["price"] in ("-0.01", -0.01)
        assert got[0]["ratio"] is None and got[1]["ratio"] == 1.5 and got[2]["ratio"] is None  # JSON has no NaN
        if source_format == "parquet":
            import base64

            assert base64.b64decode(got[0]["blob"]) == b"\x00\xffraw"
    else:
        assert got[0]["day"] == dt.date(2020, 1, 31)


def test_deeply_nested_json_becomes_an_error_record(tmp_path, capsys):
    nested = "[" * 10_000 + "]" * 10_000
    lines = [
        json.dumps(records(1)[0]),
        nested,  # the whole line
        '{"id": "deep", "text": "One two three.", "extra": ' + nested + "}",  # in a field
        json.dumps({"id": "last", "text": article(3)}),
    ]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    code, err = batch(capsys, str(source), "-o", str(out), "--id-field", "id")
    assert code == 0, err
    got = read_output(out)
    assert len(got) == 4 and got[0]["error"] is None and got[3]["error"] is None
    assert "nests JSON too deeply" in got[1]["error"] and "nests JSON too deeply" in got[2]["error"]


def test_lone_surrogates_in_text_id_and_kept_fields_are_written(tmp_path, capsys):
    lines = [
        '{"id": "whole", "text": "\\udfff\\ud800"}',
        '{"id": "inside", "text": ' + json.dumps(article(1))[:-1] + ' \\udfff tail.", "tag": "x\\ud800y"}',
        '{"id": "bad-\\udfff", "text": ' + json.dumps(article(2)) + "}",
        json.dumps({"id": "fine", "text": article(3)}),
    ]
    for got in outputs(capsys, tmp_path, lines, ("jsonl", "parquet"), "--id-field", "id", "--keep-fields", "tag"):
        assert [r["id"] for r in got] == ["whole", "inside", "bad-\ufffd", "fine"]
        assert got[1]["tag"] == "x\ufffdy" and got[1]["error"] is None and got[2]["error"] is None
        assert got[0]["error"] is None or "empty" not in got[0]["error"]


def test_score_many_never_raises_on_lone_surrogates():
    detector = Detector(speed="fast")
    results = list(detector.score_many(["\udfff\ud800", article(0) + " \udfff", None, article(1)]))
    assert len(results) == 4
    assert results[1].error is None and results[3].error is None and results[2].error is not None
    assert "\ufffd" in results[1].sentences[-1].text


def test_one_invalid_utf8_byte_in_a_csv_row_costs_nothing(tmp_path, capsys):
    source = tmp_path / "in.csv"
    rows = [f'{k},"{article(k)}"' for k in range(4)]
    rows[2] = rows[2].replace("welcomed", "welc\udcffomed")
    source.write_bytes(("id,text\n" + "\n".join(rows) + "\n").encode("utf-8", errors="surrogateescape"))
    out = tmp_path / "out.jsonl"
    code, err = batch(capsys, str(source), "-o", str(out), "--id-field", "id")
    assert code == 0, err
    got = read_output(out)
    assert [r["id"] for r in got] == [0, 1, 2, 3] and all(r["error"] is None for r in got)


def test_undecodable_file_names_in_a_folder_are_records(tmp_path, capsys):
    folder = tmp_path / "pages"
    folder.mkdir()
    (folder / "plain.txt").write_text(article(0), encoding="utf-8")
    (folder / os.fsdecode(b"caf\xe9.txt")).write_text(article(1), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    code, err = batch(capsys, str(folder), "-o", str(out))
    assert code == 0, err
    got = read_output(out)
    assert len(got) == 2 and all(r["error"] is None for r in got)
    assert "caf\ufffd.txt" in [r["id"] for r in got]


# -- 4. one line and exit 2, never a traceback ---------------------------------------------
def test_a_csv_header_with_the_text_column_twice(tmp_path, capsys):
    source = tmp_path / "in.csv"
    source.write_text(f'id,text,text\n1,"{article(0)}",again\n', encoding="utf-8")
    code, err = batch(capsys, str(source), "-o", str(tmp_path / "out.jsonl"))
    assert code == 2 and one_line_error(err, "more than one column named 'text'", "in.csv")


def test_a_utf16_csv(tmp_path, capsys):
    source = tmp_path / "in.csv"
    source.write_text(f'id,text\n1,"{article(0)}"\n', encoding="utf-16")
    code, err = batch(capsys, str(source), "-o", str(tmp_path / "out.jsonl"))
    assert code == 2 and one_line_error(err, "UTF-16", "in.csv")


def test_a_utf16_jsonl(tmp_path, capsys):
    source = tmp_path / "in.jsonl"  # split at b"\n": once an error record a line, and one more for the last NUL
    source.write_text("".join(json.dumps(r) + "\n" for r in records(3)), encoding="utf-16")
    code, err = batch(capsys, str(source), "-o", str(tmp_path / "out.jsonl"))
    assert code == 2 and one_line_error(err, "UTF-16", "in.jsonl")


def test_a_utf16_txt_in_a_folder_is_named_utf16(tmp_path, capsys):
    folder = tmp_path / "pages"
    folder.mkdir()
    (folder / "a.txt").write_text(article(0), encoding="utf-8")
    (folder / "b.txt").write_text(article(1), encoding="utf-16")
    out = tmp_path / "out.jsonl"
    code, err = batch(capsys, str(folder), "-o", str(out))
    assert code == 0, err
    got = read_output(out)
    assert [r["id"] for r in got] == ["a.txt", "b.txt"] and got[0]["error"] is None
    assert "UTF-16" in got[1]["error"]  # once "looks like a binary file"


def test_score_with_stdin_closed(tmp_path):
    done = subprocess.run(
        ["sh", "-c", f'"{sys.executable}" -m coherence.cli score - --speed fast <&-'],
        capture_output=True, timeout=300,
    )
    assert done.returncode == 2, done.stderr
    assert one_line_error(done.stderr.decode(), "standard input")


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_score_of_an_endless_device_is_refused_in_bounded_memory(device):
    done, peak_mb = cli_peak("score", device, *FAST)
    assert done.returncode == 2 and one_line_error(done.stderr.decode(), device)
    assert peak_mb < 2_000


@pytest.mark.parametrize("json_output", [False, True])
def test_score_into_a_full_stdout(tmp_path, json_output):
    source = tmp_path / "a.txt"
    source.write_text(article(0), encoding="utf-8")
    with open("/dev/full", "w") as full:
        done = cli("score", str(source), *FAST, *(["--json"] if json_output else []), stdout=full)
    assert done.returncode == 2
    assert one_line_error(done.stderr.decode(), "cannot write to standard output")


def test_batch_summary_into_a_full_stdout(tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl", records(5))
    out = tmp_path / "out.jsonl"
    with open("/dev/full", "w") as full:
        done = cli("batch", str(source), "-o", str(out), *FAST, stdout=full)
    assert done.returncode == 2
    assert one_line_error(done.stderr.decode(), "cannot write to standard output")
    assert len(read_output(out)) == 5 and json.loads(summary_path(out).read_text())["complete"]


def test_score_into_a_closed_pipe(tmp_path):
    source = tmp_path / "a.txt"
    source.write_text(article(0) * 20, encoding="utf-8")
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = cli("score", str(source), *FAST, stdout=write_end)
    finally:
        os.close(write_end)
    assert done.returncode == 2
    assert one_line_error(done.stderr.decode(), "broken pipe")


# -- 5. resources ------------------------------------------------------------------------------
def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc").is_dir() or available_cpus() < 2, reason="needs Linux /proc and 2 CPUs")
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_workers_end_with_their_parent(tmp_path, how):
    """kill -9 and SIGTERM of the batch process, and Ctrl-C (SIGINT to its process group)."""
    source = write_jsonl(tmp_path / "in.jsonl", records(20_000))
    out = tmp_path / "out.jsonl"
    process = subprocess.Popen(
        [sys.executable, "-m", "coherence.cli", "batch", str(source), "-o", str(out), "--workers", "2", *FAST],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
        # a shell's background job inherits SIGINT ignored, and Python then installs no Ctrl-C
        # handler: give the batch the default disposition a terminal gives it
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 120
    while (not out.exists() or out.stat().st_size == 0) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    workers = _children(process.pid)
    assert process.poll() is None and len(workers) >= 2, process.stderr.read().decode()[-2000:]
    if how == signal.SIGINT:
        os.killpg(process.pid, how)  # what a terminal does on Ctrl-C
    else:
        process.send_signal(how)
    process.wait(timeout=60)
    started = time.monotonic()
    out_data, err_data = process.communicate(timeout=30)  # EOF: nothing holds the caller's pipes any more
    while any(map(_alive, workers)) and time.monotonic() - started < 15:
        time.sleep(0.1)
    assert not any(map(_alive, workers)), f"workers {workers} outlived their parent"
    assert b"Traceback" not in err_data
    if how == signal.SIGINT:
        assert process.returncode == 130


def test_more_workers_than_cpus_are_capped_with_a_note(tmp_path, capsys):
    source = write_jsonl(tmp_path / "in.jsonl", records(4))
    out = tmp_path / "out.jsonl"
    code, err = batch(capsys, str(source), "-o", str(out), "--workers", "100")
    assert code == 0 and "note: --workers 100" in err and "Traceback" not in err
    assert json.loads(summary_path(out).read_text())["this_run"]["workers"] == available_cpus()


def test_memory_stays_bounded_on_a_huge_line_without_newline(tmp_path):
    source = tmp_path / "in.jsonl"
    with source.open("wb") as handle:
        handle.write(json.dumps(records(1)[0]).encode() + b"\n")
        handle.write(b'{"id": "huge", "text": "' + b"word " * 8_000_000)  # 40 MB, never closed
    out = tmp_path / "out.jsonl"
    done, peak_mb = cli_peak("batch", str(source), "-o", str(out), "--id-field", "id", *FAST)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    got = read_output(out)
    assert [r["id"] for r in got] == ["doc-0", None] or len(got) == 2
    assert got[1]["error"] and "longer than" in got[1]["error"]
    assert peak_mb < 2_000, f"peak memory {peak_mb:.0f} MB"


# -- 6. options and quiet skips ---------------------------------------------------------------
@pytest.mark.parametrize(
    "option",
    [["--max-chars", "0"], ["--max-chars", "-5"], ["--threshold", "2"], ["--threshold", "-1"],
     ["--threshold", "inf"], ["--threshold", "nan"], ["--workers", "0"]],
)
def test_out_of_range_options_are_refused(tmp_path, capsys, option):
    source = write_jsonl(tmp_path / "in.jsonl", records(2))
    with pytest.raises(SystemExit) as stop:
        main(["batch", str(source), "-o", str(tmp_path / "out.jsonl"), *option, *FAST])
    assert stop.value.code == 2
    assert option[0] in capsys.readouterr().err
    assert snapshot(tmp_path).keys() == {"in.jsonl"}


@pytest.mark.parametrize("value", [2.0, -1.0, float("nan"), float("inf")])
def test_detector_refuses_a_threshold_outside_0_1(value):
    with pytest.raises(ValueError, match="threshold"):
        Detector(threshold=value).score("A sentence to score.")


def test_a_utf8_bom_does_not_cost_the_first_record(tmp_path, capsys):
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"\xef\xbb\xbf" + "".join(json.dumps(r) + "\n" for r in records(3)).encode())
    out = tmp_path / "out.jsonl"
    assert batch(capsys, str(source), "-o", str(out), "--id-field", "id")[0] == 0
    assert [(r["id"], r["error"]) for r in read_output(out)] == [("doc-0", None), ("doc-1", None), ("doc-2", None)]


def test_a_json_file_holding_one_array_is_read_as_its_items(tmp_path, capsys):
    source = tmp_path / "in.json"
    source.write_text(json.dumps(records(3) + ["not an object"], indent=2), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert batch(capsys, str(source), "-o", str(out), "--id-field", "id")[0] == 0
    got = read_output(out)
    assert [r["id"] for r in got[:3]] == ["doc-0", "doc-1", "doc-2"] and all(r["error"] is None for r in got[:3])
    assert "item 4" in got[3]["error"]


def test_pretty_printed_json_objects_are_one_record_each(tmp_path, capsys):
    source = tmp_path / "in.json"
    source.write_text("\n".join(json.dumps(r, indent=2) for r in records(2)) + '\n[1]\n{"id": "cut",\n', encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert batch(capsys, str(source), "-o", str(out))[0] == 0  # the first object's id field is found
    got = read_output(out)
    assert [(r["id"], r["error"]) for r in got[:2]] == [("doc-0", None), ("doc-1", None)]
    assert "JSON list, not an object" in got[2]["error"]
    assert len(got) == 4 and "not valid JSON at line" in got[3]["error"] and "rest of the file" in got[3]["error"]


def test_a_json_array_names_its_id_field_from_its_first_object(tmp_path, capsys):
    source = tmp_path / "in.json"
    source.write_text(json.dumps([None, *records(2)], indent=2), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert batch(capsys, str(source), "-o", str(out))[0] == 0
    assert [r["id"] for r in read_output(out)] == [None, "doc-0", "doc-1"]


def test_a_json_lines_file_named_json_with_a_broken_first_line_keeps_its_other_records(tmp_path, capsys):
    for first in ('{"id": "cut", "text": "The river ro', '{"id": "cut",'):
        source = tmp_path / "in.json"
        source.write_text("\n".join([first, *(json.dumps(r) for r in records(3))]) + "\n", encoding="utf-8")
        out = tmp_path / "out.jsonl"
        out.unlink(missing_ok=True)
        assert batch(capsys, str(source), "-o", str(out))[0] == 0
        got = read_output(out)
        assert [r["id"] for r in got] == [None, "doc-0", "doc-1", "doc-2"], first
        assert "line 1 of in.json" in got[0]["error"] and all(r["error"] is None for r in got[1:])


def test_a_pretty_printed_value_python_cannot_read_is_one_error_record(tmp_path, capsys):
    source = tmp_path / "in.json"
    big = '{\n  "id": "big",\n  "n": ' + "9" * 5000 + "\n}\n"
    source.write_text(json.dumps(records(1)[0], indent=2) + "\n" + big, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert batch(capsys, str(source), "-o", str(out))[0] == 0
    got = read_output(out)
    assert len(got) == 2 and got[0]["error"] is None and "cannot be read" in got[1]["error"]


def test_a_run_keeps_a_model_path_as_its_text(tmp_path):
    from coherence.engines.local import score_file

    source = write_jsonl(tmp_path / "in.jsonl", records(1))
    detector = Detector(model=Path("all-MiniLM-L6-v2"), speed="fast")  # the bundled model, named by a path object
    score_file(source, tmp_path / "out.jsonl", detector=detector)
    settings = json.loads(summary_path(tmp_path / "out.jsonl").read_text())["settings"]
    assert settings["detector"]["model"] == "all-MiniLM-L6-v2"  # not "<PosixPath>": a resumed run compares it


def test_a_folders_text_files_keep_their_names_beside_records_with_ids(tmp_path, capsys):
    source = write_jsonl(tmp_path / "in.jsonl", records(1))
    folder = tmp_path / "pages"
    folder.mkdir()
    (folder / "a.txt").write_text(article(1), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert batch(capsys, str(source), str(folder), "-o", str(out))[0] == 0
    assert [r["id"] for r in read_output(out)] == ["doc-0", "a.txt"]


def test_a_folder_reads_every_text_file_and_names_what_it_cannot(tmp_path, capsys, monkeypatch):
    folder = tmp_path / "pages"
    (folder / "locked").mkdir(parents=True)
    (folder / "a.txt").write_text(article(0), encoding="utf-8")
    (folder / "B.TXT").write_text(article(1), encoding="utf-8")
    (folder / "locked" / "c.txt").write_text(article(2), encoding="utf-8")
    (folder / "gone.txt").symlink_to(folder / "missing.txt")
    (folder / "notes.md").write_text("not an article", encoding="utf-8")
    real_scandir = os.scandir

    def scandir(path: Any = ".") -> Any:  # root reads any folder: make one unreadable by hand
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    out = tmp_path / "out.jsonl"
    code, err = batch(capsys, str(folder), "-o", str(out))
    assert code == 0, err
    got = {r["id"]: r["error"] for r in read_output(out)}
    assert set(got) == {"B.TXT", "a.txt", "gone.txt", "locked"}
    assert got["a.txt"] is None and got["B.TXT"] is None
    assert "link to nothing" in got["gone.txt"] and "cannot read folder locked" in got["locked"]


def test_an_empty_input_gives_an_empty_output(tmp_path, capsys):
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"")
    out = tmp_path / "out.jsonl"
    code, err = batch(capsys, str(source), "-o", str(out))
    assert code == 0, err
    assert out.read_bytes() == b"" and json.loads(summary_path(out).read_text())["records"] == 0


def test_odd_ids_and_kept_values_are_written_as_json(tmp_path, capsys):
    rows = [
        {"id": {"site": "a", "n": 1}, "text": article(0), "meta": [1, {"x": None}], "score": float("nan")},
        {"id": [1, 2], "text": article(1), "meta": "plain", "score": 1e308 * 10},
        {"id": None, "text": article(2), "meta": None, "score": 3},
    ]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")  # NaN and Infinity, as Python writes them
    for suffix in ("jsonl", "jsonl.gz", "parquet"):
        out = tmp_path / f"out.{suffix}"
        code, err = batch(capsys, str(source), "-o", str(out), "--id-field", "id", "--keep-fields", "meta,score")
        assert code == 0, err
        got = read_output(out)
        assert len(got) == 3 and all(r["error"] is None for r in got)
        if suffix != "parquet":
            assert got[0]["id"] == {"site": "a", "n": 1} and got[0]["score"] is None and got[1]["score"] is None
            assert got[2]["id"] is None  # no id: null, never a position that may be another record's id
        raw = out.read_bytes() if suffix == "jsonl" else b""
        assert b"NaN" not in raw and b"Infinity" not in raw


def test_a_record_without_its_id_never_takes_another_records_id(tmp_path, capsys):
    lines = [json.dumps({"id": 1, "text": article(0)}), "not json", json.dumps({"text": article(1)}), json.dumps({"id": 2, "text": article(2)})]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["batch", str(source), "-o", str(out), *FAST]) == 0
    printed = capsys.readouterr()
    got = read_output(out)
    assert [r["id"] for r in got] == [1, None, None, 2]  # positions 1 and 2 would repeat the real ids
    assert "line 2 of in.jsonl" in got[1]["error"] and got[2]["error"] is None
    assert json.loads(summary_path(out).read_text())["error_examples"][0]["record"] == 1
    assert "error in record 1: line 2 of in.jsonl" in printed.out + printed.err


# -- found by review: values Arrow refuses, late CSV cells, links beside the output, pipes ---------
def test_values_parquet_cannot_hold_as_inferred_are_written_as_text(tmp_path, capsys):
    lines = [
        json.dumps({"id": "big", "text": article(0), "v": 2**64, "m": {"a": 1}}),
        json.dumps({"id": "empty", "text": article(1), "v": 1, "m": {}}),
        '{"id": "key", "text": ' + json.dumps(article(2)) + ', "v": 2, "m": {"\\udc80": 1}}',
    ]
    for got in outputs(capsys, tmp_path, lines, ("parquet", "jsonl"), "--id-field", "id", "--keep-fields", "v,m"):
        assert [r["id"] for r in got] == ["big", "empty", "key"] and all(r["error"] is None for r in got)
        assert str(got[0]["v"]) == str(2**64)


def test_a_kept_column_whose_type_changes_between_parts_is_merged_as_text(tmp_path):
    from coherence.engines.local import score_file

    rows = [{"id": k, "text": article(k), "v": 2**53 + 1 if k < 64 else 1.5} for k in range(80)]
    source = write_jsonl(tmp_path / "in.jsonl", rows)
    out = tmp_path / "out.parquet"
    score_file(source, out, id_field="id", keep_fields=["v"], speed="fast", articles_per_batch=4, progress=False)  # parts of 64
    got = read_output(out)
    assert [r["id"] for r in got] == list(range(80))
    assert got[0]["v"] == str(2**53 + 1) and float(got[79]["v"]) == 1.5
    assert not (tmp_path / "out.parquet.parts").exists() and not (tmp_path / "out.parquet.tmp").exists()


def test_an_integer_too_long_for_python_is_the_line_error(tmp_path, capsys):
    source = tmp_path / "in.jsonl"
    source.write_text(
        json.dumps(records(1)[0]) + "\n" + '{"id": "long", "text": "One. Two.", "n": ' + "9" * 5000 + "}\n", encoding="utf-8"
    )
    out = tmp_path / "out.jsonl"
    code, err = batch(capsys, str(source), "-o", str(out), "--id-field", "id")
    assert code == 0, err
    got = read_output(out)
    assert got[0]["error"] is None and "line 2 of in.jsonl cannot be read" in got[1]["error"]
    array = tmp_path / "in.json"
    array.write_text('[{"text": "One. Two.", "n": ' + "9" * 5000 + "}]", encoding="utf-8")
    code, err = batch(capsys, str(array), "-o", str(tmp_path / "array.jsonl"))
    assert code == 2 and one_line_error(err, "in.json")


@pytest.mark.parametrize("kept", [False, True])
def test_a_late_csv_cell_of_another_type_costs_nothing(tmp_path, kept):
    """Past pyarrow's first 8 MB block, where the column types were inferred."""
    from coherence.io.readers import RecordReader

    source = tmp_path / "in.csv"
    n = 90_000
    with source.open("w", encoding="utf-8") as handle:
        handle.write("id,text,extra\n")
        for k in range(n):
            handle.write(f'{k},"A short line number {k} of the file, long enough to fill the blocks.",{"abc" if k == n - 1 else k}\n')
    reader = RecordReader([source], id_field="id", keep_fields=("extra",) if kept else ())
    got = list(reader)
    assert len(got) == n and all(r.error is None for r in got)
    assert [r.id for r in got[:3]] == [0, 1, 2] and str(got[-1].id) == str(n - 1)
    if kept:
        assert got[-1].kept["extra"] == "abc" and str(got[0].kept["extra"]) == "0"


def test_links_planted_beside_the_output_are_not_written_through(tmp_path, capsys):
    source = write_jsonl(tmp_path / "in.jsonl", records(3))
    precious = tmp_path / "precious.txt"
    precious.write_text("precious\n", encoding="utf-8")
    (tmp_path / "out.jsonl.lock").symlink_to(precious)
    code, err = batch(capsys, str(source), "-o", str(tmp_path / "out.jsonl"))
    assert code == 2 and one_line_error(err, "it is a link")
    (tmp_path / "out.jsonl.lock").unlink()
    (tmp_path / "out.jsonl.summary.json.tmp").symlink_to(precious)
    assert batch(capsys, str(source), "-o", str(tmp_path / "out.jsonl"))[0] == 0
    assert precious.read_text(encoding="utf-8") == "precious\n" and len(read_output(tmp_path / "out.jsonl")) == 3


def test_an_input_named_in_bytes_that_are_not_utf8_can_be_resumed(tmp_path, capsys):
    source = write_jsonl(tmp_path / os.fsdecode(b"caf\xe9.jsonl"), records(5))
    out = tmp_path / "out.jsonl"
    assert batch(capsys, str(source), "-o", str(out))[0] == 0
    code, err = batch(capsys, str(source), "-o", str(out), "--resume")
    assert code == 0, err
    assert len(read_output(out)) == 5


def test_a_named_pipe_as_input(tmp_path, capsys):
    import threading

    pipe = tmp_path / "in.jsonl"
    os.mkfifo(pipe)
    data = "".join(json.dumps(r) + "\n" for r in records(30)).encode()

    def feed() -> None:
        with open(pipe, "wb") as handle:
            handle.write(data)

    feeder = threading.Thread(target=feed)
    feeder.start()
    code, err = batch(capsys, str(pipe), "-o", str(tmp_path / "out.jsonl"), "--id-field", "id")
    feeder.join(timeout=60)
    assert code == 0, err
    assert [r["id"] for r in read_output(tmp_path / "out.jsonl")] == [f"doc-{k}" for k in range(30)]


def test_a_huge_text_file_in_a_folder_is_an_error_record_in_bounded_memory(tmp_path):
    folder = tmp_path / "pages"
    folder.mkdir()
    (folder / "a.txt").write_text(article(0), encoding="utf-8")
    with (folder / "huge.txt").open("wb") as handle:
        handle.truncate(3 << 30)  # 3 GB, sparse: nothing to write, everything to read
    out = tmp_path / "out.jsonl"
    done, peak_mb = cli_peak("batch", str(folder), "-o", str(out), *FAST)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    got = {r["id"]: r["error"] for r in read_output(out)}
    assert got["a.txt"] is None and "bytes, more than a text of 200,000 characters" in got["huge.txt"]
    assert peak_mb < 2_000, f"peak memory {peak_mb:.0f} MB"


def test_batch_with_stdout_or_stderr_closed(tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl", records(3))
    base = f'"{sys.executable}" -m coherence.cli batch "{source}" --speed fast -o'
    no_stdout = subprocess.run(["sh", "-c", f'{base} "{tmp_path / "a.jsonl"}" >&-'], capture_output=True, timeout=300)
    assert no_stdout.returncode == 2 and one_line_error(no_stdout.stderr.decode(), "standard output", "closed")
    no_stderr = subprocess.run(["sh", "-c", f'{base} "{tmp_path / "b.jsonl"}" 2>&-'], stdout=subprocess.PIPE, timeout=300)
    assert no_stderr.returncode == 0 and b"coherence: error" not in no_stderr.stdout and b"records 3" in no_stderr.stdout
    assert len(read_output(tmp_path / "a.jsonl")) == 3 and len(read_output(tmp_path / "b.jsonl")) == 3

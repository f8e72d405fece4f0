"""Batch scoring: every input record exactly once, in order; bad records get errors; resume."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from coherence.engines.local import score_file, summary_path
from coherence.cli import main
from coherence.io.fields import InputError
from coherence.io.writers import open_writer
from conftest import read_output, write_jsonl

CHUNK = 8  # small scoring chunks, so a short corpus spans many blocks


def corpus(article_texts: dict[str, str], n: int) -> list[dict[str, Any]]:
    """n distinct records: the fixture articles, each time with one other line left out."""
    texts = [article_texts[name] for name in sorted(article_texts)]
    records = []
    for i in range(n):
        lines = texts[i % len(texts)].splitlines()
        drop = 1 + (i // len(texts)) % (len(lines) - 1)
        records.append({"doc": f"doc-{i:04d}", "text": "\n".join(lines[:drop] + lines[drop + 1 :]), "source": i % 3})
    return records


def test_a_json_value_that_is_not_an_object_is_named_in_json_words(tmp_path):
    from coherence.io.fields import InputFile, RecordFields
    from coherence.io.file_readers import read_file

    source = tmp_path / "in.jsonl"
    source.write_text('null\n42\n"a story"\ntrue\n[1]\n{"text": false}\n', encoding="utf-8")
    errors = [r.error for r in read_file(InputFile(source, "jsonl", "in.jsonl"), RecordFields())]
    assert errors == [
        "line 1 of in.jsonl is JSON null, not an object",  # once "a JSON NoneType"
        "line 2 of in.jsonl is a JSON number, not an object",  # "a JSON int"
        "line 3 of in.jsonl is a JSON string, not an object",  # "a JSON str"
        "line 4 of in.jsonl is JSON true, not an object",  # "a JSON bool"
        "line 5 of in.jsonl is a JSON list, not an object",
        "'text' is a boolean, not text",  # "a number"
    ]


@pytest.mark.parametrize(
    "option, words",
    [
        ({"keep_fields": "url"}, "list of field names"),  # once kept as fields u, r and l, all null, url dropped
        ({"text_field": ""}, "--text-field"),  # once an error record for every record
        ({"text_field": None}, "--text-field"),
        ({"workers": "2"}, "--workers"),  # once "'<' not supported"
    ],
)
def test_score_file_refuses_arguments_that_would_run_wrong(tmp_path, option, words):
    source = write_jsonl(tmp_path / "in.jsonl", [{"id": 1, "url": "https://example.org/a", "text": "A story."}])
    with pytest.raises(InputError, match=words):
        score_file(source, tmp_path / "out.jsonl", **option)
    assert not (tmp_path / "out.jsonl").exists()


@pytest.fixture()
def small_detector(make_detector):
    return make_detector(articles_per_batch=CHUNK)


def test_bad_records_get_errors_and_keep_their_place(tmp_path, detector, article_texts):
    good = corpus(article_texts, 3)
    lines = [
        json.dumps(good[0]),
        "{not json",
        json.dumps({"doc": "no-text"}),
        json.dumps({"doc": "null", "text": None}),
        json.dumps({"doc": "number", "text": 42}),
        json.dumps({"doc": "empty", "text": "   \n "}),
        json.dumps({"doc": "control", "text": good[1]["text"].replace(" ", "\x00 ", 3) + "\x1b[31m"}),
        json.dumps({"doc": "huge", "text": "All work and no play. " * 20_000}),
        json.dumps([1, 2, 3]),
        "",
        json.dumps(good[2]),
    ]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = score_file(source, tmp_path / "out.jsonl", id_field="doc", max_chars=100_000, detector=detector)
    out = read_output(tmp_path / "out.jsonl")
    assert len(out) == 10  # the blank line is not a record; every other line is
    errors = {r["id"]: r["error"] for r in out if r["id"] is not None}
    assert errors["doc-0000"] is None and errors["doc-0002"] is None
    assert out[1]["id"] is None and "not valid JSON" in out[1]["error"] and "line 2" in out[1]["error"]
    assert "missing or null" in errors["no-text"] and "missing or null" in errors["null"]
    assert "number" in errors["number"] and "empty" in errors["empty"]
    assert errors["control"] is None  # control characters are cleaned, the text is scored
    assert "100,000" in errors["huge"]
    assert out[8]["id"] is None and "JSON list" in out[8]["error"]
    control = next(r for r in out if r["id"] == "control")
    assert control["n_sentences"] > 3 and control["coherence"] is not None
    assert (report["records"], report["errors"], report["scored"]) == (10, 7, 3)
    assert json.loads(summary_path(tmp_path / "out.jsonl").read_text())["errors"] == 7


def test_formats_carry_ids_and_fields_alike(tmp_path, small_detector, article_texts):
    records = corpus(article_texts, 20)
    jsonl = write_jsonl(tmp_path / "in.jsonl", records)
    parquet = tmp_path / "in.parquet"
    pq.write_table(pa.Table.from_pylist(records), parquet)
    csv = tmp_path / "in.csv"
    import pyarrow.csv as pcsv

    pcsv.write_csv(pa.Table.from_pylist(records), csv)  # texts hold newlines and commas
    outputs = {}
    for name, source in {"jsonl": jsonl, "parquet": parquet, "csv": csv}.items():
        for suffix in ("jsonl", "jsonl.gz", "parquet"):
            target = tmp_path / f"{name}-out.{suffix}"
            score_file(source, target, id_field="doc", keep_fields=["source"], detector=small_detector)
            outputs[name, suffix] = read_output(target)
    reference = outputs["jsonl", "jsonl"]
    assert [r["id"] for r in reference] == [r["doc"] for r in records]
    assert [r["source"] for r in reference] == [r["source"] for r in records]
    assert sum(r["n_flagged"] for r in reference) > 0
    for key, out in outputs.items():
        assert out == reference, key


def test_folder_ids_are_relative_paths(tmp_path, detector, article_texts):
    folder = tmp_path / "articles"
    (folder / "nested").mkdir(parents=True)
    for k, (name, text) in enumerate(sorted(article_texts.items())):
        (folder / ("nested" if k % 2 else ".") / name).write_text(text, encoding="utf-8")
    (folder / "nested" / "blank.txt").write_text("\n\n", encoding="utf-8")
    (folder / "notes.md").write_text("not an article", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    report = score_file(folder, out, detector=detector)
    records = read_output(out)
    assert [r["id"] for r in records] == sorted(str(p.relative_to(folder).as_posix()) for p in folder.rglob("*.txt"))
    assert [r["id"] for r in records if r["error"]] == ["nested/blank.txt"]
    assert report["text"].endswith("ids: each text file's path in its folder")  # not "record positions"


def test_existing_output_is_never_overwritten(tmp_path, detector, article_texts, capsys):
    source = write_jsonl(tmp_path / "in.jsonl", corpus(article_texts, 2))
    out = tmp_path / "out.jsonl"
    out.write_text("precious\n", encoding="utf-8")
    with pytest.raises(InputError, match="already exists"):
        score_file(source, out, detector=detector)
    assert out.read_text() == "precious\n"
    assert main(["batch", str(source), "-o", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.jsonl"], "no such file"),
        (["in.txt"], "cannot tell the format"),
        (["in.parquet", "--text-field", "body"], "no column 'body'"),
        (["in.parquet", "--keep-fields", "error"], "would overwrite"),
        (["in.parquet", "-o", "out.csv"], "output format"),
        (["in.parquet", "-o", "nowhere/out.jsonl"], "no folder"),
    ],
)
def test_fatal_problems_give_one_line_and_exit_2(tmp_path, args, message, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    pq.write_table(pa.Table.from_pylist([{"text": "One. Two."}]), tmp_path / "in.parquet")
    (tmp_path / "in.txt").write_text("text", encoding="utf-8")
    if "-o" not in args:
        args = [*args, "-o", "out.jsonl"]
    assert main(["batch", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_resume_refuses_other_settings(tmp_path, small_detector, make_detector, article_texts):
    source = write_jsonl(tmp_path / "in.jsonl", corpus(article_texts, 10))
    out = tmp_path / "out.jsonl"
    score_file(source, out, detector=small_detector)
    with pytest.raises(InputError, match="detector.threshold differs from the run that wrote it"):
        score_file(source, out, resume=True, detector=make_detector(articles_per_batch=CHUNK, threshold=0.5))
    again = score_file(source, out, resume=True, detector=small_detector)  # same job, already complete: nothing to do
    assert again["records"] == 10 and again["resumed_after"] == 10 and again["this_run"]["records"] == 0
    assert read_output(out) == read_output(out)[:10] and len(read_output(out)) == 10


def test_resume_accepts_a_run_from_before_backends_and_tiers_and_another_cache_size(tmp_path, small_detector, make_detector, article_texts):
    source = write_jsonl(tmp_path / "in.jsonl", corpus(article_texts, 10))
    out = tmp_path / "out.jsonl"
    score_file(source, out, detector=small_detector)
    summary = json.loads(summary_path(out).read_text())
    del summary["settings"]["detector"]["backend"]  # as written before the backend option existed
    del summary["settings"]["detector"]["speed"]  # ... and before the fast tier
    summary_path(out).write_text(json.dumps(summary))
    resumed = make_detector(articles_per_batch=CHUNK, embedding_cache=5)  # the cache changes no record
    assert score_file(source, out, resume=True, detector=resumed)["records"] == 10
    with pytest.raises(InputError, match="backend"):
        score_file(source, out, resume=True, detector=make_detector(articles_per_batch=CHUNK, backend="onnx"))


def output_rows(n: int) -> list[dict[str, Any]]:
    return [{"id": i, "coherence": 0.5, "passed": True, "n_sentences": 1, "n_flagged": 0, "flags": [], "error": None} for i in range(n)]


def write_blocks(path: Path, rows: list[dict[str, Any]], block: int = 4) -> list[dict[str, Any]]:
    """Commit `rows` through a new writer without finishing it; the states it reported."""
    states: list[dict[str, Any]] = []
    open_writer(path, block=block, on_commit=states.append).add(rows)
    return states


@pytest.mark.parametrize("suffix", ["jsonl", "jsonl.gz", "parquet"])
def test_torn_output_is_cut_back_to_the_last_recorded_commit(tmp_path, suffix):
    path = tmp_path / f"out.{suffix}"
    rows = output_rows(10)
    states = write_blocks(path, rows[:8])  # two whole blocks committed
    assert [s["records"] for s in states] == [0, 4, 8]  # recorded before the file exists, then per block
    if suffix == "jsonl":
        with path.open("ab") as handle:
            handle.write(b'{"id": 8, "coherence": 0.5}\n{"id": 9, "coh')  # a torn third block
    elif suffix == "jsonl.gz":
        with path.open("ab") as handle:
            handle.write(gzip.compress(b'{"id": 8}\n{"id": 9}\n')[:-7])  # a torn gzip member
    else:
        (tmp_path / "out.parquet.parts" / "part-000002.tmp").write_bytes(b"PAR1 torn")
    resumed = open_writer(path, block=4, resume_from=states[-1])
    assert resumed.committed == 8
    assert [r["id"] for r in resumed.existing()] == list(range(8))
    resumed.add(rows[8:])
    resumed.finish()
    assert [r["id"] for r in read_output(path)] == list(range(10))


@pytest.mark.parametrize("suffix", ["jsonl", "jsonl.gz", "parquet"])
def test_a_writer_refuses_to_resume_an_output_that_changed(tmp_path, suffix):
    path = tmp_path / f"out.{suffix}"
    states = write_blocks(path, output_rows(8))
    target = path if suffix != "parquet" else tmp_path / "out.parquet.parts" / "part-000000.parquet"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 1  # one bit flipped in the first block
    target.write_bytes(bytes(data))
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    with pytest.raises(InputError, match="not the output the earlier run left"):
        open_writer(path, block=4, resume_from=states[-1])
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before


KILL_SCRIPT = """
import sys
import coherence.engines.local
from coherence.engines.local import score_file
coherence.engines.local.PARQUET_CHUNKS_PER_PART = 2  # small Parquet parts, so a short corpus spans several
source, out, resume, chunk = sys.argv[1:]
score_file(source, out, id_field="doc", keep_fields=["source"], resume=resume == "1", articles_per_batch=int(chunk))
"""


def _run_batch(source: Path, out: Path, resume: bool) -> subprocess.Popen:
    args = [sys.executable, "-c", KILL_SCRIPT, str(source), str(out), "1" if resume else "0", str(CHUNK)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    return subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _records_committed(out: Path) -> int:
    """Records the run's summary vouches for: what a resume keeps (a block written after the
    summary's last update is cut off and scored again)."""
    try:
        return int(json.loads(summary_path(out).read_text())["output_state"]["records"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0


@pytest.mark.parametrize("suffix", ["jsonl", "jsonl.gz", "parquet"])
def test_sigkill_midway_then_resume_gives_every_record_once(tmp_path, suffix, small_detector, article_texts, monkeypatch):
    records = corpus(article_texts, 8 * CHUNK)
    source = write_jsonl(tmp_path / "in.jsonl", records)
    out = tmp_path / f"out.{suffix}"
    process = _run_batch(source, out, resume=False)
    deadline = time.monotonic() + 120
    target = 2 * CHUNK  # two blocks (one Parquet part) are durable: kill mid-run
    while _records_committed(out) < target and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert process.poll() is None, "the run ended before it could be killed: " + process.stderr.read().decode()[-500:]
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    written = _records_committed(out)
    assert 0 < written < len(records)

    resumed = _run_batch(source, out, resume=True)
    assert resumed.wait(timeout=300) == 0, resumed.stderr.read().decode()[-2000:]
    got = read_output(out)
    expected = read_output(_reference(tmp_path, source, suffix, small_detector, monkeypatch))
    assert [r["id"] for r in got] == [r["doc"] for r in records]  # all, once, in order
    assert got == expected  # same scores and flags as a run never interrupted
    summary = json.loads(summary_path(out).read_text())
    assert summary["complete"] and summary["records"] == len(records) and summary["resumed_after"] >= written


def _reference(tmp_path: Path, source: Path, suffix: str, detector, monkeypatch) -> Path:
    path = tmp_path / f"reference.{suffix}"
    monkeypatch.setattr("coherence.engines.local.PARQUET_CHUNKS_PER_PART", 2)
    score_file(source, path, id_field="doc", keep_fields=["source"], detector=detector)
    return path


@pytest.mark.parametrize("backend", ["torch", "onnx"])
def test_two_workers_match_one(tmp_path, article_texts, backend):
    source = write_jsonl(tmp_path / "in.jsonl", corpus(article_texts, 40))
    outs = []
    for workers in (1, 2):
        out = tmp_path / f"out{workers}.jsonl"
        command = ["batch", str(source), "-o", str(out), "--workers", str(workers), "--id-field", "doc", "--backend", backend]
        assert main(command) == 0
        outs.append(read_output(out))
    assert outs[0] == outs[1] and len(outs[0]) == 40


def test_progress_bar_only_when_asked_or_on_a_terminal(tmp_path, detector, article_texts, capsys):
    source = write_jsonl(tmp_path / "in.jsonl", corpus(article_texts, 3))
    score_file(source, tmp_path / "quiet.jsonl", detector=detector)  # stderr is not a terminal here
    assert capsys.readouterr().err == ""
    score_file(source, tmp_path / "shown.jsonl", detector=detector, progress=True)
    err = capsys.readouterr().err
    assert "3/3" in err and "articles/s" in err


@pytest.mark.parametrize("option", ["id_field", "keep_fields", "site_field"])
def test_a_table_column_named_that_is_not_there_stops_the_run(tmp_path, detector, option):
    """A table's columns are known: a mistyped id, site or kept column is a typo, which would
    give every record a null id or field without a word."""
    source = tmp_path / "in.csv"
    source.write_text("doc_id,text\na,The council met on Monday.\n", encoding="utf-8")
    value = ["doc"] if option == "keep_fields" else "doc"
    with pytest.raises(InputError, match="in.csv has no column 'doc' \\(columns: doc_id, text\\); check --"):
        score_file(source, tmp_path / "out.jsonl", detector=detector, **{option: value})
    assert not (tmp_path / "out.jsonl").exists()


def test_a_column_some_tables_lack_is_taken_and_the_default_id_never_required(tmp_path, detector):
    """Several tables: a named column that one of them has is fine (the others' records get
    null), and the `id` column found in the first input is not asked of the rest."""
    with_ids, without = tmp_path / "a.csv", tmp_path / "b.csv"
    with_ids.write_text("id,text,url\na1,The council met on Monday.,https://example.org/a1\n", encoding="utf-8")
    without.write_text("text\nThe ferry was late again.\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    score_file([with_ids, without], out, keep_fields=["url"], detector=detector)
    assert [(r["id"], r["url"]) for r in read_output(out)] == [("a1", "https://example.org/a1"), (None, None)]
    with pytest.raises(InputError, match="no input table has a column 'link'"):
        score_file([with_ids, without], tmp_path / "out2.jsonl", keep_fields=["link"], detector=detector)


def test_a_csv_of_malformed_rows_only_gives_an_error_record_each(tmp_path, detector):
    """Rows skipped where pyarrow yields no batch after them (every row of the file, or the
    last block) were dropped without a record."""
    source = tmp_path / "in.csv"
    source.write_text("id,text,url\na1,The council met on Monday.\nb2,The ferry was late.\n", encoding="utf-8")
    score_file(source, tmp_path / "out.jsonl", detector=detector)
    errors = [r["error"] for r in read_output(tmp_path / "out.jsonl")]
    assert errors == ["row 2 of in.csv has 2 columns, expected 3", "row 3 of in.csv has 2 columns, expected 3"]


def test_malformed_csv_row_becomes_an_error_record(tmp_path, detector, article_texts):
    text = next(iter(article_texts.values())).replace('"', "'")
    source = tmp_path / "in.csv"
    source.write_text(f'id,text\na,"{text}"\nb,too,many,cells\nc,"{text}"\n', encoding="utf-8")
    score_file(source, tmp_path / "out.jsonl", id_field="id", detector=detector)
    records = read_output(tmp_path / "out.jsonl")
    assert len(records) == 3  # never dropped
    bad = [r for r in records if r["error"]]
    assert len(bad) == 1 and "row 3 of in.csv has 4 columns, expected 2" in bad[0]["error"]
    assert sorted(r["id"] for r in records if not r["error"]) == ["a", "c"]

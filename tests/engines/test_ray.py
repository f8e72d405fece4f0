"""Ray Data: `score_dataset` on a Dataset, and `coherence batch --engine ray` against the local engine."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from conftest import ARTICLES_DIR, CLEAN_NAMES, PLANTED_NAMES

ray = pytest.importorskip("ray")

from coherence.engines.local import summary_path  # noqa: E402
from coherence.cli import main  # noqa: E402
from coherence.engines.ray import score_dataset  # noqa: E402
from coherence.io.schema import OUTPUT_FIELDS  # noqa: E402

BAD_ROWS = [
    ({"doc": "missing", "source": "bad"}, "'text' is missing or null"),
    ({"doc": "number", "text": 42, "source": "bad"}, "'text' is a number, not text"),
    ({"doc": "empty", "text": " \n ", "source": "bad"}, "'text' is empty"),
]


@pytest.fixture(scope="module")
def ray_cluster() -> Any:
    """A small local Ray cluster for this module only, shut down after its tests."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()


def off_topic_texts(record: dict[str, Any]) -> set[str]:
    return {span["text"] for span in record["flags"] if span["reason"] == "off_topic"}


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_score_dataset_gives_one_row_per_input(ray_cluster, article_texts, planted, detector):
    items = [{"doc": name, "text": text, "source": "fixture"} for name, text in article_texts.items()]
    items += [row for row, _ in BAD_ROWS]
    # One block: Ray itself cannot merge blocks whose "text" holds strings in one, a number in another.
    scored = score_dataset(ray.data.from_items(items, override_num_blocks=1), id_field="doc").materialize()

    schema = scored.schema().base_schema
    assert schema.names == [*OUTPUT_FIELDS, "doc", "source"]  # every input column but the text
    assert schema.field("coherence").type == pa.float64()
    assert schema.field("passed").type == pa.bool_()
    assert pa.types.is_list(schema.field("flags").type)
    rows = {row["id"]: row for row in scored.take_all()}
    assert Counter(row["id"] for row in scored.take_all()) == Counter(item["doc"] for item in items)

    for item, message in BAD_ROWS:
        row = rows[item["doc"]]
        assert (row["error"], row["coherence"], row["passed"], row["n_sentences"], row["flags"]) == (message, None, False, 0, [])
        assert (row["doc"], row["source"]) == (item["doc"], "bad")
    for name, text in article_texts.items():
        row = rows[name]
        assert row["error"] is None and row["source"] == "fixture"
        assert row["coherence"] == pytest.approx(detector.score(text).coherence, abs=2e-4)
        assert row["n_sentences"] > 0 and row["n_flagged"] == len(row["flags"])
        for span in row["flags"]:
            assert text[span["start"] : span["end"]] == span["text"]
    for name in PLANTED_NAMES:
        assert set(planted[name]["off_topic"]) <= off_topic_texts(rows[name]), rows[name]["flags"]
    for name in CLEAN_NAMES:
        assert not off_topic_texts(rows[name])


def test_cli_ray_engine_writes_what_the_local_engine_writes(ray_cluster, tmp_path, article_texts, planted, capsys):
    names = sorted(article_texts)
    lines = [json.dumps({"text": article_texts[name], "source": name}, ensure_ascii=False).encode() for name in names]
    lines[1:1] = [
        b"{not json",
        b"",  # blank lines are not records
        b"[1, 2]",
        json.dumps({"text": "", "source": "empty"}).encode(),
        # U+2028 and an invalid UTF-8 byte inside a JSON string: still one record, still text
        json.dumps({"text": "The bridge reopened on Monday.\u2028Traffic moved \udcff freely.", "source": "odd"}, ensure_ascii=False)
        .encode("utf-8", errors="surrogateescape"),
        json.dumps({"text": 7}).encode(),
    ]
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"\n".join(lines) + b"\n")
    inputs = [str(source), str(ARTICLES_DIR)]  # then a folder: ids are file names
    options = ["--keep-fields", "source"]
    ray_out, local_out = tmp_path / "ray.jsonl", tmp_path / "local.jsonl"

    assert main(["batch", *inputs, "-o", str(ray_out), "--engine", "ray", *options]) == 0
    ray_text = capsys.readouterr().out
    assert not ray.data.DataContext.get_current().execution_options.preserve_order  # restored
    assert main(["batch", *inputs, "-o", str(local_out), *options]) == 0
    local_text = capsys.readouterr().out

    records = read_jsonl(ray_out)
    assert records == read_jsonl(local_out)
    assert [r["id"] for r in records] == [*range(len(lines) - 1), *names]
    assert [r["error"] for r in records[1:6]] == [
        "line 2 of in.jsonl is not valid JSON (Expecting property name enclosed in double quotes)",
        "line 4 of in.jsonl is a JSON list, not an object",
        "'text' is empty",
        None,
        "'text' is a number, not text",
    ]
    assert records[4]["source"] == "odd" and records[4]["n_sentences"] == 2
    for record in records:
        if record["id"] in names or record["source"] in names:
            name = record["source"] or record["id"]
            assert record["error"] is None
            assert set(planted[name]["off_topic"]) <= off_topic_texts(record)

    ray_summary, local_summary = (json.loads(summary_path(p).read_text(encoding="utf-8")) for p in (ray_out, local_out))
    for summary in (ray_summary, local_summary):
        del summary["output"], summary["this_run"]
    assert ray_summary == local_summary
    assert ray_summary["records"] == len(records) and ray_summary["errors"] == 4
    assert ray_text.splitlines()[:-1] == local_text.splitlines()[:-1]  # all but the summary's path


def test_cli_ray_engine_extracts_html_pages_like_the_local_engine(ray_cluster, tmp_path, article_texts):
    pytest.importorskip("trafilatura")
    name = sorted(article_texts)[0]
    body = "".join(f"<p>{line}</p>" for line in article_texts[name].splitlines() if line.strip())
    page = f"<!DOCTYPE html><html><head><title>t</title></head><body><nav><a href='/'>Home</a></nav><article>{body}</article></body></html>"
    source = tmp_path / "pages.jsonl"
    rows = [{"html": page, "source": name}, {"html": "<html><body></body></html>", "source": "blank"}]
    source.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    ray_out, local_out = tmp_path / "ray.jsonl", tmp_path / "local.jsonl"
    options = ["--html-field", "html", "--keep-fields", "source"]

    assert main(["batch", str(source), "-o", str(ray_out), "--engine", "ray", *options]) == 0
    assert main(["batch", str(source), "-o", str(local_out), *options]) == 0
    records = read_jsonl(ray_out)
    assert records == read_jsonl(local_out)
    assert records[0]["error"] is None and records[0]["n_sentences"] > 3
    assert "Home" not in records[0]["extracted_text"]
    assert records[1]["error"] and records[1]["coherence"] is None


def test_cli_ray_engine_refuses_site_counts(tmp_path, capsys):
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"text": "A line.", "url": "https://example.org/a"}) + "\n", encoding="utf-8")
    assert main(["batch", str(source), "-o", str(tmp_path / "out.jsonl"), "--engine", "ray", "--site-field", "url"]) == 2
    assert "--site-field works with the local engine only" in capsys.readouterr().err

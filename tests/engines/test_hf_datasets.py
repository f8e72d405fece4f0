"""The Hugging Face `datasets` engine: every row scored as `coherence batch` scores it, none dropped."""

from __future__ import annotations

import os
import sys
from typing import Any

import pytest

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")  # in-memory datasets only: nothing may ask the hub
datasets = pytest.importorskip("datasets")

from coherence import Detector  # noqa: E402
from coherence.engines.hf_datasets import score_dataset  # noqa: E402
from coherence.engines.local import score_file  # noqa: E402
from coherence.io.schema import OUTPUT_FIELDS  # noqa: E402
from conftest import ARTICLE_NAMES, read_article, read_output, write_jsonl  # noqa: E402


@pytest.fixture(scope="module")
def det(make_detector) -> Detector:
    """The session's bundled model, shared: loaded once for the whole suite (building the fast
    tier's token table in the session's fresh cache would take longer than these tests)."""
    return make_detector()


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return [read_article(name) for name in ARTICLE_NAMES]


def output(row: dict[str, Any]) -> dict[str, Any]:
    return {name: row[name] for name in OUTPUT_FIELDS}


def test_rows_get_the_records_of_score_many(det, make_detector, texts):
    ds = datasets.Dataset.from_dict({"text": texts, "source": [f"feed-{i}" for i in range(len(texts))]})
    scored = score_dataset(ds, detector=det, batch_size=3)
    expected = list(make_detector().score_many(texts))
    assert scored.num_rows == len(texts)
    assert scored["text"] == texts and scored["source"] == ds["source"]  # original columns kept, in order
    assert scored.column_names == ["text", "source", *OUTPUT_FIELDS]
    for i, (row, result) in enumerate(zip(scored, expected)):
        assert row["error"] is None and row["coherence"] is not None
        assert output(row) == {**result.to_dict(), "id": i}  # scores, verdict, counts and flags alike
    assert any(row["n_flagged"] for row in scored)  # the planted articles have flags to compare


def test_bad_texts_get_errors_and_keep_their_rows(det, texts):
    ds = datasets.Dataset.from_dict({"text": [texts[0], None, "  \n ", texts[1], None], "n": [0, 1, 2, 3, 4]})
    scored = score_dataset(ds, detector=det, batch_size=4)  # the last batch holds only an error row
    assert scored.num_rows == 5 and scored["n"] == [0, 1, 2, 3, 4] and scored["id"] == [0, 1, 2, 3, 4]
    errors = scored["error"]
    assert errors[0] is None and errors[3] is None
    assert "missing or null" in errors[1] and "missing or null" in errors[4] and "empty" in errors[2]
    failed = scored[4]
    assert failed["coherence"] is None and failed["passed"] is False and failed["flags"] == []
    assert failed["n_sentences"] == 0 and set(failed["counts"].values()) == {0}

    numbers = score_dataset(datasets.Dataset.from_dict({"text": [7, None]}), detector=det)  # an int column
    assert numbers.num_rows == 2 and numbers["text"] == [7, None]
    assert "a number, not text" in numbers["error"][0] and "missing or null" in numbers["error"][1]
    assert [numbers.features[n] for n in OUTPUT_FIELDS] == [scored.features[n] for n in OUTPUT_FIELDS]  # same types as text rows


def test_batch_size_does_not_change_the_output(det, texts):
    ds = datasets.Dataset.from_dict({"text": [*texts, None, *reversed(texts)]})
    outputs = [score_dataset(ds, detector=det, batch_size=size) for size in (1, 2, 64)]
    assert outputs[0].features == outputs[1].features == outputs[2].features  # types stable across batches
    assert outputs[0].to_list() == outputs[1].to_list() == outputs[2].to_list()


def test_columns_hold_what_coherence_batch_writes(tmp_path, det, texts):
    column = [*texts, None, "  "]
    score_file(write_jsonl(tmp_path / "in.jsonl", [{"text": t} for t in column]), tmp_path / "out.jsonl", progress=False, detector=det)
    scored = [output(row) for row in score_dataset(datasets.Dataset.from_dict({"text": column}), detector=det)]
    assert scored == read_output(tmp_path / "out.jsonl")  # ids (positions), scores, flags and errors alike


def test_an_id_column_is_the_records_id_and_left_as_it_is(det, texts):
    ds = datasets.Dataset.from_dict({"id": ["a", "b"], "body": texts[:2]})
    scored = score_dataset(ds, text_field="body", detector=det)
    assert scored["id"] == ["a", "b"] and scored.features["id"] == ds.features["id"]
    assert scored.column_names == ["id", "body", *OUTPUT_FIELDS[1:]]
    assert scored["error"] == [None, None]


def test_empty_dataset_gets_the_columns(det):
    scored = score_dataset(datasets.Dataset.from_dict({"text": ["x"]}).select([]), detector=det)
    assert scored.num_rows == 0 and scored.column_names == ["text", *OUTPUT_FIELDS]


def test_refuses_what_it_cannot_do(det, monkeypatch):
    ds = datasets.Dataset.from_dict({"text": ["x"], "language": ["en"]})
    with pytest.raises(ValueError, match="language"):
        score_dataset(ds, detector=det)
    with pytest.raises(ValueError, match="no column 'body'"):
        score_dataset(ds, text_field="body", detector=det)
    with pytest.raises(ValueError, match="not both"):
        score_dataset(ds, detector=det, threshold=0.5)
    with pytest.raises(ValueError, match="threshold"):
        score_dataset(datasets.Dataset.from_dict({"text": ["x"]}), threshold=2.0)
    with pytest.raises(TypeError):
        score_dataset(datasets.Dataset.from_dict({"text": ["x"]}), no_such_option=1)
    monkeypatch.setitem(sys.modules, "datasets", None)  # as if not installed
    with pytest.raises(ImportError, match=r'pip install "coherence\[datasets\]"$'):
        score_dataset(ds, detector=det)

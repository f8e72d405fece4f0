"""The datatrove step: annotation, the coherence gate, cutting flagged spans, errors, pickling."""

from __future__ import annotations

import copy
import json
import os
import pickle
import subprocess
import sys
from typing import Any

import pyarrow.parquet as pq
import pytest

pytest.importorskip("datatrove")

from datatrove.data import Document  # noqa: E402
from datatrove.pipeline.writers import ParquetWriter  # noqa: E402

from coherence import ArticleResult, Detector  # noqa: E402
from coherence.engines.datatrove import CoherenceFilter, remove_spans  # noqa: E402
from coherence.io.schema import OUTPUT_FIELDS  # noqa: E402
from coherence.verdict import REASONS  # noqa: E402


def documents(article_texts: dict[str, str], *extra: Document) -> list[Document]:
    """Fresh Documents of the fixture articles (the step edits them in place)."""
    return [Document(text=text, id=name) for name, text in article_texts.items()] + list(extra)


def run(step: CoherenceFilter, docs: list[Document]) -> list[Document]:
    return list(step.run(iter(docs)))


def record(doc: Document) -> dict[str, Any]:
    return doc.metadata["coherence"]


def stat(step: CoherenceFilter, label: str) -> float:
    return step.stats[label].total if label in step.stats.stats else 0


def non_space(text: str) -> str:
    return "".join(text.split())


def without_spans(text: str, spans: list[tuple[int, int]]) -> str:
    """The non-whitespace characters of `text` outside `spans`."""
    inside = {i for start, end in spans for i in range(start, end)}
    return "".join(c for i, c in enumerate(text) if i not in inside and not c.isspace())


@pytest.fixture(scope="module")
def annotated(detector: Detector, article_texts: dict[str, str]) -> tuple[CoherenceFilter, list[Document]]:
    """Every fixture article through a default step (nothing dropped or cut)."""
    step = CoherenceFilter(detector=detector)
    return step, run(step, documents(article_texts))


# -- annotation -----------------------------------------------------------------------------------


def test_every_document_is_annotated_and_kept(annotated, article_texts, scored: dict[str, ArticleResult]):
    step, out = annotated
    assert [doc.id for doc in out] == list(article_texts)
    for doc in out:
        rec = record(doc)
        expected = scored[doc.id]
        assert set(OUTPUT_FIELDS) <= set(rec) and rec["id"] == doc.id and rec["error"] is None
        json.dumps(rec)  # JSON-serialisable as stored
        assert doc.text == article_texts[doc.id]  # nothing cut by default
        assert rec["removed"] == 0 and all(flag["removed"] is False for flag in rec["flags"])
        # the same verdicts as scoring the article alone (batched embedding may move the last digits)
        assert rec["coherence"] == pytest.approx(expected.coherence, abs=1e-3)
        assert rec["passed"] == expected.passed
        assert rec["counts"] == expected.counts
        assert [(f["start"], f["end"], f["reason"]) for f in rec["flags"]] == [
            (s.start, s.end, s.reason) for s in expected.flagged
        ]
        for flag in rec["flags"]:
            assert doc.text[flag["start"] : flag["end"]] == flag["text"]


def test_stats_count_flags_by_reason(annotated):
    step, out = annotated
    for reason in REASONS:
        assert stat(step, f"flagged_{reason}") == sum(record(doc)["counts"][reason] for doc in out)
    assert stat(step, "coherence_passed") == sum(record(doc)["passed"] for doc in out)
    assert stat(step, "coherence_failed") == sum(not record(doc)["passed"] for doc in out)
    assert stat(step, "coherence_errors") == 0


def test_detector_options_pass_through(detector, article_texts, annotated):
    _, reference = annotated
    coherences = sorted(record(doc)["coherence"] for doc in reference)
    threshold = (coherences[0] + coherences[-1]) / 2  # some articles on each side
    step = CoherenceFilter(model=detector.encoder, threshold=threshold)
    assert step.detector_.threshold == threshold
    out = run(step, documents(article_texts))
    passed = [record(doc)["passed"] for doc in out]
    assert any(passed) and not all(passed)
    for doc in out:
        assert record(doc)["passed"] == (record(doc)["coherence"] >= threshold)


def test_batches_give_the_same_records(detector, article_texts, annotated):
    _, reference = annotated
    step = CoherenceFilter(detector=detector, batch_size=3)
    out = run(step, documents(article_texts))
    assert stat(step, "batches") == 2
    for doc, ref in zip(out, reference):
        spans = [(f["start"], f["end"], f["reason"]) for f in record(doc)["flags"]]
        assert spans == [(f["start"], f["end"], f["reason"]) for f in record(ref)["flags"]]
        assert record(doc)["coherence"] == pytest.approx(record(ref)["coherence"], abs=1e-3)
    single = Document(text=article_texts[reference[0].id], id="one")
    assert step.filter(single) is True and record(single)["counts"] == record(reference[0])["counts"]


# -- the coherence gate ---------------------------------------------------------------------------


def test_drop_failed_drops_exactly_the_failed(detector, article_texts, annotated, tmp_path):
    _, reference = annotated
    failed = {doc.id for doc in reference if not record(doc)["passed"]}
    assert failed and failed != set(article_texts)  # the test means something
    empty = Document(text="", id="empty")
    writer = ParquetWriter(str(tmp_path))
    step = CoherenceFilter(detector=detector, drop_failed=True, remove_flagged=True, exclusion_writer=writer)
    out = run(step, documents(article_texts, empty))
    assert [doc.id for doc in out] == [name for name in article_texts if name not in failed] + ["empty"]
    assert all(record(doc)["passed"] for doc in out if doc.id != "empty")
    assert stat(step, "dropped_coherence_failed") == len(failed)
    written = [row for path in sorted(tmp_path.glob("*.parquet")) for row in pq.read_table(path).to_pylist()]
    assert {d["id"] for d in written} == failed
    for d in written:
        assert d["metadata"]["filter_reason"] == "coherence_failed"
        assert d["metadata"]["coherence"]["passed"] is False
        assert d["text"] == article_texts[d["id"]]  # dropped documents are saved uncut
        assert d["metadata"]["coherence"]["removed"] == 0


# -- errors ---------------------------------------------------------------------------------------


def test_unscorable_documents_are_kept_with_an_error(detector, article_texts, annotated):
    _, reference = annotated
    good = next(doc.id for doc in reference if record(doc)["passed"])
    bad = next(doc.id for doc in reference if not record(doc)["passed"])
    docs = [
        Document(text="", id="empty"),
        Document(text=article_texts[good], id=good),
        Document(text=article_texts[bad], id=bad),
        Document(text=" \n\t ", id="blank"),
    ]
    step = CoherenceFilter(detector=detector, drop_failed=True)  # an error is not a failed article
    out = run(step, docs)
    assert [doc.id for doc in out] == ["empty", good, "blank"]
    for doc in (docs[0], docs[3]):
        rec = record(doc)
        assert "empty" in rec["error"] and rec["id"] == doc.id
        assert rec["coherence"] is None and rec["passed"] is False and rec["flags"] == [] and rec["removed"] == 0
        json.dumps(rec)
    assert record(docs[1])["error"] is None and record(docs[1])["n_sentences"] > 0  # batch-mates are scored
    assert stat(step, "coherence_errors") == 2 and stat(step, "dropped_coherence_failed") == 1


def test_drop_errors(detector, article_texts):
    name, text = next(iter(article_texts.items()))
    docs = [Document(text="", id="empty"), Document(text=text, id=name), Document(text=text, id="long")]
    step = CoherenceFilter(detector=detector, drop_errors=True, max_chars=len(text) - 1)
    assert run(step, docs) == []  # both too long for max_chars, and the empty one
    assert "limit" in record(docs[1])["error"]
    step = CoherenceFilter(detector=detector, drop_errors=True)
    out = run(step, [Document(text="", id="empty"), Document(text=text, id=name)])
    assert [doc.id for doc in out] == [name]
    assert stat(step, "dropped_coherence_error") == 1


# -- cutting flagged sentences --------------------------------------------------------------------


def test_remove_flagged_cuts_planted_lines(detector, article_texts, planted):
    step = CoherenceFilter(detector=detector, remove_flagged=True)
    out = run(step, documents(article_texts))
    for doc in out:
        original, rec, plant = article_texts[doc.id], record(doc), planted[doc.id]
        assert rec["removed"] == rec["n_flagged"] and all(flag["removed"] for flag in rec["flags"])
        for flag in rec["flags"]:  # offsets still refer to the text as it was scored
            assert original[flag["start"] : flag["end"]] == flag["text"]
        if plant["clean"] and not rec["flags"]:
            assert doc.text == original
            continue
        for line in plant["off_topic"] + plant["boilerplate"]:
            assert line in original and line not in doc.text, line
        if plant["duplicate"]:
            assert doc.text.count(plant["headline"]) == 1  # the first copy stays
            assert doc.text.startswith(plant["headline"])
        # every character that was not flagged is still there, in order
        assert non_space(doc.text) == without_spans(original, [(f["start"], f["end"]) for f in rec["flags"]])
        # only the whitespace at the cuts changed: no runs the original did not have
        for run_ in ("\n\n\n", "  ", " \n", "\n "):
            assert (run_ in doc.text) <= (run_ in original), repr(run_)
        assert doc.text.endswith("\n") == original.endswith("\n")
        assert len(doc.text.split("\n\n")) < len(original.split("\n\n"))  # the planted lines were paragraphs
    assert stat(step, "removed_chars") == sum(len(article_texts[d.id]) - len(d.text) for d in out) > 0


def test_remove_flagged_only_some_reasons(detector, article_texts, planted):
    step = CoherenceFilter(detector=detector, remove_flagged=("boilerplate", "duplicate"))
    out = run(step, documents(article_texts))
    for doc in out:
        original, rec, plant = article_texts[doc.id], record(doc), planted[doc.id]
        cut = [f for f in rec["flags"] if f["reason"] in ("boilerplate", "duplicate")]
        assert rec["removed"] == len(cut) == rec["counts"]["boilerplate"] + rec["counts"]["duplicate"]
        assert all(f["removed"] == (f in cut) for f in rec["flags"])
        assert non_space(doc.text) == without_spans(original, [(f["start"], f["end"]) for f in cut])
        for line in plant["boilerplate"]:
            assert line not in doc.text
        for line in plant["off_topic"]:  # flagged, but not a reason to cut
            assert line in doc.text
    assert stat(step, "removed_off_topic") == 0 and stat(step, "removed_boilerplate") > 0


@pytest.mark.parametrize(
    ("text", "spans", "expected"),
    [
        ("One. Two. Three.", [(5, 9)], "One. Three."),  # inside a paragraph: one space
        ("One. Two.\n\nThree.", [(5, 9)], "One.\n\nThree."),  # at a paragraph's end: the break stays
        ("Head\n\nBy X\n\nBody.\n", [(6, 10)], "Head\n\nBody.\n"),  # a whole line
        ("Head\n\nBody.\n\nShare this\n", [(13, 23)], "Head\n\nBody.\n"),  # the last line
        ("By X\n\nHead\n\nBody.", [(0, 4)], "Head\n\nBody."),  # the first line
        ("A b. Stray. \n\n.\n\nC d.", [(5, 11), (14, 15)], "A b.\n\nC d."),  # cuts joined over whitespace
        ("A. B. C.", [(3, 5), (3, 5)], "A. C."),  # the same span twice
        ("A. B. C.", [(6, 8), (0, 2)], "B."),  # unsorted
        ("A.\r\nB.\r\nC.", [(4, 6)], "A.\r\nC."),
        ("Line one.\nCut.   Next.", [(10, 14)], "Line one.\nNext."),  # a line break beats more spaces
        ("Only this.", [(0, 10)], ""),
        ("Keep all.", [], "Keep all."),
        ("Keep all.", [(4, 4)], "Keep all."),
    ],
)
def test_remove_spans(text, spans, expected):
    assert remove_spans(text, spans) == expected


def test_remove_spans_rejects_spans_outside_the_text():
    with pytest.raises(ValueError):
        remove_spans("short", [(2, 9)])
    with pytest.raises(ValueError):
        remove_spans("short", [(3, 1)])


# -- options, pickling, imports -------------------------------------------------------------------


def test_bad_options_fail_when_the_step_is_built(detector):
    with pytest.raises(ValueError, match="not both"):
        CoherenceFilter(detector=detector, threshold=0.5)
    with pytest.raises(ValueError, match="unknown reason"):
        CoherenceFilter(detector=detector, remove_flagged=("boilerplate", "offtopic"))
    with pytest.raises(ValueError, match="flag_rate"):
        CoherenceFilter(model=detector.encoder, flag_rate=0.9)
    with pytest.raises(TypeError):
        CoherenceFilter(treshold=0.5)


def test_remove_flagged_takes_one_reason_by_name(detector, article_texts, planted):
    name = next(n for n in article_texts if planted[n]["boilerplate"])
    doc = Document(text=article_texts[name], id=name)
    step = CoherenceFilter(detector=detector, remove_flagged="boilerplate")
    assert step.remove_flagged == "boilerplate"
    assert run(step, [doc]) == [doc]
    rec = record(doc)
    assert rec["removed"] == rec["counts"]["boilerplate"] > 0
    assert [f["reason"] for f in rec["flags"] if f["removed"]] == ["boilerplate"] * rec["removed"]


def _loaded(encoder):
    """The encoder's loaded model (sentence-transformers) or session (onnxruntime), or None;
    through an embedding cache."""
    encoder = getattr(encoder, "encoder", encoder)
    return getattr(encoder, "model_", None) or getattr(encoder, "session_", None)


def test_step_pickles_without_the_model(detector, make_detector, article_texts, annotated):
    _, reference = annotated
    step = CoherenceFilter(detector=make_detector(), remove_flagged=("duplicate",))
    before = pickle.dumps(step)
    run(step, documents(article_texts))
    after = pickle.dumps(step)
    assert _loaded(step.detector_.encoder) is not None  # the model was loaded and used
    assert max(len(before), len(after)) < 1_000_000  # the model weighs 20-90 MB
    restored = pickle.loads(after)
    params, restored_params = step.detector.get_params(), restored.detector.get_params()
    assert _loaded(restored_params.pop("model")) is None  # an unloaded encoder of the same model
    inner = [getattr(m, "encoder", m) for m in (restored.detector.model, params.pop("model"))]
    assert inner[0].model == inner[1].model and restored_params == params
    assert (restored.remove_flagged, restored.batch_size, restored.drop_failed) == (("duplicate",), 64, False)
    assert _loaded(step.detector_.encoder) is not None  # pickling did not unload the original
    # the restored step scores like the original
    out = run(restored, documents(article_texts))
    assert [record(doc)["counts"] for doc in out] == [record(doc)["counts"] for doc in reference]
    # options given as keywords, a loaded encoder among them
    keyworded = CoherenceFilter(model=detector.encoder, threshold=0.5)
    run(keyworded, documents(article_texts))
    assert len(pickle.dumps(keyworded)) < 1_000_000
    assert pickle.loads(pickle.dumps(keyworded)).detector_.threshold == 0.5
    assert len(pickle.dumps(CoherenceFilter())) < 1_000_000  # default model: nothing loaded yet


def test_deepcopy_shares_the_loaded_detector(annotated):
    step, _ = annotated
    clone = copy.deepcopy(step)  # datatrove's local executor copies the pipeline for each task
    assert clone.detector_ is step.detector_
    assert clone.stats is not step.stats


def test_importing_coherence_does_not_import_datatrove():
    code = "import sys, coherence, coherence.io.records, coherence.engines.local; assert 'datatrove' not in sys.modules"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


def test_runs_in_a_datatrove_executor(detector, article_texts, annotated, tmp_path):
    from datatrove.executor import LocalPipelineExecutor

    _, reference = annotated
    passed = [doc.id for doc in reference if record(doc)["passed"]]
    seen: list[Document] = []

    def collect(data, rank: int = 0, world_size: int = 1):
        for doc in data:
            seen.append(doc)
            yield doc

    step = CoherenceFilter(detector=detector, drop_failed=True)
    executor = LocalPipelineExecutor(
        pipeline=[documents(article_texts), step, collect], tasks=1, workers=1, logging_dir=str(tmp_path / "logs")
    )
    stats = executor.run()
    assert [doc.id for doc in seen] == passed
    assert all(record(doc)["passed"] and record(doc)["error"] is None for doc in seen)
    step_stats = next(s for s in stats.stats if s.name == str(step))
    assert step_stats["dropped_coherence_failed"].total == len(reference) - len(passed)

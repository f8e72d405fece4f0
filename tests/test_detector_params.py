"""The Detector on scikit-learn terms, the one encoder factory and the one output schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import read_article, read_output, write_jsonl

from coherence import Detector
from coherence.build import ready_detector
from coherence.encoders.caching import CachingEncoder
from coherence.encoders.factory import make_encoder
from coherence.encoders.onnx_encoder import OnnxEncoder
from coherence.encoders.torch_encoder import SentenceEncoder
from coherence.models.leftovers import LeftoverModel
from coherence.models.intrusion import IntrusionModel
from coherence.io.schema import OUTPUT_FIELDS, SPAN_FIELDS, TYPED_FIELDS, arrow_schema

TEXT = "The river rose overnight. The town closed the barrier. Rain fell for days. Families left by boat."


def test_constructor_only_stores_and_first_use_checks():
    detector = Detector(threshold=7.0, backend="gpu")  # type: ignore[arg-type]
    assert detector.threshold == 7.0 and not hasattr(detector, "encoder_")
    assert set(vars(Detector())) == set(Detector().get_params())  # __init__ stores its arguments, nothing else
    with pytest.raises(ValueError, match="threshold"):
        detector.score(TEXT)
    with pytest.raises(ValueError, match="threshold"):
        detector.score_many([TEXT])  # before the first article, not inside the stream
    with pytest.raises(ValueError, match="threshold"):
        ready_detector({"threshold": 7.0})


@pytest.mark.parametrize(
    "name, value, error",
    [
        ("articles_per_batch", 0, ValueError),  # once an empty stream: every record silently dropped
        ("articles_per_batch", -3, ValueError),
        ("articles_per_batch", None, TypeError),
        ("batch_size", 0, ValueError),
        ("min_sentences", -1, ValueError),
        ("min_sentences", "4", TypeError),
        ("min_confidence", float("nan"), ValueError),
        ("min_confidence", "x", TypeError),
        ("embedding_cache", None, TypeError),
        ("threads", "2", TypeError),
        ("threads", 1.5, TypeError),
        ("flag_rate", "0.05", TypeError),
        ("off_topic_threshold", "0.5", TypeError),
        ("threshold", True, TypeError),
        ("leftovers", "no", TypeError),
        ("model", None, TypeError),
        ("model", 3, TypeError),
    ],
)
def test_a_bad_option_is_refused_by_name_before_any_article(name, value, error):
    class Encoder:
        def encode(self, sentences):
            raise AssertionError("nothing may be embedded")

    options = {"model": Encoder(), "reader": "never", "page_reader": "never", name: value}
    with pytest.raises(error, match=name):
        list(Detector(**options).score_many([TEXT, TEXT]))


def test_a_model_path_object_is_taken_as_its_path(tmp_path):
    from coherence.encoders.base import default_model_path

    options = {"backend": "torch", "reader": "never", "page_reader": "never"}
    as_path = Detector(model=default_model_path(), **options)
    assert as_path.score(TEXT).to_dict() == Detector(model=str(default_model_path()), **options).score(TEXT).to_dict()
    assert as_path.get_params()["model"] == default_model_path()  # kept as given (scikit-learn's rule)


def test_repr_shows_the_arguments_that_differ_from_the_defaults():
    assert repr(Detector()) == "Detector()"
    assert repr(Detector(threshold=0.7, reader="never")) == "Detector(threshold=0.7, reader='never')"
    detector = Detector(threshold=0.7)
    detector.set_params(threshold=Detector().threshold)
    assert repr(detector) == "Detector()"


def test_set_params_round_trips_and_refuses_unknown_names(make_detector):
    detector = make_detector()
    params = detector.get_params()
    assert detector.set_params(threshold=0.5) is detector and detector.threshold == 0.5
    assert detector.get_params() == {**params, "threshold": 0.5}
    with pytest.raises(ValueError, match="unknown Detector parameter"):
        detector.set_params(treshold=0.5)
    clone = Detector(**detector.get_params())
    assert clone.score(TEXT).to_dict() == detector.score(TEXT).to_dict()


def test_set_params_drops_an_encoder_built_from_old_settings():
    detector = Detector(embedding_cache=0)
    assert isinstance(detector.encoder, OnnxEncoder)  # the default backend
    detector.set_params(embedding_cache=10)
    assert isinstance(detector.encoder, CachingEncoder)
    detector.set_params(threshold=0.3)  # not an encoder setting: the encoder stays
    assert isinstance(detector.encoder, CachingEncoder)


def test_one_factory_and_no_silently_ignored_backend():
    assert isinstance(make_encoder("all-MiniLM-L6-v2", "torch", embedding_cache=5), CachingEncoder)
    bare = make_encoder("all-MiniLM-L6-v2", "torch", threads=1)
    assert isinstance(bare, SentenceEncoder) and bare.threads == 1
    assert isinstance(make_encoder("all-MiniLM-L6-v2", None), OnnxEncoder)  # None: the default, int8
    with pytest.raises(ValueError, match="speed='default' only"):
        make_encoder("all-MiniLM-L6-v2", "onnx", "fast")
    with pytest.raises(ValueError, match="speed='default' only"):
        Detector(backend="torch", speed="fast").check_params()


def test_reader_is_refused_where_it_cannot_read():
    for always in (True, "always"):
        with pytest.raises(ValueError, match="reader='always'"):
            Detector(reader=always, speed="fast").check_params()
        with pytest.raises(ValueError, match="reader='always'"):
            Detector(reader=always, model="some/other-model").check_params()
    with pytest.raises(ValueError, match="reader must be one of 'auto', 'always', 'never'"):
        Detector(reader="sometimes").check_params()
    with pytest.raises(ValueError, match="page_reader must be one of 'auto', 'always', 'never'"):
        Detector(page_reader="sometimes").check_params()


def test_reader_auto_reads_with_the_bundled_model_at_the_default_speed_only():
    assert Detector(reader=False).article_reading is None and Detector(reader="never").article_reading is None
    assert Detector(speed="fast").article_reading is None  # auto: the fast tier runs no transformer pass
    stack = IntrusionModel.default().reader
    if stack is not None:
        assert Detector(reader=True).article_reading == "always"
        assert Detector().article_reading == ("auto" if stack.reads_in_doubt else None)


def test_page_reader_auto_reads_at_the_default_speed_only():
    assert not Detector(page_reader="never").uses_page_reader and Detector(page_reader="never").page_reading() is None
    assert not Detector(speed="fast").uses_page_reader  # auto: the fast tier runs no transformer pass
    assert not Detector(leftovers=False, page_reader="always").uses_page_reader
    if LeftoverModel.default().reader is not None:
        assert Detector().uses_page_reader and Detector(speed="fast", page_reader="always").uses_page_reader
        assert Detector(leftover_threshold=0.9).page_reading().cut == 0.9  # a user's cut holds on read pages too


def test_output_schema_is_the_record_and_the_parquet_columns(detector, tmp_path: Path):
    record = detector.score(read_article("hospital_opening.txt") + "\n\nShare this article").to_dict()
    assert tuple(record) == OUTPUT_FIELDS
    assert all(tuple(span) == SPAN_FIELDS for span in record["flags"]) and record["flags"]
    assert tuple(arrow_schema().names) == TYPED_FIELDS == OUTPUT_FIELDS[1:]
    import pyarrow.parquet as pq

    from coherence.engines.local import score_file

    source = write_jsonl(tmp_path / "in.jsonl", [{"text": TEXT}, {"text": 3}])
    score_file(source, tmp_path / "out.parquet", detector=detector, progress=False)
    written = pq.read_schema(tmp_path / "out.parquet")
    assert [written.field(n).type for n in TYPED_FIELDS] == [arrow_schema().field(n).type for n in TYPED_FIELDS]


@pytest.mark.parametrize("with_ids", [True, False])
def test_batch_ids_come_from_the_records_id_field_when_they_have_one(detector, tmp_path: Path, with_ids: bool):
    from coherence.engines.local import score_file

    rows = [{"id": f"doc-{k}", "text": TEXT} if with_ids else {"text": TEXT} for k in range(3)]
    source = write_jsonl(tmp_path / "in.jsonl", rows)
    summary = score_file(source, tmp_path / "out.jsonl", detector=detector, progress=False)
    ids = [r["id"] for r in read_output(tmp_path / "out.jsonl")]
    assert ids == (["doc-0", "doc-1", "doc-2"] if with_ids else [0, 1, 2])
    assert summary["settings"]["id_field"] == ("id" if with_ids else None)
    assert ("the records' 'id' field" in summary["text"]) == with_ids
    assert ("record positions" in summary["text"]) != with_ids
    stored = json.loads((tmp_path / "out.jsonl.summary.json").read_text())
    assert stored["settings"]["id_field"] == summary["settings"]["id_field"]


def test_missing_extras_fail_with_the_line_that_installs_them(monkeypatch, tmp_path: Path):
    import sys

    from coherence.engines.hf_datasets import score_dataset
    from coherence.engines.ray import score_file_with_ray

    monkeypatch.setitem(sys.modules, "datasets", None)  # import fails as if not installed
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(ImportError, match=r'^score_dataset needs datasets .*: pip install "coherence\[datasets\]"$'):
        score_dataset(None)  # type: ignore[arg-type]
    with pytest.raises(ImportError, match=r'pip install "coherence\[ray\]"$'):
        score_file_with_ray([tmp_path / "in.jsonl"], tmp_path / "out.jsonl")


@pytest.mark.parametrize("backend, speed", [(None, "default"), ("onnx", "default"), (None, "fast")])
@pytest.mark.parametrize("cache", [0, 100])
def test_every_built_encoder_names_its_space_and_prepares(backend, speed, cache):
    from coherence.encoders import ModelEncoder

    encoder = make_encoder("sentence-transformers/all-MiniLM-L6-v2", backend, speed, embedding_cache=cache)
    assert isinstance(encoder, ModelEncoder) and encoder.vector_space.endswith("all-MiniLM-L6-v2")  # fast: "static:..."

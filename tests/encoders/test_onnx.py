"""The int8 ONNX backend: built locally into the cache, rebuilt when stale, close to fp32."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import SENTENCES

from coherence import Detector
from coherence.cli import main
from coherence.encoders.caching import CachingEncoder
from coherence.encoders.torch_encoder import SentenceEncoder
from coherence.encoders.model_cache import MANIFEST_FILE, cache_root, int8_model
from coherence.encoders.onnx_encoder import OnnxEncoder


@pytest.fixture(scope="module")
def onnx_encoder() -> OnnxEncoder:
    encoder = OnnxEncoder()
    encoder.prepare()
    return encoder


def test_cache_lives_under_the_configured_root(onnx_encoder: OnnxEncoder) -> None:
    assert onnx_encoder.built_ is not None
    assert cache_root() in onnx_encoder.built_.path.parents
    assert onnx_encoder.built_.path.stat().st_size > 1_000_000


def test_vectors_are_close_to_the_fp32_model(onnx_encoder: OnnxEncoder) -> None:
    fast = onnx_encoder.encode(SENTENCES)
    reference = SentenceEncoder().encode(SENTENCES)
    assert fast.shape == reference.shape == (len(SENTENCES), 384)
    np.testing.assert_allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-4)
    agreement = (fast * reference).sum(axis=1)
    assert agreement.min() > 0.95, agreement
    # the similarity structure survives quantisation: each sentence is nearest its own fp32 vector
    assert (np.argmax(fast @ reference.T, axis=1) == np.arange(len(SENTENCES))).all()


def test_a_sentence_gets_the_same_vector_whatever_comes_with_it(onnx_encoder: OnnxEncoder) -> None:
    whole = onnx_encoder.encode(SENTENCES)
    np.testing.assert_array_equal(whole[::-1], onnx_encoder.encode(SENTENCES[::-1]))
    for k, sentence in enumerate(SENTENCES):
        np.testing.assert_array_equal(whole[k], onnx_encoder.encode([sentence])[0])
    assert onnx_encoder.encode([]).shape == (0, 384)


def test_the_cached_graph_is_saved_fused_and_loads_to_the_same_vectors(onnx_encoder: OnnxEncoder) -> None:
    """The build saves the graph with the extended optimisations applied (a faster start);
    loading it with no optimisation at all must then compute what the default session does."""
    import onnx
    import onnxruntime

    assert onnx_encoder.built_ is not None
    path = onnx_encoder.built_.path
    ops = {node.op_type for node in onnx.load(str(path), load_external_data=False).graph.node}
    assert "MatMulInteger" not in ops and "DynamicQuantizeMatMul" in ops, sorted(ops)
    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
    plain = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    for sentence in SENTENCES[:4]:
        ids = np.asarray([onnx_encoder.tokenizer_.encode(sentence).ids], dtype=np.int64)
        inputs = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
        np.testing.assert_array_equal(plain.run(None, inputs)[0][0], onnx_encoder.encode([sentence])[0])


def test_an_intact_copy_is_reused_and_an_altered_one_rebuilt(onnx_encoder: OnnxEncoder) -> None:
    assert onnx_encoder.built_ is not None
    source = Path(onnx_encoder.built_.path)
    again = OnnxEncoder().prepare()
    assert again.path == source and not again.built
    manifest = json.loads((source.parent / MANIFEST_FILE).read_text())
    assert manifest["sha256"] and manifest["format"]
    original = source.read_bytes()
    source.write_bytes(original[: len(original) // 2])  # a truncated file no longer matches its checksum
    rebuilt = OnnxEncoder().prepare()
    assert rebuilt.built and rebuilt.path == source
    assert source.stat().st_size == len(original)


def test_a_manifest_without_a_file_stamp_is_checked_by_checksum_once(onnx_encoder: OnnxEncoder) -> None:
    assert onnx_encoder.built_ is not None
    source = Path(onnx_encoder.built_.path)
    manifest_path = source.parent / MANIFEST_FILE
    manifest = json.loads(manifest_path.read_text())
    assert manifest["size"] == source.stat().st_size and manifest["mtime_ns"] == source.stat().st_mtime_ns
    old_style = {k: v for k, v in manifest.items() if k not in ("size", "mtime_ns")}
    manifest_path.write_text(json.dumps({**old_style, "sha256": "0" * 64}))
    assert OnnxEncoder().prepare().built  # no stamp and a wrong checksum: rebuilt
    manifest_path.write_text(json.dumps(old_style | {"sha256": json.loads(manifest_path.read_text())["sha256"]}))
    assert not OnnxEncoder().prepare().built  # the checksum holds: reused, and the stamp recorded
    assert "mtime_ns" in json.loads(manifest_path.read_text())


def test_a_failed_build_is_an_error_not_a_broken_cache(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(RuntimeError, match="could not build"):
        int8_model(tmp_path, "broken")


def test_models_without_mean_pooling_or_not_local_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="local model directory"):
        OnnxEncoder("some-org/some-hub-model").prepare()
    with pytest.raises(ValueError, match="tokenizer.json"):
        OnnxEncoder(str(tmp_path)).prepare()  # refused before any build
    (tmp_path / "tokenizer.json").write_text("{}")
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_cls_token": True}))
    with pytest.raises(ValueError, match="mean pooling"):
        OnnxEncoder(str(tmp_path)).prepare()
    modules = [{"type": "sentence_transformers.models.Transformer"}, {"type": "sentence_transformers.models.Pooling"}]
    (tmp_path / "modules.json").write_text(json.dumps([*modules, {"type": "sentence_transformers.models.Dense"}]))
    with pytest.raises(ValueError, match="Dense"):
        OnnxEncoder(str(tmp_path)).prepare()


def test_detector_backends(onnx_encoder: OnnxEncoder, article_texts: dict[str, str], scored: dict, planted: dict) -> None:
    with pytest.raises(ValueError, match="backend"):
        Detector(backend="gpu").check_params()  # type: ignore[arg-type]
    detector = Detector(backend="onnx")
    assert isinstance(detector.encoder, CachingEncoder) and isinstance(detector.encoder.encoder, OnnxEncoder)
    assert detector.uses_context  # same vector space: the context model applies
    assert isinstance(Detector(backend="torch", embedding_cache=0).encoder, SentenceEncoder)
    detector.encoder_ = onnx_encoder
    for name, text in article_texts.items():
        fast = detector.score(text)
        reference = scored[name]
        assert [s.text for s in fast.sentences] == [s.text for s in reference.sentences]
        assert abs(fast.coherence - reference.coherence) < 0.1, name
        for stray in planted[name].get("off_topic", []):
            hit = [s for s in fast.sentences if stray in s.text]
            assert hit and hit[0].reason == "off_topic", (name, stray)


def test_cli_prepare_and_score_with_onnx(onnx_encoder: OnnxEncoder, clean_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prepare"]) == 0
    out = capsys.readouterr().out
    assert "already built" in out and str(cache_root()) in out
    assert main(["score", str(clean_path), "--backend", "onnx", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert 0.0 <= record["coherence"] <= 1.0


def test_pickles_without_its_session(onnx_encoder: OnnxEncoder) -> None:
    import pickle

    copy = pickle.loads(pickle.dumps(onnx_encoder))
    assert copy.session_ is None and copy.built_ is None  # finds its own cached copy
    np.testing.assert_array_equal(copy.encode(SENTENCES[:2]), onnx_encoder.encode(SENTENCES[:2]))


def test_an_unwritable_cache_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("COHERENCE_CACHE_DIR", str(blocker / "cache"))
    with pytest.raises(RuntimeError, match="COHERENCE_CACHE_DIR"):
        OnnxEncoder().prepare()


def test_concurrent_builds_build_once(onnx_encoder: OnnxEncoder) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from coherence.encoders.base import resolve_model

    assert onnx_encoder.built_ is not None
    folder = onnx_encoder.built_.path.parent
    (folder / MANIFEST_FILE).unlink()  # no longer intact: the next caller rebuilds
    source = Path(resolve_model("all-MiniLM-L6-v2")[0])
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda _: int8_model(source, "all-MiniLM-L6-v2"), range(3)))
    assert sorted(r.built for r in results) == [False, False, True]  # the others waited and found it built
    assert len({r.path for r in results}) == 1 and not list(folder.glob("*.partial"))


def test_a_forked_copy_reloads_its_session(onnx_encoder: OnnxEncoder) -> None:
    before = onnx_encoder.encode(SENTENCES[:2])
    onnx_encoder.pid_ = -1  # as in a child process forked after the session was loaded
    session = onnx_encoder.session_
    np.testing.assert_array_equal(onnx_encoder.encode(SENTENCES[:2]), before)
    assert onnx_encoder.session_ is not session


def test_thread_count_follows_omp_num_threads(onnx_encoder: OnnxEncoder, monkeypatch: pytest.MonkeyPatch) -> None:
    from coherence.encoders.cpus import usable_cores

    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert usable_cores() == 1
    single = OnnxEncoder()
    single.built_ = onnx_encoder.built_
    single.encode(SENTENCES[:1])
    assert single.pool_ is None  # one pass at a time, as a 1-CPU Ray actor should
    np.testing.assert_array_equal(single.encode(SENTENCES), onnx_encoder.encode(SENTENCES))
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert usable_cores() == 3
    monkeypatch.setenv("OMP_NUM_THREADS", "not a number")
    assert usable_cores() >= 1


def test_fingerprint_reads_the_version_of_a_differently_named_distribution(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.metadata

    import onnxruntime

    from coherence.encoders.model_cache import _library_version

    def not_installed(name: str) -> str:  # as with onnxruntime-gpu, which has no "onnxruntime" distribution
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", not_installed)
    assert _library_version("onnxruntime") == onnxruntime.__version__


def test_fingerprint_reads_the_installed_version_of_a_module_that_names_none() -> None:
    import importlib.metadata

    from coherence.encoders.model_cache import _library_version

    assert _library_version("wordfreq") == importlib.metadata.version("wordfreq")  # wordfreq has no __version__

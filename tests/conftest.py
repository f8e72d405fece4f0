"""Shared fixtures: one Detector with the bundled model, and the fixture articles.

The articles in tests/data/articles were written for these tests (fictional news stories).
tests/data/articles/planted.json lists, per file, what was planted in it: a stray sentence
from an unrelated story, extra copies of the headline, boilerplate lines and a fragment line.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

# Tests run offline: the bundled model is loaded by path and nothing may ask the hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Models built on first use (the int8 ONNX copy) go to a cache of this test session's own,
# so the tests build it once from the bundled weights and never touch the user's cache.
_CACHE = tempfile.mkdtemp(prefix="coherence-test-cache-")
os.environ["COHERENCE_CACHE_DIR"] = _CACHE
atexit.register(shutil.rmtree, _CACHE, ignore_errors=True)

from coherence import ArticleResult, Detector  # noqa: E402

DATA_DIR = Path(__file__).parent / "data"
ARTICLES_DIR = DATA_DIR / "articles"
PLANTED: dict[str, dict[str, Any]] = json.loads((ARTICLES_DIR / "planted.json").read_text(encoding="utf-8"))[
    "articles"
]
ARTICLE_NAMES = sorted(PLANTED)
# the body of a fictional local story, for tests that wrap it in page furniture or HTML
BODY = [
    "The harbourside library in Kellwick reopened on Saturday after a two-year rebuild that moved its reading rooms.",
    "Hundreds of residents queued along the quay before the doors opened at nine on a cold and windy morning.",
    "The old building flooded three times in a decade, and each time the council had to dry out thousands of books.",
    "The rebuild cost 8.4 million pounds, most of it from a coastal resilience fund set up after the storms of 2020.",
]
# a few sentences of different stories (and one short line), for the encoders' own tests
SENTENCES = [
    "The council approved the new flood barrier on Tuesday.",
    "Engineers said the gates would close automatically when the river rose.",
    "Shares in the airline fell by 4% after it cut its profit forecast.",
    "The striker scored twice in the second half to win the cup final.",
    "Short line.",
]
PLANTED_NAMES = [name for name in ARTICLE_NAMES if not PLANTED[name]["clean"]]
CLEAN_NAMES = [name for name in ARTICLE_NAMES if PLANTED[name]["clean"]]


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    """`rows` as JSON lines at `path`."""
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def read_output(path: Path) -> list[dict[str, Any]]:
    """The records of a batch output (.jsonl, .jsonl.gz or .parquet)."""
    import gzip

    import pyarrow.parquet as pq

    if path.suffix == ".parquet":
        return pq.read_table(path).to_pylist()
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def read_article(name: str) -> str:
    return (ARTICLES_DIR / name).read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def detector() -> Detector:
    """The default Detector (bundled all-MiniLM-L6-v2); loading it takes seconds, so share it."""
    return Detector()


@pytest.fixture(scope="session")
def make_detector(detector: Detector) -> Callable[..., Detector]:
    """A Detector with other settings that reuses the session detector's loaded model."""

    def make(**kwargs: Any) -> Detector:
        return Detector(model=detector.encoder, **kwargs)

    return make


@pytest.fixture(scope="session")
def article_paths() -> dict[str, Path]:
    """Every fixture article by file name."""
    return {name: ARTICLES_DIR / name for name in ARTICLE_NAMES}


@pytest.fixture(scope="session")
def article_texts() -> dict[str, str]:
    return {name: read_article(name) for name in ARTICLE_NAMES}


@pytest.fixture(scope="session")
def planted() -> dict[str, dict[str, Any]]:
    """planted.json's articles: per file, headline, clean flag and the planted texts by reason."""
    return PLANTED


@pytest.fixture(scope="session")
def scored(detector: Detector, article_texts: dict[str, str]) -> dict[str, ArticleResult]:
    """Every fixture article scored once with the default detector."""
    return {name: detector.score(text) for name, text in article_texts.items()}


@pytest.fixture(scope="session")
def clean_path(article_paths: dict[str, Path]) -> Path:
    return article_paths[CLEAN_NAMES[0]]


@pytest.fixture(scope="session")
def planted_path(article_paths: dict[str, Path]) -> Path:
    """A planted article whose boilerplate, duplicate and fragment flags need no model."""
    return article_paths["hospital_opening.txt"]

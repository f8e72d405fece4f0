"""The ranking report: every number's line values come from the detector's sentences, per dataset."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import scraped_lines as sl
from benchmarks import scraped_ranking as sr

STORY = [
    "The harbourside library in Kellwick reopened on Saturday after a two-year rebuild of its reading rooms.",
    "Hundreds of residents queued along the quay before the doors opened at nine on a cold morning.",
    "The rebuild cost 8.4 million pounds, most of it from a coastal resilience fund set up after the storms.",
]
FURNITURE = ["Sign up for our newsletter", "Council approves new cycle lanes on the coast road", "Photo: Getty Images"]


def _page(k: int, dataset: str) -> sl.Page:
    lines = [*STORY, *FURNITURE]
    labels = [sl.CONTENT] * len(STORY) + [sl.LEFTOVER] * len(FURNITURE)
    return sl.Page(f"{dataset}/{k}", dataset, str(k), f"{dataset}.example", "test", lines, labels)


def test_line_values_take_each_lines_most_doubtful_sentence(detector) -> None:
    page = _page(0, "a")
    result = detector.score("\n".join(page.lines))
    values = sr.line_values(page.lines, result)
    assert set(values) == set(sr.NUMBERS)
    by_text = {s.text: s for s in result.sentences}
    for i, line in enumerate(page.lines):
        if line in by_text:  # a line that is one sentence takes that sentence's numbers
            assert values["score"][i] == pytest.approx(1.0 - by_text[line].score)
            assert values["leftover"][i] == pytest.approx(by_text[line].leftover)
            assert values["fit"][i] == pytest.approx(1.0 - by_text[line].fit)
    failed = sr.line_values(page.lines, type(result).failed("no text"))
    assert all(not v.any() for v in failed.values())


def test_rankings_are_given_per_dataset_and_overall() -> None:
    pages = [_page(0, "a"), _page(1, "b")]
    good = {name: np.array([0.1, 0.2, 0.1, 0.9, 0.8, 0.7]) for name in sr.NUMBERS}
    bad = {name: np.array([0.9, 0.8, 0.7, 0.1, 0.2, 0.1]) for name in sr.NUMBERS}
    out = sr.rankings(pages, [good, bad])
    assert set(out) == {"all", "a", "b"}
    assert out["a"]["score"] == 1.0 and out["b"]["score"] == 0.0 and out["all"]["score"] == pytest.approx(0.5)
    assert out["all"]["lines"] == 12 and out["all"]["leftover_lines"] == 6 and out["a"]["pages"] == 1
    assert "| a | 1 | 6 | 50.0% | 1.000 |" in sr.render({
        "argv": "", "date": "today", "machine": "here", "version": "commit abc", "backend": "onnx", "seconds": 1.0, "results": {"trafilatura": {"test": out}},
    })  # fmt: skip

"""Weak furniture labels of the news corpus: repeated on an outlet's articles or found once."""

from __future__ import annotations

from benchmarks.intrusions import Source
from training.news_furniture import ARTICLE, EXCLUDED, FURNITURE, label_articles

TEMPLATE = "The evening edition goes to print at ten"
PROMPT = "Sign up for our daily briefing, delivered every morning"


def _article(outlet: str, n: int, extra: tuple[str, ...] = ()) -> Source:
    lines = [f"Council votes on budget plan {n}", f"The council of town {n} voted on its budget on Monday evening.", *extra]
    return Source(f"{outlet}-{n}", "budget", "\n\n".join(lines), outlet)


def test_a_line_on_three_articles_of_an_outlet_is_furniture_and_a_line_found_once_is_article() -> None:
    sources = [_article("Gazette", n, (TEMPLATE, PROMPT)) for n in range(3)] + [_article("Herald", 9, (TEMPLATE, PROMPT, "Photo: Jane Roe/AP"))]
    pages = {p.key: p for p in label_articles(sources)}
    gazette = pages["news/Gazette-0"]
    assert dict(zip(gazette.lines, gazette.labels)) == {
        "Council votes on budget plan 0": ARTICLE, "The council of town 0 voted on its budget on Monday evening.": ARTICLE, TEMPLATE: FURNITURE, PROMPT: FURNITURE,
    }  # fmt: skip
    herald = dict(zip(pages["news/Herald-9"].lines, pages["news/Herald-9"].labels))
    # counted per outlet: the Herald shows each line once; found once, a line a kind names (a call
    # to action, a caption) is left out rather than taken for article text
    assert herald[TEMPLATE] == ARTICLE and herald[PROMPT] == EXCLUDED and herald["Photo: Jane Roe/AP"] == EXCLUDED


def test_a_line_on_two_articles_is_left_out_and_the_sample_per_outlet_is_seeded() -> None:
    sources = [_article("Gazette", n, ("Share this story with a friend today",) if n < 2 else ()) for n in range(6)]
    pages = label_articles(sources)
    assert {label for p in pages for line, label in zip(p.lines, p.labels) if line.startswith("Share")} == {EXCLUDED}
    first = [p.key for p in label_articles(sources, per_outlet=3, seed=1)]
    assert len(first) == 3 and first == [p.key for p in label_articles(sources, per_outlet=3, seed=1)]


def test_news_leftovers_benchmark_writes_its_report_with_every_method_on_the_same_lines(tmp_path, detector) -> None:
    import gzip
    import json
    from pathlib import Path

    from benchmarks import news_leftovers

    root = Path(__file__).resolve().parents[2]
    articles = sorted((root / "tests" / "data" / "articles").glob("*.txt"))
    assert len(articles) >= 3
    corpus = tmp_path / "news.jsonl.gz"
    with gzip.open(corpus, "wt", encoding="utf-8") as handle:
        for k, article in enumerate(articles):
            title, _, body = article.read_text(encoding="utf-8").partition("\n")
            body = body.strip() + "\n\nGet the Morning Brief newsletter delivered to your inbox every day"
            handle.write(json.dumps({"id": f"n{k}", "source": "Some Blog", "topic": "a", "title": title, "text": body}) + "\n")
    result = news_leftovers.run(corpus, ["coherence", "c4"], 10, detector, cache=False)
    result["command"] = "test"
    news_leftovers.write_outputs(tmp_path, result, ["coherence", "c4"])
    test = result["results"]["test"]["all"]
    assert test["counts"]["pages"] == len(articles) and test["counts"]["leftover"] >= len(articles)  # a prompt each at least
    # the prompt is a call to action in fixed words (a firm rule): never among the furniture left
    assert not any("newsletter" in line for _, _, line in result["missed"])
    assert test["methods"]["coherence"]["recall"] >= len(articles) / test["counts"]["leftover"]
    assert test["methods"]["c4"]["flagged"] > 0
    assert "## By outlet group" in (tmp_path / "news_leftovers.md").read_text()

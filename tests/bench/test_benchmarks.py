"""The quality benchmark runs end to end on a small corpus of the project's own articles."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from benchmarks.intrusions import Source, split_half

ROOT = Path(__file__).resolve().parents[2]

ARTICLES = sorted((ROOT / "tests" / "data" / "articles").glob("*.txt")) + sorted((ROOT / "examples").glob("*.txt"))


def _test_half_id(stem: str) -> str:
    """An id for `stem` that the hash split puts in the test half."""
    for n in range(100):
        candidate = f"{stem}-{n}"
        if split_half([Source(candidate, "", "")], "test"):
            return candidate
    raise AssertionError("no test-half id found")


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("corpus") / "corpus.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        for k, article in enumerate(ARTICLES):
            record = {"id": _test_half_id(article.stem), "category": "ab"[k % 2], "text": article.read_text(encoding="utf-8")}
            handle.write(json.dumps(record) + "\n")
    return path


def test_quality_benchmark_writes_its_reports(small_corpus: Path, tmp_path: Path, detector) -> None:
    from benchmarks import quality

    quality.main(["--corpus", str(small_corpus), "--out-dir", str(tmp_path), "--planted", "2"])
    report = (tmp_path / "quality.md").read_text()
    raw = json.loads((tmp_path / "quality.json").read_text())
    assert "## Targets" in report and "## Operating points" in report
    assert len(raw["targets"]) == 7
    assert [row["flag_rate"] for row in raw["operating_points"]] == list(quality.OPERATING_RATES)
    for row in raw["operating_points"]:  # companions only add flags, in articles that already have one
        assert row["cross_recall"] >= row["gate_cross_recall"] and row["same_recall"] >= row["gate_same_recall"]
    assert all(0.0 <= r["planted"] <= 1.0 for r in raw["companions"] if r["n"])
    natural = raw["evaluated"]["natural"]
    assert natural["n"]["clean"] == len(ARTICLES)
    for method in quality.METHODS:
        auroc = natural["methods"][method]["cross"]["auroc"]
        assert auroc is None or 0.0 <= auroc <= 1.0
    assert (tmp_path / "quality_pr.png").stat().st_size > 0
    assert (tmp_path / "quality_calibration.png").stat().st_size > 0


def test_shortened_copies_keep_the_headline_and_paragraphs_and_are_seeded() -> None:
    from benchmarks.intrusions import subsample

    from coherence.text.segment import split_sentences

    body = "\n\n".join(" ".join(f"Paragraph {p} sentence {k} is here." for k in range(6)) for p in range(5))
    source = Source("a1", "x", "The headline\n\n" + body)
    short = subsample(source, 0.5, seed=1)
    assert short == subsample(source, 0.5, seed=1)
    assert short.text != subsample(source, 0.5, seed=2).text
    assert short.text.startswith("The headline\n\n") and (short.id, short.category) == ("a1", "x")
    kept = [s.text for s in split_sentences(short.text)][1:]
    assert 5 <= len(kept) <= 25  # about half of 30
    assert all(sentence in body for sentence in kept)
    assert subsample(source, 1.0, seed=1).text == source.text


def test_reader_study_scores_answers_against_the_rebuilt_packet(small_corpus: Path, tmp_path: Path) -> None:
    from benchmarks import reader_study

    items = reader_study.build_items(small_corpus, seed=3, per_condition=2, min_sentences=5, max_sentences=80)
    assert {i.case.condition for i in items} == {"same", "clean"}
    packet = reader_study.write_packet(items, tmp_path / "packet")
    text = "".join(p.read_text() for p in packet)
    assert text.count("=== ARTICLE ") == len(items)
    assert reader_study.build_items(small_corpus, 3, 2, 5, 80)[0].texts == items[0].texts  # seeded

    perfect = {str(n): [{"sentence": k + 1, "confidence": "high"} for k, hit in enumerate(i.planted) if hit] for n, i in enumerate(items, 1)}
    everything = {str(n): [{"sentence": k + 1, "confidence": "medium"} for k in range(len(i.texts))] for n, i in enumerate(items, 1)}
    (tmp_path / "perfect.json").write_text(json.dumps(perfect))
    (tmp_path / "everything.json").write_text(json.dumps(everything))
    n_planted = sum(sum(i.planted) for i in items)
    n_clean = sum(i.case.condition == "clean" for i in items)

    high, _ = reader_study.score(items, [tmp_path / "perfect.json"], ())
    assert f"{n_planted}/{n_planted} = 100.0% | 100.0% | 0/{n_clean} = 0.0%" in high
    _, medium = reader_study.score(items, [tmp_path / "everything.json"], ())
    assert f"{n_planted}/{n_planted} = 100.0%" in medium and f"{n_clean}/{n_clean} = 100.0%" in medium

    (tmp_path / "short.json").write_text(json.dumps({"1": []}))
    with pytest.raises(SystemExit, match="no entry for article 2"):
        reader_study.score(items, [tmp_path / "short.json"], ())


def test_logistic_fit_lands_on_the_same_point_when_inputs_move_by_float_noise() -> None:
    from training.fit_weights import fit_logistic

    rng = np.random.default_rng(0)
    z = rng.standard_normal((20000, 4))
    # unscaled, partly collinear features, like the evidence rows
    X = np.column_stack([z[:, 0], 0.9 * z[:, 0] + 0.1 * z[:, 1], 30 * z[:, 2] + 50, 0.01 * z[:, 3], z[:, 0] * z[:, 2]])
    y = (rng.random(len(z)) < 1 / (1 + np.exp(-(2 * z[:, 0] - z[:, 1] + 0.5 * z[:, 2] - 4)))).astype(int)
    moved = X * (1 + 1e-7 * rng.standard_normal(X.shape))
    assert np.abs(fit_logistic(X, y, 1.0).coef_ - fit_logistic(moved, y, 1.0).coef_).max() < 1e-4


def test_ridge_recovers_a_linear_map_and_fidelity_is_one_for_the_same_vectors() -> None:
    from training.fit_static import fidelity, ridge

    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 8))
    W_true, b_true = rng.standard_normal((8, 5)), rng.standard_normal(5)
    W, b = ridge(X, X @ W_true + b_true, strength=1e-9)
    np.testing.assert_allclose(W, W_true, atol=1e-6)
    np.testing.assert_allclose(b, b_true, atol=1e-6)
    Y = rng.standard_normal((30, 5))
    same = fidelity(Y, Y, [10, 20])
    assert same["cosine_to_model"] == pytest.approx(1.0) and same["within_article_spearman"] == pytest.approx(1.0)
    assert same["pairs"] == 45 + 190
    assert fidelity(rng.standard_normal((30, 5)), Y, [10, 20])["within_article_spearman"] < 0.5


def test_fit_static_writes_a_map_fitted_on_the_dev_half(tmp_path: Path) -> None:
    from training import fit_static

    from coherence.encoders.static_encoder import StaticMap

    corpus = tmp_path / "corpus.jsonl"
    with corpus.open("w", encoding="utf-8") as handle:
        for k, article in enumerate(ARTICLES * 2):
            half = "dev" if k < len(ARTICLES) else "test"
            stem = next(f"{article.stem}-{n}" for n in range(200) if split_half([Source(f"{article.stem}-{n}", "", "")], half))
            handle.write(json.dumps({"id": stem, "category": "ab"[k % 2], "text": article.read_text(encoding="utf-8")}) + "\n")
    out, report = tmp_path / "map.npz", tmp_path / "map.md"
    fit_static.main(["--corpus", str(corpus), "--out", str(out), "--report", str(report)])
    fitted = StaticMap.from_bytes(out.read_bytes())
    assert fitted.matrix.shape == (384, 384) and fitted.meta["fitted_on"]["half"] == "dev"
    assert fitted.meta["fitted_on"]["articles"] == len(ARTICLES)
    assert fitted.smoothing in fit_static.SMOOTHINGS and "with the fitted map (test half)" in report.read_text()


def test_scraped_labels_survive_gold_that_glued_words_at_line_breaks() -> None:
    from benchmarks.scraped_lines import CONTENT, LEFTOVER, label_plain, normalise

    gold = "<p>Yeah, according to the Times lastsummer they were about to score a deal to do\n preciselythis, until Ramsay"
    lines = [normalise(x) for x in (
        "summer they were about to score a deal to do precisely",  # wrapped differently from the gold
        "Yeah, according to the Times last",
        "Share this page on Twitter",  # not in the gold at all
        "last summer",  # too short to trust a match without spaces
    )]  # fmt: skip
    labels, _, _ = label_plain(lines, gold)
    assert labels == [CONTENT, CONTENT, LEFTOVER, LEFTOVER]


def test_scraped_labels_count_a_short_line_only_where_it_sits_in_the_gold() -> None:
    from benchmarks.scraped_lines import CONTENT, LEFTOVER, label_l3s, label_plain, normalise

    gold = "Ingredients\n2 eggs\nBeat the eggs and fold them into the flour. Share your news with friends at home."
    page = ["Home", "News", "Share", "Ingredients", "2 eggs", "Beat the eggs and fold them into the flour.", "Reply"]
    lines = [normalise(x) for x in page]
    labels, _, _ = label_plain(lines, gold)
    # "home", "news" and "share" are words of the gold, but not beside these neighbours
    assert labels == [LEFTOVER, LEFTOVER, LEFTOVER, CONTENT, CONTENT, CONTENT, LEFTOVER]
    assert label_plain([normalise("Ingredients")], gold)[0] == [CONTENT]  # no neighbour: plain test

    blocks = [("home news share", 0), ("ingredients 2 eggs", 2), ("beat the eggs and fold them into the flour", 2),
              ("share your news with friends at home", 2)]  # fmt: skip
    labels, classes, _, _ = label_l3s(lines, blocks)
    assert labels[:6] == [LEFTOVER, LEFTOVER, LEFTOVER, CONTENT, CONTENT, CONTENT]
    assert classes[:3] == [0, 0, 0]


def test_scraped_labels_leave_out_comments_a_plain_gold_keeps() -> None:
    from benchmarks.scraped_lines import CONTENT, EXCLUDED, LEFTOVER, label_page

    article = "The council approved the new flood barrier on Monday."
    kept_comment = "Great news, about time the council did something!"
    page = {"dataset": "d", "id": "1", "gold_format": "text", "gold": f"{article}\n{kept_comment}"}
    lines = [article, "Share this article", "Reply", kept_comment]
    labelled = label_page(page, lines, "site", "dev", comments=["Reply", kept_comment])
    # the gold keeps a comment: neither article nor leftover; comment furniture stays leftover
    assert labelled.labels == [CONTENT, LEFTOVER, LEFTOVER, EXCLUDED]
    assert labelled.comment == [False, False, True, True]
    assert label_page(page, lines, "site", "dev").labels == [CONTENT, LEFTOVER, LEFTOVER, CONTENT]


def test_scraped_comment_section_takes_every_line_shown_only_in_comment_containers() -> None:
    pytest.importorskip("trafilatura")
    pytest.importorskip("html_text")
    from benchmarks.scraped_lines import comment_section, gold_opening

    opening = "The council approved the new flood barrier on Monday after a long debate."
    html = (
        "<html><body><div class='entry'><h1>Flood barrier approved</h1>"
        f"<p>{opening}</p><p>Engineers will start work on the barrier in May next year.</p></div>"
        "<ol class='commentlist'><li><div class='comment-author'>Jane Smith</div>"
        "<div class='comment-meta'>October 1st, 2012 at 2:04 pm</div>"
        "<p>Great news, about time the council did something about the river!</p>"
        "<p>Engineers will start work on the barrier in May next year.</p></li></ol>"
        "<div id='comments-footer'><p>Tom said: will the road close while they build it?</p></div>"
        "</body></html>"
    )
    page = {"gold_format": "text", "gold": f"Flood barrier approved\n{opening}"}
    section = set(comment_section(html, gold_opening(page)) or [])
    # authors and dates, every container; an article line a comment quotes stays the article's
    assert {"jane smith", "october 1st 2012 at 2 04 pm", "tom said will the road close while they build it"} <= section
    assert "engineers will start work on the barrier in may next year" not in section
    assert not any("flood barrier" in line for line in section)
    # a container that wraps the article (it holds the gold's opening line) is no comment section
    wrapped = html.replace("<div class='entry'>", "<div class='comments-area'>")
    assert not any("approved" in line for line in comment_section(wrapped, gold_opening(page)) or [])


def test_scraped_measures_leave_kept_comments_out_and_count_their_flags_apart() -> None:
    from benchmarks import scraped as sc
    from benchmarks.scraped_lines import CONTENT, EXCLUDED, LEFTOVER, Page

    lines = ["The council approved the barrier.", "Share this", "Great news, about time!", "Engineers start in May."]
    page = Page("d/1", "d", "1", "site", "test", lines, [CONTENT, LEFTOVER, EXCLUDED, CONTENT], comment=[False, False, True, False])
    scored = sc.Scored([page])
    scored.scores["m"] = [np.array([0.1, 0.9, 0.8, 0.2])]
    scored.flags["m"] = [np.array([False, True, True, False])]
    scored.reasons["m"] = [np.array(["", "boilerplate", "off_topic", ""], dtype=object)]
    found = sc.evaluate(scored, ["test"])["test"]["all"]
    assert found["counts"]["kept_comments"] == 1 and found["counts"]["excluded"] == 1
    m = found["methods"]["m"]
    # the flagged comment is neither a lost article line nor a found leftover
    assert m["article_flagged"] == 0.0 and m["recall"] == 1.0 and m["precision"] == 1.0
    assert m["kept_comments_flagged"] == 1.0


def test_scraped_pages_losing_tells_pages_that_lose_one_line_from_the_rest() -> None:
    from benchmarks import scraped as sc

    # page 0: 4 article lines, one flagged (25%); page 1: 3 article lines, two flagged;
    # page 2: 30 article lines, one flagged (3%, under the share); page 3: leftovers only
    page = np.repeat([0, 1, 2, 3], [4, 3, 30, 2])
    leftover = page == 3
    flag = np.zeros(page.size, dtype=bool)
    flag[[0, 4, 5, 7, 37]] = True
    assert sc.pages_losing(page, leftover, flag) == 2 / 3
    assert sc.pages_losing(page, leftover, flag, lines=1) == 1 / 3
    assert sc.pages_losing(page, leftover, flag, lines=2) == 1 / 3


def test_scraped_lost_lines_are_told_page_by_page_and_a_kept_copy_is_not_lost() -> None:
    from benchmarks import scraped as sc
    from benchmarks.scraped_lines import CONTENT, LEFTOVER, Page

    long_page = Page("d/long", "d", "long", "a", "test", [f"Row {i} | {i * 3} | {i * 7}" for i in range(20)], [CONTENT] * 20)
    short_page = Page("d/short", "d", "short", "b", "test", ["Flood barrier opens.", "Flood barrier opens.", "Share this"], [CONTENT, CONTENT, LEFTOVER])
    quiet_page = Page("d/quiet", "d", "quiet", "c", "test", ["The council met.", "It voted."], [CONTENT, CONTENT])
    scored = sc.Scored([long_page, short_page, quiet_page])
    scored.flags["m"] = [np.arange(20) < 12, np.array([False, True, True]), np.array([False, False])]
    scored.scores["m"] = [f.astype(float) for f in scored.flags["m"]]
    scored.reasons["m"] = [np.where(f, "off_topic (leftover)", "").astype(object) for f in scored.flags["m"]]
    spread = sc.evaluate(scored, ["test"])["test"]["all"]["lost_by_page"]["m"]
    # the short page's flagged line has an unflagged copy: nothing of it is lost
    assert spread["lost"] == 12 and spread["pages"] == 3
    assert spread["top_1pct_share"] == 1.0
    assert spread["worst"] == [{"page": "d/long", "lost": 12, "article_lines": 20, "mostly": "off_topic (leftover)"}]
    assert "d/long 12 of 20" in sc.losing_pages_text("m", spread)


def test_scraped_site_method_scores_each_page_with_its_sites_counts(make_detector) -> None:
    from benchmarks import scraped as sc
    from benchmarks.scraped_lines import CONTENT, LEFTOVER, Page

    footer = "Support independent local journalism in Kellwick today"
    stories = ["The council approved the new flood barrier on Tuesday.", "The striker scored twice to win the cup final."]
    pages = [
        Page(f"d/{k}", "d", str(k), site, "test", [stories[k % 2], footer], [CONTENT, LEFTOVER])
        for k, site in enumerate(["gazette.example"] * 3 + ["other.example"])
    ]
    plain = make_detector()
    counting, digest = sc.site_counting(pages, plain)
    assert counting is not plain and counting.encoder is plain.encoder  # no second model loaded
    assert counting.line_counts_.seen("gazette.example", [footer])[0] == [2]
    assert counting.line_counts_.seen("other.example", [footer])[0] == [0]
    assert sc.site_counting(pages[:3], plain)[1] != digest  # a page's result depends on the pages counted
    with_sites = list(sc.coherence_pages(pages, counting, sites=True))
    direct = counting.score("\n".join(pages[0].lines), site="gazette.example")
    assert np.allclose(with_sites[0][0], sc.joined_scores(pages[0].lines, direct)[0])
    without = list(sc.coherence_pages(pages, counting))  # the same detector, pages scored without their site
    assert with_sites[0][0][1] > without[0][0][1]  # the footer seen on two other pages of its site


def test_fit_auroc_ranks_by_fit_before_the_leftover_cap() -> None:
    from benchmarks.quality import Scored, condition_metrics

    def case(labels: list[bool], capped: list[float], fit_doubt: list[float], content: list[bool]) -> Scored:
        n = len(labels)
        return Scored(
            id=str(labels), labels=np.array(labels), scores={"coherence": np.array(capped), "centroid": np.array(capped)},
            flags=np.zeros(n, dtype=bool), content=np.array(content), probability=np.array(fit_doubt),
            confidence=np.ones(n), coherence=0.9,
        )  # fmt: skip

    # a clean leftover line (second) capped to the top of the ranking; by fit it ranks below the planted line
    planted = case([True, False, False], [0.6, 0.9, 0.1], [0.6, 0.05, 0.1], [True, True, True])
    clean = case([False, False, False], [0.1, 0.2, 0.1], [0.1, 0.2, 0.1], [True, True, True])
    own = condition_metrics([clean], [planted], "coherence", float("nan"))
    assert own["auroc"] == 0.5 and own["fit_auroc"] == 1.0
    assert np.isnan(condition_metrics([clean], [planted], "centroid", 0.5)["fit_auroc"])

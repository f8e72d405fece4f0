"""Reports: the article page and the corpus page, their figures, the CLI, and a real browser.

The browser tests open the pages in Debian's chromium driven by Playwright. They are skipped
where chromium or playwright is missing, unless COHERENCE_REQUIRE_BROWSER=1 (set by .ci/run,
which installs chromium): there a missing browser fails. Set COHERENCE_SCREENSHOTS=DIR to
keep the screenshots.
"""

from __future__ import annotations

import gzip
import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from coherence.engines.local import score_file
from coherence.cli import main
from coherence.io.fields import InputError
from coherence.report import (
    article_figure,
    article_page,
    article_report,
    corpus_report,
    plot_map,
    project,
    read_results,
    save_figure,
    summarise_results,
)
from coherence.report.render import figure_bytes
from conftest import CLEAN_NAMES

PLANTED_ARTICLE = "hospital_opening.txt"
CHROMIUM = "/usr/bin/chromium"
# An attribute or CSS reference to anything but the page itself or inline data.
EXTERNAL = re.compile(r"""(?:\b(?:src|href|xlink:href|action)\s*=\s*["']?(?!#|data:)[^"'\s>]|url\(\s*["']?(?!#|data:)|@import|<link\b)""", re.I)


def run(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1


def number_of(result: Any, text: str) -> int:
    """1-based number of the sentence with `text`."""
    return next(n for n, s in enumerate(result.sentences, 1) if s.text == text)


# -- the article ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def planted_scored(detector, article_texts):
    return detector.score_with_vectors(article_texts[PLANTED_ARTICLE])


@pytest.fixture(scope="module")
def article_html(planted_scored, detector) -> str:
    return article_page(
        planted_scored, title=PLANTED_ARTICLE, off_topic_cut=detector.off_topic_cut, min_confidence=detector.min_confidence
    )


def test_import_stays_light():
    code = "import sys, coherence, coherence.report, coherence.cli.main; print(sorted(m for m in ('matplotlib', 'umap', 'jinja2', 'torch', 'numba') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_score_with_vectors_matches_score(planted_scored, scored):
    result = planted_scored.result
    assert result.to_dict(sentences=True) == scored[PLANTED_ARTICLE].to_dict(sentences=True)
    content = [i for i, s in enumerate(result.sentences) if s.reason not in ("boilerplate", "duplicate", "fragment")]
    assert planted_scored.content == content
    assert planted_scored.vectors.shape[0] == len(content) == len(planted_scored.in_topic)
    assert np.allclose(np.linalg.norm(planted_scored.vectors, axis=1), 1.0, atol=1e-4)
    assert planted_scored.in_topic.sum() > len(content) / 2  # the dominant topic is most of the article


def test_article_page_marks_every_flag(article_html, planted_scored, planted):
    result = planted_scored.result
    for n, s in enumerate(result.sentences, 1):
        tag = re.search(rf'<span class="([^"]*)" id="s{n}"', article_html)
        assert tag, f"sentence {n} missing"
        if s.flagged:
            assert f"flag-{s.reason}" in tag[1].split()
            why = re.search(rf'id="why{n}" hidden>(.*?)</span>\s*$', article_html, re.M | re.S)
            assert why and s.explanation in html.unescape(why[1])
        else:
            assert "flag" not in tag[1].split()
    stray = planted[PLANTED_ARTICLE]["off_topic"][0]
    n = number_of(result, stray)
    assert re.search(rf'class="s flag flag-off_topic" id="s{n}"', article_html)
    assert re.search(rf'<text[^>]*>{n} off-topic</text>', article_html), "the map labels the stray sentence"


def test_article_page_is_self_contained_and_deterministic(article_html, planted_scored, detector):
    assert not EXTERNAL.search(article_html), EXTERNAL.search(article_html)
    assert "http" not in article_html  # not even a namespace or metadata address
    again = article_page(planted_scored, title=PLANTED_ARTICLE, off_topic_cut=detector.off_topic_cut, min_confidence=detector.min_confidence)
    assert again == article_html


def test_flag_table_gives_a_models_score_and_names_a_rule_or_language_flag():
    """A line-model or topic flag has a score that decided it; a text rule's flag, or one for
    the line's language, scores a constant."""
    from coherence.report.article import sentence_views
    from coherence.results import SentenceResult

    sentences = [
        SentenceResult("Share this article", 0, 18, 0.3, True, "boilerplate", "a share button", 0, evidence="rule"),
        SentenceResult("Ferry timetable changes for winter", 19, 53, 0.04, True, "off_topic", "a teaser", 0, evidence="leftover"),
        SentenceResult("Die Bibliothek bleibt offen.", 54, 82, 0.3, True, "boilerplate", "in 'de'", 0, evidence="language"),
        SentenceResult("The library reopened on Saturday.", 83, 116, 0.97, False, None, None, 0),
    ]
    views = [view for paragraph in sentence_views(sentences, 0.5) for view in paragraph]
    assert [view.fixed_by for view in views] == ["rule", None, "language", None]


def test_the_stray_sentence_is_shaded_darker_than_the_best_fitting(article_html, planted_scored):
    colours = {int(n): c for n, c in re.findall(r'id="s(\d+)" data-n="\d+"[^>]*?\n? style="background: (#[0-9a-f]{6})"', article_html)}
    assert len(colours) == len(planted_scored.result.sentences)
    lightness = {n: sum(int(c[k : k + 2], 16) for k in (1, 3, 5)) for n, c in colours.items()}
    scores = {n: s.score for n, s in enumerate(planted_scored.result.sentences, 1)}
    stray = min(scores, key=scores.get)
    fits = max(scores, key=scores.get)
    assert lightness[stray] < lightness[fits]


def test_plot_returns_a_figure_with_a_bar_per_sentence(scored, detector):
    from matplotlib.figure import Figure

    from coherence.report import plot_scores

    result = scored[PLANTED_ARTICLE]
    figure = plot_scores(result, off_topic_cut=detector.off_topic_cut)
    assert isinstance(figure, Figure)
    ax = figure.axes[0]
    assert len(ax.patches) == len(result.sentences)
    assert [round(p.get_height(), 6) for p in ax.patches] == [round(s.score, 6) for s in result.sentences]
    assert any(np.allclose(line.get_ydata(), detector.off_topic_cut) for line in ax.lines)
    other = Figure().add_subplot()
    assert plot_scores(result, other) is other.figure


def test_map_puts_the_stray_sentence_outside_the_topic(planted_scored, planted):
    figure = plot_map(planted_scored, projection="pca")
    stray = number_of(planted_scored.result, planted[PLANTED_ARTICLE]["off_topic"][0])
    labels = [t.get_text() for t in figure.axes[0].texts]
    assert f"{stray} off-topic" in labels
    row = planted_scored.content.index(stray - 1)
    assert not planted_scored.in_topic[row]
    assert "PCA" in figure.axes[0].get_title()


def test_projection_is_deterministic_and_picks_umap_for_larger_sets():
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(40, 16))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    first, method = project(vectors, seed=1)
    second, _ = project(vectors, seed=1)
    assert method == "umap" and first.shape == (40, 2) and np.array_equal(first, second)
    small, method = project(vectors[:8])
    assert method == "pca" and small.shape == (8, 2)
    assert np.array_equal(small, project(vectors[:8])[0])
    with pytest.raises(ValueError):
        project(vectors[:3], "umap")
    with pytest.raises(ValueError):
        project(vectors, "tsne")  # type: ignore[arg-type]


def test_score_chart_draws_the_companion_cut_only_for_an_article_with_a_flag(planted_scored, scored, detector):
    from coherence.report.article_plots import plot_scores

    def labels(result):
        figure = plot_scores(result, off_topic_cut=detector.off_topic_cut, companion_cut=0.5)
        return [t.get_text() for t in figure.axes[0].get_legend().get_texts()]

    assert any(s.reason == "off_topic" for s in planted_scored.result.sentences)
    assert any(label.startswith("companion cut 0.50") for label in labels(planted_scored.result))
    clean = scored[CLEAN_NAMES[0]]
    assert not any(s.reason == "off_topic" for s in clean.sentences)
    assert not any(label.startswith("companion cut") for label in labels(clean))


def test_figures_are_written_the_same_every_time(planted_scored, detector, tmp_path):
    figure = article_figure(planted_scored, off_topic_cut=detector.off_topic_cut)
    png, svg = save_figure(figure, tmp_path / "a.png"), save_figure(figure, tmp_path / "a.svg")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<svg" in svg.read_text() and figure_bytes(figure, "svg") == svg.read_bytes()
    assert figure_bytes(figure, "png") == png.read_bytes()
    with pytest.raises(ValueError):
        save_figure(figure, tmp_path / "a.jpg")


def test_pre_split_article_has_one_paragraph(detector):
    sentences = ["The council approved the new budget on Monday.", "Spending on roads rises by a tenth.", "Share this article"]
    scored = detector.score_with_vectors(sentences)
    page = article_page(scored, title="pre-split", off_topic_cut=detector.off_topic_cut, min_confidence=detector.min_confidence)
    assert page.count("<p>\n<span") == 1 and "flag-boilerplate" in page


# -- the corpus -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def corpus_files(tmp_path_factory, detector, article_texts) -> dict[str, Path]:
    """The fixture articles three times over, plus a record that cannot be scored, scored into
    JSONL and Parquet."""
    folder = tmp_path_factory.mktemp("corpus")
    records = [{"doc": f"{name}#{k}", "text": text} for k in range(3) for name, text in sorted(article_texts.items())]
    records.insert(7, {"doc": "empty", "text": ""})
    source = folder / "in.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    jsonl, parquet = folder / "scored.jsonl", folder / "scored.parquet"
    score_file(source, jsonl, id_field="doc", detector=detector)
    score_file(source, parquet, id_field="doc", detector=detector)
    return {"source": source, "jsonl": jsonl, "parquet": parquet}


@pytest.fixture(scope="module")
def records(corpus_files) -> list[dict[str, Any]]:
    return [json.loads(line) for line in corpus_files["jsonl"].read_text(encoding="utf-8").splitlines()]


def test_summary_matches_the_records(corpus_files, records):
    stats = summarise_results(corpus_files["jsonl"], worst=5, sample=2, seed=1)
    scored = [(k, r) for k, r in enumerate(records) if r["error"] is None]
    assert stats.summary.records == len(records) and stats.summary.errors == 1
    assert sorted(stats.coherence) == sorted(r["coherence"] for _, r in scored)
    assert stats.flagged_articles == sum(bool(r["flags"]) for _, r in scored)
    lowest = sorted(scored, key=lambda kr: (kr[1]["coherence"], kr[0]))[:5]
    assert [w["position"] for w in stats.worst] == [k for k, _ in lowest]
    by_reason: dict[str, int] = {}
    for item in stats.flag_sample:
        by_reason[item["reason"]] = by_reason.get(item["reason"], 0) + 1
        spans = records[item["position"]]["flags"]
        assert {k: item[k] for k in ("start", "end", "reason", "text")} in [{k: s[k] for k in ("start", "end", "reason", "text")} for s in spans]
    assert by_reason and max(by_reason.values()) <= 2
    assert summarise_results(corpus_files["jsonl"], worst=5, sample=2, seed=1).flag_sample == stats.flag_sample


def test_parquet_and_jsonl_results_read_alike(corpus_files):
    jsonl = list(read_results(corpus_files["jsonl"]))
    parquet = list(read_results(corpus_files["parquet"]))
    assert [(r["id"], r["coherence"], r["flags"], r["error"]) for r in jsonl] == [(r["id"], r["coherence"], r["flags"], r["error"]) for r in parquet]


@pytest.fixture(scope="module")
def corpus_page(corpus_files, detector, tmp_path_factory) -> tuple[Path, Any]:
    """The corpus page at threshold 0.9 with the 4 worst articles and the map (PCA)."""
    out = tmp_path_factory.mktemp("corpus_page") / "corpus.html"
    stats = corpus_report(
        corpus_files["jsonl"], out, inputs=[corpus_files["source"]], threshold=0.9, worst=4, projection="pca", model=detector.encoder
    )
    return out, stats


def test_corpus_page_numbers_match_the_records(corpus_page, records):
    out, stats = corpus_page
    page = out.read_text(encoding="utf-8")
    values = [r["coherence"] for r in records if r["error"] is None]
    failing = sum(v < 0.9 for v in values) / len(values)
    assert f"{100 * (1 - failing):.1f}%</strong> pass at threshold 0.90 (given)" in page
    rows = re.findall(r'<td class="num">(\d\.\d\d)(?: \(gate\))?</td>\s*<td class="num">([\d,]+)</td>', page)
    assert rows and ("0.90", str(sum(v < 0.9 for v in values))) in rows
    for threshold, count in rows:
        assert int(count) == sum(v < float(threshold) for v in values)
    assert page.count('class="whole"') == len(stats.worst) == 4  # the worst articles are shown whole
    assert "Map of sampled flagged sentences" in page and "(PCA)" in page
    assert "&#39;text&#39; is empty" in page  # the record that could not be scored
    assert not EXTERNAL.search(page) and "http" not in page


def test_corpus_page_takes_the_runs_threshold_and_streams_gzip(corpus_files, tmp_path):
    gz = tmp_path / "scored.jsonl.gz"
    with gzip.open(gz, "wb") as handle:
        handle.write(corpus_files["jsonl"].read_bytes())
    shutil.copy(corpus_files["jsonl"].with_name("scored.jsonl.summary.json"), tmp_path / "scored.jsonl.gz.summary.json")
    corpus_report(gz, tmp_path / "c.html")
    page = (tmp_path / "c.html").read_text(encoding="utf-8")
    assert "threshold 0.80 (the batch run&#39;s)" in page
    assert "Give the batch run&#39;s input" in page


def test_corpus_map_runs_the_model_on_the_batch_runs_backend(corpus_files, tmp_path, monkeypatch):
    from coherence.report import corpus as corpus_module
    from coherence.report.corpus import run_settings

    summary = json.loads(corpus_files["jsonl"].with_name("scored.jsonl.summary.json").read_text())
    assert run_settings(corpus_files["jsonl"]).backend is None and summary["settings"]["detector"]["backend"] is None  # torch
    summary["settings"]["detector"]["backend"] = "onnx"
    results = tmp_path / "scored.jsonl"
    shutil.copy(corpus_files["jsonl"], results)
    (tmp_path / "scored.jsonl.summary.json").write_text(json.dumps(summary))
    assert run_settings(results).backend == "onnx"
    seen = []
    monkeypatch.setattr(corpus_module, "flag_map", lambda *a, **k: seen.append(k["backend"]))
    corpus_report(results, tmp_path / "c.html", inputs=[corpus_files["source"]])
    corpus_report(results, tmp_path / "c.html", inputs=[corpus_files["source"]], backend="torch")  # given wins
    assert seen == ["onnx", "torch"]


def test_misaligned_input_is_refused(corpus_files, tmp_path):
    other = tmp_path / "other.jsonl"
    other.write_text("".join(json.dumps({"doc": f"x{k}", "text": "Some text here."}) + "\n" for k in range(30)))
    with pytest.raises(InputError, match="does not line up"):
        corpus_report(corpus_files["jsonl"], tmp_path / "c.html", inputs=[other], projection="pca")


# -- the command line ---------------------------------------------------------------------------
def test_cli_article_report_writes_page_and_figures(article_paths, tmp_path, capsys):
    html, png, svg = tmp_path / "a.html", tmp_path / "a.png", tmp_path / "a.svg"
    assert run(["report", str(article_paths[PLANTED_ARTICLE]), "-o", str(html), "--png", str(png), "--svg", str(svg)]) == 0
    out = capsys.readouterr().out
    assert "wrote" in out and "flagged" in out
    assert "flag-off_topic" in html.read_text(encoding="utf-8")
    assert png.read_bytes()[:4] == b"\x89PNG" and "<svg" in svg.read_text()


def test_cli_corpus_report(corpus_files, tmp_path, capsys):
    html, png = tmp_path / "c.html", tmp_path / "c.png"
    argv = ["report", str(corpus_files["parquet"]), "-o", str(html), "--png", str(png), "--input", str(corpus_files["source"])]
    assert run([*argv, "--projection", "pca"]) == 0
    assert "13 records" in capsys.readouterr().out
    assert png.read_bytes()[:4] == b"\x89PNG" and "Map of sampled flagged sentences" in html.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "case",
    ["missing", "no_output", "input_with_article", "not_results", "bad_png", "no_folder", "misaligned", "folder", "umap_tiny", "csv"],
)
def test_cli_bad_input_gives_one_line_error(case, article_paths, corpus_files, tmp_path, capsys):
    article = str(article_paths[PLANTED_ARTICLE])
    html = str(tmp_path / "r.html")
    not_results = tmp_path / "plain.jsonl"
    not_results.write_text('{"text": "an input, not scored"}\n')
    misaligned = tmp_path / "other.jsonl"
    misaligned.write_text("".join(json.dumps({"doc": f"x{k}", "text": "Some text here."}) + "\n" for k in range(30)))
    tiny = tmp_path / "tiny.txt"
    tiny.write_text("Bus fares rise\n\nFares on city buses rise by ten pence in May. The council approved the rise.\n")
    corpus_csv = tmp_path / "corpus.csv"
    corpus_csv.write_text("id,text\na,Fares on city buses rise by ten pence in May.\nb,The council approved the rise.\n")
    argv = {
        "missing": ["report", str(tmp_path / "nope.txt"), "-o", html],
        "no_output": ["report", article],
        "input_with_article": ["report", article, "-o", html, "--input", str(corpus_files["source"])],
        "not_results": ["report", str(not_results), "-o", html],
        "bad_png": ["report", article, "--png", str(tmp_path / "x.jpg")],
        "no_folder": ["report", article, "-o", str(tmp_path / "no" / "such" / "r.html")],
        "misaligned": ["report", str(corpus_files["jsonl"]), "-o", html, "--input", str(misaligned)],
        "folder": ["report", str(tmp_path), "-o", html],
        "umap_tiny": ["report", str(tiny), "-o", html, "--projection", "umap"],
        "csv": ["report", str(corpus_csv), "-o", html],  # a corpus, not one article
    }[case]
    assert run(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("coherence: error: ") and "\n" not in err and "Traceback" not in err


# -- in a real browser --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def browser():
    required = os.environ.get("COHERENCE_REQUIRE_BROWSER") == "1"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if required:
            raise
        pytest.skip("playwright is not installed")
    if not Path(CHROMIUM).exists():
        if required:
            pytest.fail(f"{CHROMIUM} is missing (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is missing")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"],
        )
        yield browser
        browser.close()


class Visit:
    """A page opened in the browser, with its console errors and every request it made."""

    def __init__(self, browser: Any, path: Path, width: int = 1366) -> None:
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page = browser.new_page(viewport={"width": width, "height": 900})
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.goto(path.as_uri(), wait_until="load")

    def screenshot(self, path: Path) -> Path:
        self.page.evaluate("window.scrollTo(0, 0)")
        self.page.screenshot(path=str(path), full_page=True)
        keep = os.environ.get("COHERENCE_SCREENSHOTS")
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, Path(keep) / path.name)
        return path

    def close(self, page_path: Path) -> None:
        assert self.errors == [], self.errors
        assert [u for u in self.requests if u != page_path.as_uri() and not u.startswith("data:")] == []
        self.page.close()


def test_browser_shows_the_planted_stray_sentence(browser, article_paths, detector, planted, tmp_path):
    from playwright.sync_api import expect

    path = tmp_path / "article.html"
    scored = article_report(article_paths[PLANTED_ARTICLE].read_text(encoding="utf-8"), path, detector=detector, title=PLANTED_ARTICLE)
    stray = planted[PLANTED_ARTICLE]["off_topic"][0]
    n = number_of(scored.result, stray)
    visit = Visit(browser, path)
    sentence = visit.page.locator(f"#s{n}")
    expect(sentence).to_be_visible()
    expect(sentence).to_contain_text(stray)
    expect(sentence.locator(".chip")).to_have_text(re.compile("off-topic", re.I))
    style = sentence.evaluate("e => { const s = getComputedStyle(e); return [s.textDecorationStyle, s.backgroundColor, s.boxShadow]; }")
    plain = visit.page.locator("#s1").evaluate("e => getComputedStyle(e).backgroundColor")
    assert style[0] == "wavy" and style[1] != plain and style[2] != "none"
    box = sentence.bounding_box()
    assert box and box["width"] > 100 and box["height"] > 10
    why = visit.page.locator(f"#why{n}")
    expect(why).to_be_hidden()
    sentence.click()
    expect(why).to_be_visible()
    expect(why).to_contain_text(scored.result.sentences[n - 1].explanation[:60])
    sentence.press("Enter")
    expect(why).to_be_hidden()
    sentence.click()
    figures = visit.page.locator("svg[role=img]")
    expect(figures).to_have_count(2)
    assert all(figures.nth(k).bounding_box()["width"] > 300 for k in range(2))
    expect(visit.page.locator("svg text", has_text=f"{n} off-topic")).to_have_count(1)
    assert visit.screenshot(tmp_path / "article_report.png").stat().st_size > 10_000
    visit.close(path)


def test_browser_shows_the_corpus_page(browser, corpus_page, tmp_path):
    from playwright.sync_api import expect

    path, stats = corpus_page
    visit = Visit(browser, path)
    expect(visit.page.locator("svg[role=img]")).to_have_count(4)
    rows = visit.page.locator("table.worst > tbody > tr")
    expect(rows).to_have_count(len(stats.worst))
    expect(rows.first.locator("td.id")).to_have_text(str(stats.worst[0]["id"]))
    first_flag = rows.first.locator("details").first
    explanation = first_flag.locator("p")
    expect(explanation).to_be_hidden()
    first_flag.locator("summary").click()
    expect(explanation).to_be_visible()
    whole = rows.first.locator("details.whole")
    whole.locator("summary").click()
    expect(whole.locator("mark.flag-off_topic")).to_be_visible()
    assert visit.screenshot(tmp_path / "corpus_report.png").stat().st_size > 10_000
    visit.close(path)


@pytest.mark.parametrize("module", ["matplotlib.figure", "jinja2"])
def test_a_missing_report_dependency_names_the_extra_from_python(module, monkeypatch):
    """The CLI names the extra; a Python caller of the report functions gets the same line."""
    import sys

    from coherence.report import render

    monkeypatch.setitem(sys.modules, module, None)  # an import of it now fails
    render._environment.cache_clear()
    try:
        with pytest.raises(ImportError, match=r'coherence\[report\]'):
            render.axes_for(None, (4, 3)) if module.startswith("matplotlib") else render._environment()
    finally:
        render._environment.cache_clear()

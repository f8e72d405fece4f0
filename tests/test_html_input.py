"""HTML in: `coherence score` and `coherence report` extract a page's article text first, and
`coherence batch --html-field` each record's; the offsets, reports and limits refer to the
extracted text, which the output keeps."""

from __future__ import annotations

import html
import json
import re

from coherence.cli import main
from tests.conftest import BODY, read_output, write_jsonl



PAGE = (
    "<!DOCTYPE html><html><head><title>Library reopens</title></head><body><nav><a href='/'>Home</a></nav>"
    "<article><h1>Harbourside library reopens after rebuild</h1>"
    + "".join(f"<p>{line}</p>" for line in BODY)
    + "</article><footer>Copyright 2026 Kellwick Gazette</footer></body></html>"
)


def test_score_extracts_an_html_page_first(tmp_path, capsys):
    page = tmp_path / "page.html"
    page.write_text(PAGE, encoding="utf-8")
    assert main(["score", str(page), "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert BODY[0] in record["extracted_text"] and "<p>" not in record["extracted_text"]
    assert record["error"] is None and record["language"] == "en"


def test_batch_html_field_extracts_each_page_and_keeps_the_text(tmp_path):
    source = write_jsonl(tmp_path / "pages.jsonl", [{"html": PAGE}, {"html": "<html><body></body></html>"}])
    output = tmp_path / "out.jsonl"
    assert main(["batch", str(source), "-o", str(output), "--html-field", "html"]) == 0
    good, empty = read_output(output)
    assert good["error"] is None and BODY[1] in good["extracted_text"]
    flag = good["flags"][0] if good["flags"] else None
    if flag is not None:
        assert good["extracted_text"][flag["start"] : flag["end"]] == flag["text"]
    assert empty["error"] == "no article text found in the HTML" and empty["extracted_text"] is None


def test_batch_html_field_holds_the_article_text_to_max_chars_not_the_markup(tmp_path):
    """A page is mostly markup: one several times --max-chars long is scored when its article
    text fits, and refused when the article text itself does not."""
    article_chars = len(" ".join(BODY))
    script = "<script>" + "var x = 1;" * (article_chars // 4) + "</script>"  # the page outgrows the limit
    page = PAGE.replace("</head>", script + "</head>")
    source = write_jsonl(tmp_path / "pages.jsonl", [{"html": page}])
    fits, short = tmp_path / "fits.jsonl", tmp_path / "short.jsonl"
    limit = str(article_chars + 200)
    assert len(page) > 2 * int(limit)
    assert main(["batch", str(source), "-o", str(fits), "--html-field", "html", "--max-chars", limit]) == 0
    assert read_output(fits)[0]["error"] is None
    assert main(["batch", str(source), "-o", str(short), "--html-field", "html", "--max-chars", str(article_chars // 2)]) == 0
    (refused,) = read_output(short)
    assert "article text of 'html'" in refused["error"] and refused["extracted_text"] is None


def test_score_refuses_a_text_over_max_chars_as_batch_does(tmp_path, capsys):
    article = tmp_path / "article.txt"
    article.write_text("\n".join(BODY), encoding="utf-8")
    assert main(["score", str(article), "--max-chars", "40"]) == 2
    assert "more than the limit of 40 (not one article; split it or raise --max-chars)" in capsys.readouterr().err
    assert main(["score", str(article), "--max-chars", str(len(article.read_text()))]) == 0


def test_article_report_of_an_html_page_scores_its_article_text(tmp_path, capsys):
    page, report = tmp_path / "page.html", tmp_path / "report.html"
    page.write_text(PAGE, encoding="utf-8")
    assert main(["score", str(page), "--json"]) == 0
    scored = json.loads(capsys.readouterr().out)
    assert main(["report", str(page), "-o", str(report)]) == 0
    assert f"coherence {scored['coherence']:.3f}" in capsys.readouterr().out  # the same text as score's
    shown = html.unescape(report.read_text(encoding="utf-8"))
    assert BODY[0] in shown and "<p>The harbourside" not in shown and "<!DOCTYPE html><html>" not in shown
    assert main(["report", str(page), "-o", str(report), "--no-html"]) == 0  # the markup itself, when asked
    assert "<p>The harbourside" in html.unescape(report.read_text(encoding="utf-8"))


def test_corpus_report_of_an_html_run_shows_the_extracted_text(tmp_path, capsys):
    """The results' offsets refer to each page's extracted text: the report shows that text,
    with each flag marked where the run found it, not the raw markup."""
    call = "<p>Sign up for our newsletter to get the Kellwick Gazette in your inbox every morning</p>"
    pages = [{"id": "a", "html": PAGE}, {"id": "b", "html": PAGE.replace("</article>", call + "</article>")}]
    source = write_jsonl(tmp_path / "pages.jsonl", pages)
    results, report = tmp_path / "out.jsonl", tmp_path / "corpus.html"
    assert main(["batch", str(source), "-o", str(results), "--html-field", "html"]) == 0
    assert main(["report", str(results), "-o", str(report), "--input", str(source), "--projection", "pca"]) == 0
    page = report.read_text(encoding="utf-8")
    assert BODY[2] in page and "&lt;!DOCTYPE" not in page and "&lt;article&gt;" not in page
    flags = [flag for record in read_output(results) for flag in record["flags"]]
    assert flags, "the call to action is flagged"
    marked = [html.unescape(text) for text in re.findall(r"<mark [^>]*>(?:<span class=\"chip[^>]*>[^<]*</span>)?(.*?)</mark>", page, re.S)]
    assert sorted(marked) == sorted(flag["text"] for flag in flags)


def test_the_corpus_report_extracts_only_the_pages_it_shows(tmp_path, monkeypatch):
    import coherence.io.html
    from coherence.report.flagmap import input_texts

    calls = []
    extract = coherence.io.html.extract_article
    monkeypatch.setattr(coherence.io.html, "extract_article", lambda page: calls.append(page) or extract(page))
    source = write_jsonl(tmp_path / "pages.jsonl", [{"id": f"p{k}", "html": PAGE} for k in range(6)])
    texts = input_texts({4: "p4"}, [source], text_field="html", id_field="id", html=True)
    assert len(calls) == 1 and BODY[0] in texts[4] and "<p>" not in texts[4]

"""Extraction leftovers: line kinds and features, the shipped tree model, language, site repeats."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from coherence.cli import main
from coherence.models.leftovers import LeftoverModel, PageReading
from coherence.models.line_words import LineWords, line_terms
from coherence.preparation import RULE_SCORE
from coherence.results import LEFTOVER_FLOOR, leftover_cap
from coherence.evidence.lines import LINE_FEATURES, WORDS, PageLines, page_line_features, words_context
from coherence.text.line_kinds import LINE_KINDS, kind_flags, line_kind
from coherence.models.trees import TreeEnsemble
from tests.conftest import BODY, read_output, write_jsonl

EXAMPLE = Path(__file__).parents[2] / "examples" / "scraped_page.txt"
GERMAN = [
    "Die Stadtbibliothek von Kellwick hat am Samstag nach zweijährigem Umbau wieder eröffnet.",
    "Hunderte Einwohner standen am Kai Schlange, bevor sich um neun Uhr die Türen öffneten.",
    "Das alte Gebäude war in einem Jahrzehnt dreimal überflutet worden, jedes Mal mussten Bücher getrocknet werden.",
    "Der Umbau kostete 8,4 Millionen Pfund, der größte Teil stammte aus einem Fonds für den Küstenschutz.",
    "Die Bibliothek bleibt werktags bis acht Uhr geöffnet, zwei Stunden länger als bisher.",
]


# -- trees ---------------------------------------------------------------------------------
def test_exported_trees_score_as_scikit_learn_does_missing_values_included():
    from sklearn.ensemble import HistGradientBoostingClassifier

    rng = np.random.default_rng(0)
    x = rng.normal(size=(600, 4))
    y = (x[:, 0] + x[:, 1] * x[:, 2] > 0).astype(int)
    x[rng.random(x.shape) < 0.1] = np.nan
    fitted = HistGradientBoostingClassifier(max_iter=30, random_state=0).fit(x, y)
    trees = TreeEnsemble.from_sklearn(fitted, ("a", "b", "c", "d"))
    assert np.allclose(trees.logit(x), fitted.decision_function(x), atol=1e-9)
    again = TreeEnsemble.from_arrays(trees.arrays("m"), "m")
    assert np.allclose(again.probability(x), fitted.predict_proba(x)[:, 1], atol=1e-9)
    with pytest.raises(ValueError, match="expected"):
        trees.logit(x[:, :3])


# -- kinds and features ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("Photo: Getty Images", "caption"),
        ("Subscribe to our newsletter for the best stories", "call_to_action"),
        ("Updated 14:32 GMT", "stamp"),
        ("By Mara Lindqvist, Political Correspondent", "byline"),
        ("© 2026 Kellwick Gazette. All rights reserved.", "notice"),
        ("Tags: flooding, libraries, Kellwick", "tags"),
        ("Most read", "navigation"),
        ("Read the report at https://example.org/report.pdf", "link"),
        ("3 comments", "comment"),
        ("The council approved the new flood barrier on Tuesday.", None),
    ],
)
def test_line_kinds(line, kind):
    assert line_kind(line) == kind
    assert kind is None or kind in {name for name, _, _ in LINE_KINDS}


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("Thank you for signing up. For more from the Gazette, check out our latest issue", "call_to_action"),
        ("STAY UP TO DATE WITH THE FREE GAZETTE NEWS APP", "call_to_action"),
        ("Get your free flood-readiness factsheet:", "call_to_action"),
        ("With assistance by Tomas Ek and Ruth Amadi", "byline"),
        ("Source: Kellwick Gazette", "caption"),
        ("This article originally appeared on the Portlee Herald website", "notice"),
        ("Valley Courier journalism depends on readers like you", "call_to_action"),
        ("He said the free trade app was popular with farmers.", None),
        ("The song originally appeared on the band's second album.", None),
        ("The port's trade depends on readers of tide tables.", None),
        ("Residents said they would check out the new reading rooms this week.", None),
    ],
)
def test_naming_only_wordings_name_a_kind_without_being_features(line, kind):
    """Wordings found after the leftover model was fitted name a flagged line's kind (a call
    to action is boilerplate, not a teaser of another story) but leave its features as fitted."""
    assert line_kind(line) == kind
    assert not any(kind_flags(line).values())


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("| Ward 4 | Mara Lindqvist | 1,204 |", "table_row"),
        ("| • | Check the flood gates before each high tide. |", "table_row"),
        ("| Ferry timetable cut as fuel costs rise |", None),  # one cell: a layout table's line, often a teaser
        ("| Ferry timetable cut as fuel costs rise | Council approves new flood budget |", None),  # a grid of teasers
        ("| Ward 4 | 1,204 \\|", None),  # the last pipe is escaped: no row's end
        ("| Home \\| News \\| Contact |", None),  # escaped pipes sit inside one cell
        ("| Ward 4 | see https://example.org/wards |", "link"),  # a named kind first
    ],
)
def test_a_table_row_is_named_by_its_cells(line, kind):
    assert line_kind(line) == kind


def test_a_flagged_table_row_is_boilerplate_not_a_teaser():
    from coherence.evidence.lines import PageLines
    from coherence.models.leftovers import leftover_verdict

    lines = [*BODY, "| Ward 4 | Mara Lindqvist | 1,204 |"]
    verdict = leftover_verdict(PageLines(lines), len(lines) - 1, 0.9)
    assert verdict.reason == "boilerplate" and "a row of a table" in verdict.explanation


def test_a_flagged_call_to_action_is_boilerplate_not_a_teaser():
    from coherence.evidence.lines import PageLines
    from coherence.models.leftovers import leftover_verdict

    lines = [*BODY, "Thank you for signing up. For more from the Gazette, check out our latest issue"]
    verdict = leftover_verdict(PageLines(lines), len(lines) - 1, 0.97)
    assert verdict.reason == "boilerplate"
    assert "a call to action" in verdict.explanation
    teaser = leftover_verdict(PageLines([*BODY, "Ferry timetable cut as fuel costs rise"]), len(BODY), 0.97)
    assert teaser.reason == "off_topic" and "teaser" in teaser.explanation


def test_features_have_one_column_each_and_site_columns_only_when_counted():
    lines = ["Local news", *BODY, "Related stories", "Ferry timetable cut as fuel costs rise"]
    words = LineWords.default().logits(lines)
    plain = page_line_features(PageLines(lines), words)
    assert plain.shape == (len(lines), len(LINE_FEATURES))
    assert np.array_equal(plain[:, LINE_FEATURES.index("words_logit")], words)
    site = [LINE_FEATURES.index(name) for name in ("site_repeats", "site_repeat_share")]
    assert np.isnan(plain[:, site]).all()
    inner = np.delete(plain, site, axis=1)[2:-2]  # the words of lines past the page's ends are NaN
    assert np.isfinite(inner).all()
    counted = page_line_features(PageLines(lines, ([3] + [0] * (len(lines) - 1), 10)), words)
    assert np.isfinite(counted[2:-2]).all() and counted[0, site[0]] > counted[1, site[0]]
    assert page_line_features(PageLines([]), np.zeros(0)).shape == (0, len(LINE_FEATURES))
    with pytest.raises(ValueError, match="word log-odds"):
        page_line_features(PageLines(lines), words[:-1])


def test_words_context_reads_the_neighbours_of_each_line():
    logits = np.array([4.0, 2.0, -1.0, -3.0, 0.0, 1.0, 5.0])
    context = words_context(logits)
    assert set(context) == set(WORDS) and context["words_logit"] is logits
    assert np.isnan(context["words_prev"][0]) and context["words_prev"][1:].tolist() == logits[:-1].tolist()
    assert np.isnan(context["words_next2"][-2:]).all() and context["words_next2"][0] == -1.0
    # the window leaves the line itself out and stops at the page's ends
    assert context["words_window"][0] == pytest.approx((2.0 - 1.0) / 2)
    assert context["words_window"][3] == pytest.approx((2.0 - 1.0 + 0.0 + 1.0) / 4)
    assert context["words_wide"][3] == pytest.approx((logits.sum() - logits[3]) / 6)
    assert context["words_vs_page"][6] == pytest.approx(5.0 - 1.0)
    assert np.isnan(words_context(np.array([1.5]))["words_window"]).all()


def test_line_terms_mark_the_ends_and_pair_neighbours():
    terms = line_terms("Posted by Ann, 12 May 2019")
    assert {"posted", "by", ",", "00", "< posted", "posted by", "0000 >"} <= terms
    assert "ann" in terms and "Ann" not in terms
    assert line_terms("Reply") == {"reply", "< reply", "reply >"}


def test_words_model_round_trips_and_scales_by_terms(tmp_path):
    model = LineWords({"reply": 2.0, "< reply": 1.0, "council": -1.0}, intercept=-0.5)
    assert model.logits(["Reply"])[0] == pytest.approx(-0.5 + 3.0 / np.sqrt(3))
    assert model.logits(["The council met."])[0] < model.logits(["The board met."])[0]
    model.save(str(tmp_path / "w.npz"))
    again = LineWords.load(tmp_path / "w.npz")
    lines = ["Reply", "The council met.", ""]
    assert np.allclose(again.logits(lines), model.logits(lines))


def test_words_model_keeps_every_term_of_any_script_and_refuses_a_line_break(tmp_path):
    model = LineWords({"café": 0.5, "« lire": -1.25, "читать далее": 2.0, "": 0.25}, intercept=0.125)
    model.save(str(tmp_path / "w.npz"))
    assert LineWords.load(tmp_path / "w.npz") == model
    with pytest.raises(ValueError, match="line break"):
        LineWords({"two\nlines": 1.0}, intercept=0.0).save(str(tmp_path / "bad.npz"))


def test_shipped_words_model_reads_comment_controls_as_leftover():
    words = LineWords.default()
    prose = "The council approved the new flood barrier on Tuesday after a long debate."
    assert words.logits(["Reply", "Share this article"]).min() > words.logits([prose])[0]


def test_companions_leave_the_articles_own_headline_and_take_a_teaser():
    from coherence.models.leftovers import leftover_verdicts

    lines = [
        "Home | World | Business",
        "Flood barrier opens early on the River Severn",
        "By Anna Reed | 3 March",
        "The flood barrier on the River Severn opened a week early on Tuesday, engineers said.",
        "Engineers expect the river to peak on Thursday, when the barrier will hold back the water.",
        "More from the region",
        "Cyclists race through the old town square",
    ]
    page = PageLines(lines)
    assert page.body_word_share(1) > 0.8 and page.body_word_share(6) == 0.0  # "opens" is not "opened"
    # the headline and the teaser each sit next to a flagged line, between the cuts
    probability = np.array([0.95, 0.7, 0.95, 0.05, 0.05, 0.95, 0.7])
    flagged = leftover_verdicts(page, probability, cut=0.9, companion_cut=0.5)
    assert sorted(flagged) == [0, 2, 5, 6]
    # a line over the cut is flagged whatever its words
    assert 1 in leftover_verdicts(page, np.where(np.arange(7) == 1, 0.95, probability), cut=0.9, companion_cut=0.5)


def test_shipped_model_ranks_furniture_above_prose():
    model = LeftoverModel.default()
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    probability = model.probability(PageLines(lines))
    body = [i for i, line in enumerate(lines) if len(line.split()) > 20]
    furniture = [lines.index(line) for line in ("Follow us on Facebook and Twitter", "Related stories")]
    assert 0 < model.cut < 1
    assert probability[furniture].min() > probability[body].max()


# -- the detector on a scraped page -------------------------------------------------------
def test_example_page_flags_teasers_caption_and_call_to_action(detector):
    result = detector.score(EXAMPLE.read_text(encoding="utf-8"))
    by_text = {s.text: s for s in result.sentences}
    teasers = ["Council approves new cycle lanes on the coast road", "Kellwick school wins national science prize"]
    for teaser in teasers:
        assert by_text[teaser].reason == "off_topic" and "another story" in by_text[teaser].explanation
    caption = next(s for s in result.sentences if s.text.startswith("Photo:"))
    assert caption.reason == "boilerplate" and "caption" in caption.explanation
    call = next(s for s in result.sentences if s.text.startswith("Sign up"))
    assert call.reason == "boilerplate"
    body = [s for s in result.sentences if len(s.text.split()) > 15]
    assert body and not any(s.flagged for s in body)
    assert result.language == "en" and result.to_dict()["language"] == "en"


def test_a_sentence_scores_no_higher_than_its_lines_leftover_probability_allows(detector):
    result = detector.score(EXAMPLE.read_text(encoding="utf-8"))
    assert all(s.score == pytest.approx(min(s.fit, leftover_cap(s.leftover))) for s in result.sentences)
    capped = [s for s in result.sentences if s.score < s.fit]
    assert capped, "no line of the example page carries leftover evidence below its topic fit"
    assert leftover_cap(LEFTOVER_FLOOR / 2) == 1.0 and leftover_cap(1.0) == 0.0
    assert leftover_cap(0.3) > leftover_cap(0.6) > leftover_cap(0.9)
    # the page's furniture ranks below its prose by score alone
    prose = [s.score for s in result.sentences if len(s.text.split()) > 15]
    furniture = [s.score for s in result.sentences if s.evidence == "leftover"]
    assert furniture and max(furniture) < min(prose)
    record = result.to_dict(sentences=True)["sentences"]
    assert [r["fit"] for r in record] == pytest.approx([s.fit for s in result.sentences], abs=1e-4)


def test_pre_split_lines_get_leftover_flags_too(detector):
    lines = [line for line in EXAMPLE.read_text(encoding="utf-8").splitlines() if line.strip()]
    result = detector.score(lines)
    assert len(result.sentences) == len(lines)
    assert result.sentences[lines.index("Kellwick school wins national science prize")].flagged


def test_leftovers_off_keeps_topic_evidence_only(make_detector):
    result = make_detector(leftovers=False).score(EXAMPLE.read_text(encoding="utf-8"))
    assert not any("extraction" in (s.explanation or "") for s in result.sentences)


def test_a_non_english_article_gets_its_language_and_no_off_topic(make_detector):
    planted = GERMAN[:3] + ["Der Stürmer erzielte im zweiten Durchgang zwei Tore und sicherte seinem Verein den Pokal."] + GERMAN[3:]
    result = make_detector().score("\n".join(planted))
    assert result.language == "de"
    assert not any(s.reason == "off_topic" for s in result.sentences)


def test_a_heading_of_links_is_boilerplate_as_the_rules_call_it_and_a_teaser_is_off_topic():
    from coherence.models.leftovers import leftover_verdict

    page = PageLines([*BODY, "More from Business", "Ferry timetable changes for the winter season"])
    heading, teaser = leftover_verdict(page, len(BODY), 0.99), leftover_verdict(page, len(BODY) + 1, 0.99)
    assert heading.reason == "boilerplate" and "a heading of links to other stories" in heading.explanation
    assert teaser.reason == "off_topic" and "a headline or teaser of another story" in teaser.explanation


def test_a_line_of_numbers_and_a_few_words_is_not_flagged_for_its_language():
    """Language identification of month names and years is a guess ("pcm"): too few words."""
    from coherence.models.leftovers import leftover_verdicts

    calendar = "September 2006 October 2006 November 2006 December 2006"
    german = GERMAN[4]
    page = PageLines([*BODY, calendar, german])
    flagged = leftover_verdicts(page, np.zeros(len(BODY) + 2), cut=0.9, companion_cut=None)
    assert len(BODY) not in flagged and flagged[len(BODY) + 1].evidence == "language"
    by_model = leftover_verdicts(page, np.r_[np.zeros(len(BODY)), 0.97, 0.0], cut=0.9, companion_cut=None)[len(BODY)]
    assert by_model.reason == "boilerplate" and "teaser" not in by_model.explanation  # flagged as furniture, not a headline


def test_a_non_english_article_says_what_its_scores_are_in_the_table_and_the_report(make_detector):
    from coherence.cli.console import format_table
    from coherence.report.article import article_page

    detector = make_detector()
    scored = detector.score_with_vectors("\n".join(GERMAN))
    table = format_table(scored.result, low_confidence=detector.min_confidence, width=100)
    assert "Written in 'de': the topic model reads English only" in " ".join(table.split())
    assert "~" not in table  # not "a vague line or quote": no sentence is read for topic at all
    page = article_page(scored, title="de", off_topic_cut=0.5, min_confidence=detector.min_confidence, projection="pca")
    assert "Written in &#39;de&#39;: the topic model reads English only" in page or "Written in 'de': the topic model" in page
    assert 'class="s vague" id=' not in page  # no sentence marked vague (the key still explains the mark)
    assert "never off-topic" not in page  # nor hatched as such in the score chart's legend
    english = detector.score_with_vectors("\n".join(BODY))
    assert "topic model reads English only" not in format_table(english.result, low_confidence=detector.min_confidence)


def test_a_line_in_another_language_is_flagged_and_named(make_detector):
    english = "The library will also open a new reading room for children on the first floor next spring."
    result = make_detector().score("\n".join(GERMAN[:3] + [english] + GERMAN[3:]))
    flagged = next(s for s in result.sentences if s.text == english)
    assert flagged.flagged and "'en'" in flagged.explanation and "'de'" in flagged.explanation
    assert not any(s.flagged for s in result.sentences if s.text != english)
    assert "block" not in flagged.explanation  # flagged for its language, not as a companion of a flagged block
    assert flagged.evidence == "language" and flagged.reason == "boilerplate"
    assert flagged.score <= RULE_SCORE < min(s.score for s in result.sentences if not s.flagged)  # ranked with what is flagged


def test_wordless_pieces_of_a_line_with_words_are_not_fragments(detector):
    result = detector.score("The fee is 155 dollars a term. |\n" + "\n".join(BODY) + "\n\n.")
    pipe = next(s for s in result.sentences if s.text == "|")  # a table row's closing cell border
    assert not pipe.flagged
    assert result.sentences[-1].text == "." and result.sentences[-1].reason == "fragment"


# -- site repeats ----------------------------------------------------------------------------
def test_line_counts_count_pages_per_site_and_never_undercount():
    from coherence.evidence.line_counts import LineCounts, site_of

    assert site_of("https://www.Example.com/news/1") == "example.com" and site_of("example.org") == "example.org"
    assert site_of(None) is None and site_of("  ") is None
    counts = LineCounts(memory_mb=1)
    footer = "Sign up for the Kellwick Gazette newsletter"
    for k in range(5):
        counts.add("gazette.example", [f"Story number {k} about the harbour", footer, footer])
    counts.add("other.example", [footer])
    seen, pages = counts.seen("gazette.example", [footer, "Story number 2 about the harbour", "never counted"])
    assert pages == 5 and seen[0] >= 4 and seen[1] >= 0 and seen[2] >= 0
    assert seen[0] > max(seen[1], seen[2])
    assert counts.seen("unknown.example", [footer]) is None


def test_batch_site_field_names_a_template_line_by_its_repeats(tmp_path):
    footer = "Support independent local journalism in Kellwick today"
    rows = [
        {"url": f"https://gazette.example/story/{k}", "text": "\n".join([*BODY[k % 4 :], *BODY[: k % 4], footer])}
        for k in range(6)
    ]
    source = write_jsonl(tmp_path / "pages.jsonl", rows)
    output = tmp_path / "out.jsonl"
    assert main(["batch", str(source), "-o", str(output), "--site-field", "url"]) == 0
    records = read_output(output)
    assert len(records) == 6 and all(r["error"] is None for r in records)
    summary = json.loads((tmp_path / "out.jsonl.summary.json").read_text(encoding="utf-8"))
    assert summary["settings"]["site_field"] == "url"


def test_counted_repeats_raise_a_template_lines_leftover_probability(make_detector):
    footer = "Support independent local journalism in Kellwick today"
    pages = [("https://gazette.example/story/%d" % k, "\n".join([*BODY[k % 4 :], *BODY[: k % 4], footer])) for k in range(8)]
    plain = make_detector()
    counted = make_detector().count_lines(pages)
    site, text = pages[0]
    before = next(s for s in plain.score(text).sentences if s.text == footer)
    after = next(s for s in counted.score(text, site=site).sentences if s.text == footer)
    assert after.leftover > before.leftover


def test_page_reader_reads_only_pages_the_trees_find_furniture_on():
    model = LeftoverModel.default()
    if model.reader is None:
        pytest.skip("this checkout ships no page reader stack")
    read: list[list[str]] = []

    def logits(lines: list[str]) -> np.ndarray:
        read.append(lines)
        return np.full(len(lines), 2.0)

    assert 0 < model.reader.trigger < model.cut
    prose, page = PageLines(BODY), PageLines(EXAMPLE.read_text(encoding="utf-8").splitlines())
    trees = model.probability(prose)
    assert trees.max() < model.reader.trigger  # the premise: clean prose stays under the trigger
    auto = PageReading(logits, cut=model.reader.cut)
    probability, was_read = model.read(prose, auto)
    assert not was_read and not read and np.array_equal(probability, trees)
    probability, was_read = model.read(page, auto)
    assert was_read and read == [page.lines]
    assert np.allclose(probability, model.reader.probability(model.probability(page), np.full(len(page.lines), 2.0)))
    _, was_read = model.read(prose, PageReading(logits, cut=model.reader.cut, always=True))
    assert was_read and read[-1] == prose.lines
    probability, was_read = model.read(page, None)
    assert not was_read and np.array_equal(probability, model.probability(page))

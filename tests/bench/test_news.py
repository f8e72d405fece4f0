"""The news benchmark's corpus, splits and donors, and its report end to end on a tiny corpus."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from benchmarks.intrusions import Source, build_cases, shares_text
from benchmarks.news_corpus import (
    OUTLET_GROUPS, SEEN_ELSEWHERE, load_news, nearest_stories, news_split, outlet_group, split_of, held_out_outlets,
)
from coherence.text.segment import split_sentences

ROOT = Path(__file__).resolve().parents[2]
ARTICLES = sorted((ROOT / "tests" / "data" / "articles").glob("*.txt")) + sorted((ROOT / "examples").glob("*.txt"))


def _article(topic: str, n: int, paragraphs: int = 3) -> str:
    body = "\n\n".join(
        " ".join(f"The {topic} story number {n} goes on in paragraph {p} with detail {k} today." for k in range(3))
        for p in range(paragraphs)
    )
    return f"A headline about {topic} {n}\n\n{body}"


def test_paragraph_condition_pastes_one_donor_paragraph_as_a_paragraph_of_its_own() -> None:
    host = Source("h", "x", _article("rail", 1))
    donor = Source("d", "x", _article("flood", 2))
    (case,) = build_cases([host], "paragraph", seed=3, donors=[host, donor])
    assert case.condition == "paragraph" and 2 <= len(case.planted) <= 5
    pasted = [case.text[a:b] for a, b in case.planted]
    assert all("flood" in sentence and sentence in donor.text for sentence in pasted)
    start, end = case.planted[0][0], case.planted[-1][1]
    assert case.text[start - 2 : start] == "\n\n" and case.text[end : end + 2] == "\n\n"
    # the host's own text is all still there, in order
    assert case.text[: start - 2] + case.text[end:] == host.text


def test_teasers_condition_appends_headline_and_lead_of_other_stories_after_the_host() -> None:
    host = Source("h", "x", _article("rail", 1))
    others = [Source(f"d{k}", "y" if k % 2 else "x", _article(topic, k)) for k, topic in enumerate(("flood", "tax", "vote", "ship", "moon", "bank", "game"))]
    (case,) = build_cases([host], "teasers", seed=3, donors=[host, *others])
    assert case.condition == "teasers" and case.text.startswith(host.text)
    pieces = [case.text[a:b] for a, b in case.planted]
    assert 6 <= len(pieces) <= 12 and len(pieces) % 2 == 0  # 3-6 stories, a headline and a lead each
    for headline, lead in zip(pieces[::2], pieces[1::2]):
        story = next(o for o in others if o.text.startswith(headline + "\n\n"))  # the story's own headline
        assert lead in story.text and lead.startswith("The ") and "rail" not in lead
    assert case.text[len(host.text) :].replace("\n\n", "") == "".join(pieces)  # the block follows the host, nothing else


def test_teasers_condition_leaves_a_host_clean_when_every_story_repeats_it() -> None:
    host = Source("h", "x", _article("rail", 1))
    copies = [Source(f"c{k}", "x", host.text.replace("A headline", f"Headline {k}")) for k in range(4)]
    (case,) = build_cases([host], "teasers", seed=1, donors=[host, *copies])
    assert case.condition == "clean" and case.text == host.text and not case.planted


def test_a_donor_that_repeats_a_host_sentence_is_passed_over() -> None:
    host = Source("h", "x", _article("rail", 1))
    copy = Source("c", "x", host.text.replace("A headline", "Another headline"))
    other = Source("o", "x", _article("flood", 2))
    assert shares_text(host.text, copy.text) and not shares_text(host.text, other.text)
    for seed in range(5):
        (case,) = build_cases([host], "same", seed=seed, n_planted=(1, 2), donors=[host, copy, other])
        assert all("flood" in case.text[a:b] for a, b in case.planted)
    (alone,) = build_cases([host], "same", seed=0, donors=[host, copy])
    assert alone.condition == "clean" and alone.text == host.text


def test_nearest_condition_plants_from_the_mapped_story_and_needs_the_map() -> None:
    host, near, far = Source("h", "x", _article("rail", 1)), Source("n", "x", _article("flood", 2)), Source("f", "y", _article("chess", 3))
    (case,) = build_cases([host], "nearest", seed=1, n_planted=(2, 2), nearest={"h": "n"}, donors=[host, near, far])
    assert len(case.planted) == 2 and all("flood" in case.text[a:b] for a, b in case.planted)
    with pytest.raises(ValueError, match="nearest"):
        build_cases([host], "nearest")


def test_nearest_stories_pick_the_most_similar_other_story_that_is_no_copy() -> None:
    pool = [Source("h", "x", _article("rail", 1)), Source("copy", "x", _article("rail", 1).replace("A", "The", 1)),
            Source("near", "x", _article("flood", 2)), Source("far", "x", _article("chess", 3))]
    vectors = np.array([[1.0, 0.0], [1.0, 0.01], [0.9, 0.3], [0.0, 1.0]])
    assert nearest_stories(pool[:1], vectors[:1], pool, vectors) == {"h": "near"}


def test_outlet_groups_hold_out_some_outlets_of_every_group_and_never_the_bbc() -> None:
    assert outlet_group("Reuters") == "wire" and outlet_group("NPR Online News") == "broadcast"
    assert outlet_group("Fox News Opinion") == "opinion" and outlet_group("Some Blog") == "online"
    names = {"wire": ["Reuters", "Associated Press", "Bloomberg"], "broadcast": ["CNN (Web News)", "CBS News", "BBC News"],
             "newspaper": ["USA TODAY", "Washington Post"], "opinion": ["Townhall", "Reason"], "online": ["Vox", "Salon", "Slate"]}
    sources = [Source(f"{o}-{k}", "t", "x", o) for group in names.values() for o in group for k in range(10)]
    held = held_out_outlets(sources)
    assert {outlet_group(o) for o in held} == set(OUTLET_GROUPS)
    assert not held & SEEN_ELSEWHERE
    for group, outlets in names.items():  # never a whole group
        assert not set(outlets) <= held, group
    splits = [split_of(s, held) for s in sources]
    assert splits == [split_of(s, held) for s in sources]  # stable
    assert {"train", "test_outlets"} <= set(splits)
    assert all((split == "test_outlets") == (s.outlet in held) for s, split in zip(sources, splits))


def _news_file(path: Path) -> Path:
    outlets = ["Reuters", "CNN (Web News)", "Townhall", "Some Blog"]
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        for k, article in enumerate(ARTICLES):
            title, _, body = article.read_text(encoding="utf-8").partition("\n")
            record = {"id": f"n{k}", "source": outlets[k % 4], "topic": "ab"[k % 2], "title": title, "text": body.strip()}
            handle.write(json.dumps(record) + "\n")
        handle.write(json.dumps({**record, "id": "repeat"}) + "\n")  # the same body again
        handle.write(json.dumps({**record, "id": "empty", "text": " "}) + "\n")
    return path


def test_load_news_puts_the_title_first_and_keeps_each_body_once(tmp_path: Path) -> None:
    sources = load_news(_news_file(tmp_path / "news.jsonl.gz"))
    assert len(sources) == len(ARTICLES)
    first = sources[0]
    assert first.outlet == "Reuters" and first.category == "a"
    assert list(split_sentences(first.text))[0].paragraph == 0 and "\n\n" in first.text


def test_news_benchmark_writes_its_report(tmp_path: Path, detector) -> None:
    from benchmarks import news_quality

    corpus = _news_file(tmp_path / "news.jsonl.gz")
    held = news_split(load_news(corpus), "test_outlets")
    args = news_quality.parse_args(["--corpus", str(corpus), "--out-dir", str(tmp_path), "--splits", "test_outlets", "--n", "10"])
    run = news_quality.run_all(args, detector=detector)
    run["argv"] = []
    news_quality.write_outputs(args, run)
    report = (tmp_path / "quality_news.md").read_text()
    raw = json.loads((tmp_path / "quality_news.json").read_text())
    result = raw["splits"]["test_outlets"]
    assert result["n_hosts"] == sum(1 for s in held if sum(x.paragraph > 0 for x in split_sentences(s.text)) >= 5)
    assert "## Targets" in report and "## test_outlets" in report
    rates = result["group_rates"]
    assert [r["flag_rate"] for r in rates] == [r["flag_rate"] for r in result["operating_points"]]
    for row in rates:  # the groups partition the clean articles
        assert sum(row[f"n_{g}"] for g in OUTLET_GROUPS) == row["n_all"] == result["evaluated"]["n"]["clean"]
    assert set(result["evaluated"]["methods"]["coherence"]) >= {"cross", "same", "paragraph"}


def test_in_a_teaser_block_every_flag_of_the_detector_counts_as_found(detector) -> None:
    from benchmarks.intrusions import Case
    from benchmarks.quality import flags_at, to_scored

    host = (ROOT / "tests" / "data" / "articles" / "rail_strike.txt").read_text(encoding="utf-8").rstrip()
    teaser = "Sign up for our daily newsletter to get the latest news in your inbox."  # a call to action: not the topic model's
    text = f"{host}\n\n{teaser}"
    span = [(len(text) - len(teaser), len(text))]
    result = detector.score(text)
    found = next(s for s in result.sentences if s.text == teaser)
    assert found.flagged and found.evidence != "topic"  # set apart before the topic model
    as_teasers = to_scored(Case("t", "teasers", text, span), result, detector.encoder)
    as_same = to_scored(Case("t", "same", text, span), result, detector.encoder)
    k = [s.text for s in result.sentences].index(teaser)
    assert as_teasers.labels[k] and as_teasers.flags[k] and not as_same.flags[k]
    assert as_teasers.scores["coherence"][k] > 0 and as_same.scores["coherence"][k] == 0  # its full score counts there
    cut = detector.cut_at(detector.flag_rate)
    for scored in (as_teasers, as_same):  # the operating points re-derive the detector's own flags
        assert (flags_at(scored, cut, detector) == scored.flags).all()


def test_context_training_plants_the_news_conditions_asked_for() -> None:
    from training.fit_weights import NEWS_CONDITIONS, NewsHosts, main, news_versions

    hosts = [Source(f"h{k}", "x" if k % 2 else "y", _article(topic, k)) for k, topic in enumerate(("rail", "flood", "tax", "vote", "ship", "moon", "bank", "game"))]
    news = NewsHosts(hosts, hosts, {})
    assert {c.condition for c in news_versions(news, 3, ("same", "teasers"))} == {"same", "teasers", "clean"}
    assert "teasers" not in NEWS_CONDITIONS  # the shipped recipe plants no teaser blocks
    with pytest.raises(SystemExit):
        main(["--news-conditions", "cross,pasted"])

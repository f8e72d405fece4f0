"""The scraped audit's arithmetic and its verdict sheets (no scoring, no data)."""

from __future__ import annotations

import math

import pytest

from benchmarks.scraped_audit import digest, draw, read_verdicts, shares, wilson


def test_wilson_interval_holds_the_proportion_and_narrows_with_more_trials():
    low, high = wilson(20, 80)
    assert low < 0.25 < high
    wide = wilson(2, 8)
    assert wide[1] - wide[0] > high - low
    assert wilson(0, 10)[0] == 0.0 and wilson(10, 10)[1] == 1.0
    assert all(math.isnan(x) for x in wilson(0, 0))


def test_draw_is_seeded_and_ignores_input_order():
    pool = [(f"page{k}", i) for k in range(30) for i in range(7)]
    first = draw(pool, 25)
    assert len(first) == 25 and len(set(first)) == 25
    assert draw(list(reversed(pool)), 25) == first
    assert draw(pool, 25, seed=1) != first
    assert draw(pool[:5], 25) == sorted(pool[:5])


def _sheet(tmp_path, rows, header="# article_lines=1000\n# lost_lines=50\n"):
    path = tmp_path / "sheet.tsv"
    body = "kind\tkey\tline\tdigest\tverdict\n" + "".join("\t".join(r) + "\n" for r in rows)
    path.write_text(header + body, encoding="utf-8")
    return path


def test_read_verdicts_counts_and_population(tmp_path):
    rows = [("lost", "a/1", "3", digest("x"), "article"), ("lost", "a/1", "4", digest("y"), "furniture"), ("missed", "b/2", "0", digest("z"), "comment")]
    read, population, notes = read_verdicts(_sheet(tmp_path, rows, header="# drawn at `abc`, n=2\n# article_lines=1000\n# lost_lines=50\n"))
    assert population == {"article_lines": 1000, "lost_lines": 50}
    assert notes == ["drawn at `abc`, n=2"]
    found = shares(read, "lost")
    assert found["article"][:2] == (1, 2) and found["furniture"][:2] == (1, 2) and found["comment"][:2] == (0, 2)
    assert shares(read, "missed")["comment"][:2] == (1, 1)


def test_read_verdicts_refuses_an_unknown_verdict(tmp_path):
    with pytest.raises(ValueError, match="not one of"):
        read_verdicts(_sheet(tmp_path, [("lost", "a/1", "3", digest("x"), "maybe")]))


def test_digest_ignores_surrounding_space_only():
    assert digest("  Home  ") == digest("Home") != digest("home")


def test_line_form_tells_tables_lists_headings_and_prose_apart():
    from benchmarks.scraped_audit import line_form

    assert line_form("| San Diego | 40.6% |") == "table or code row"
    assert line_form("404 \u2502 0 \u2502 0.133") == "table or code row"
    assert line_form("- Roxbury") == "list item"
    assert line_form("12. Weigley, p. 174.") == "list item"
    assert line_form("Actress Lily Collins") == "heading or label"
    assert line_form("A driver was arrested after the truck flipped over in Queens.") == "prose"


def test_every_committed_verdict_sheet_reads_with_its_population_and_no_page_text():
    from pathlib import Path

    from benchmarks.scraped_audit import COLUMNS, KINDS, read_verdicts

    sheets = sorted((Path(__file__).resolve().parents[2] / "benchmarks" / "audit").glob("*.tsv"))
    assert sheets
    for sheet in sheets:
        rows, population, _ = read_verdicts(sheet)
        assert {r["kind"] for r in rows} == set(KINDS), sheet.name
        assert population["lost_lines"] <= population["article_lines"], sheet.name
        assert all(set(r) == set(COLUMNS) for r in rows), sheet.name  # keys, digests, verdicts: no page text

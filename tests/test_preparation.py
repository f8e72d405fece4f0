"""What `prepare_article` flags on text alone: repeats and fragments judged by the line."""

from __future__ import annotations

from coherence.preparation import prepare_article

QUOTE = "The new bridge will carry four lanes of traffic across the river."


def reasons(text: str) -> dict[str, str | None]:
    prepared = prepare_article(text, leftover_cut=None, leftover_companion_cut=None)
    return {t: (v.reason if v else None) for t, v in zip(prepared.texts, prepared.verdicts)}


def test_a_repeated_line_is_a_duplicate_but_a_quoted_sentence_in_new_prose_is_not():
    text = f"Bridge plans approved\n{QUOTE} Work starts in May.\nA reader wrote in. {QUOTE} Not before time.\n{QUOTE}"
    prepared = prepare_article(text, leftover_cut=None, leftover_companion_cut=None)
    copies = [v for t, v in zip(prepared.texts, prepared.verdicts) if t.endswith("across the river.")]
    assert len(copies) == 3
    assert copies[0] is None and copies[1] is None  # the first copy, and the one quoted in a comment
    assert copies[2] is not None and copies[2].reason == "duplicate"  # the line that is nothing but the copy


def test_wordless_pieces_of_a_worded_line_are_not_fragments():
    text = "Gallium nitride crystals grown under pressure\n[8] Z. Weber and J. Chen, Journal of Crystal Growth. 25, 1545 (1996). Their results held.\n* * *\nThe end of the story came in May."
    prepared = prepare_article(text, leftover_cut=None, leftover_companion_cut=None)
    citation = prepared.texts.index("25, 1545 (1996).")  # a wordless piece of a reference line
    assert citation in prepared.absorbed and prepared.verdicts[citation] is None
    alone = prepared.texts.index("* * *")  # a line with no word at all
    assert alone not in prepared.absorbed and prepared.verdicts[alone].reason == "fragment"


def test_a_bare_stop_left_at_a_line_start_is_still_a_fragment():
    prepared = prepare_article("Bridge plans approved\n. Despite that, work on the bridge starts in May.", None, None)
    stop = prepared.texts.index(".")
    assert stop not in prepared.absorbed and prepared.verdicts[stop].reason == "fragment"


def test_an_ellipsis_that_opens_an_excerpt_is_part_of_its_line():
    text = (
        "Bridge plans approved\n"
        ". . . having measurable support was associated with having a vote.\n"
        "The council met on Monday.\n"
        "… we need not marvel that the council took so long over the bridge.\n"
        "The engineers agreed.\n"
        "... and then\n"
        "The end of the story came in May.\n..."
    )
    prepared = prepare_article(text, leftover_cut=None, leftover_companion_cut=None)
    by_text = dict(zip(prepared.texts, prepared.verdicts))
    for opener in ("…", "..."):
        i = prepared.texts.index(opener)
        assert i in prepared.absorbed and prepared.verdicts[i] is None
    spaced = [i for i, t in enumerate(prepared.texts) if t == "."]
    assert len(spaced) == 3 and all(i in prepared.absorbed for i in spaced)  # ". . ." split in three
    assert by_text["we need not marvel that the council took so long over the bridge."] is None
    assert by_text["and then"].reason == "fragment"  # the rest of the line is still judged
    last = len(prepared.texts) - 1  # an ellipsis alone on its line is no excerpt
    assert prepared.texts[last] == "..." and prepared.verdicts[last].reason == "fragment"


def test_the_line_model_withdraws_a_rule_flag_on_a_line_it_reads_as_article(monkeypatch):
    """A rule's boilerplate or fragment flag on a worded line stands only when the line model
    gives the line at least RULE_VETO; a wordless line keeps its fragment flag whatever it says."""
    import numpy as np

    from coherence.models.leftovers import RULE_VETO, LeftoverModel

    text = "Bridge plans approved after a long wait\nClick here for more information.\n***\nWork on the bridge starts in May."
    plain = prepare_article(text, leftover_cut=None, leftover_companion_cut=None)
    click = plain.texts.index("Click here for more information.")
    stars = plain.texts.index("***")
    assert plain.verdicts[click].reason == "boilerplate" and plain.verdicts[stars].reason == "fragment"

    def read_as(probability: float):
        monkeypatch.setattr(LeftoverModel, "read", lambda self, page, reading: (np.full(len(page.lines), probability), False))
        return prepare_article(text, leftover_cut=0.99, leftover_companion_cut=None)

    low = read_as(RULE_VETO / 2)
    assert low.verdicts[click] is None  # withdrawn: the line model reads it as article text
    assert low.verdicts[stars].reason == "fragment"  # no words: not article text whatever the model says
    high = read_as(min(1.0, RULE_VETO * 2))
    assert high.verdicts[click].reason == "boilerplate" and high.verdicts[click].evidence == "rule"


def test_a_rule_flag_on_a_worded_sentence_scores_below_belonging_and_the_line_model_orders_it():
    """A rule's flag scores RULE_SCORE (at most), so the line model's cap orders the flags below
    it; a sentence with no word is no text and scores 0."""
    from coherence.preparation import RULE_SCORE, score_without_topic
    from coherence.results import sentence_result
    from coherence.verdict import Verdict

    rule = Verdict("boilerplate", "A call to action.")
    click = "Click here for more information."
    assert 0.0 < RULE_SCORE < 0.5
    assert score_without_topic(rule, 0.05, True, click) == RULE_SCORE
    assert score_without_topic(Verdict("fragment", "No words."), 0.05, True, "***") == 0.0
    doubted, trusted = (sentence_result(click, score_without_topic(rule, p, True, click), 1.0, rule, p) for p in (0.95, 0.05))
    assert doubted.score < trusted.score == RULE_SCORE
    assert doubted.flagged and trusted.flagged and trusted.reason == "boilerplate"


def test_a_news_convention_stays_flagged_where_the_line_model_reads_article(monkeypatch):
    """Picture credits, contributor lines and the like are firm rules: the line model, which
    withdraws a generic rule's flag on a line it reads as article, leaves them standing."""
    import numpy as np

    from coherence.models.leftovers import RULE_VETO, LeftoverModel

    credit, contributors = "Lena Park/Reuters", "Additional reporting by Omar Haddad in Cairo."
    text = f"Bridge plans approved after a long wait\n{credit}\nClick here for more information.\nWork starts in May.\n{contributors}"
    monkeypatch.setattr(LeftoverModel, "read", lambda self, page, reading: (np.full(len(page.lines), RULE_VETO / 2), False))
    prepared = prepare_article(text, leftover_cut=0.99, leftover_companion_cut=None)
    verdict = dict(zip(prepared.texts, prepared.verdicts))
    assert verdict["Click here for more information."] is None  # generic: withdrawn
    assert verdict[credit].reason == "boilerplate" and verdict[credit].firm
    assert verdict[contributors].reason == "boilerplate" and "contributor" in verdict[contributors].explanation


def test_every_sentence_of_a_line_ending_in_a_picture_credit_is_a_caption():
    caption = "Rescuers search the rubble in Marlow Vale on Tuesday, May 5. Two people were found alive. (AP Photo/Lena Park)"
    prose = "The council met on Tuesday. It approved the bridge (photo below shows the site) and the budget."
    prepared = prepare_article(f"Bridge plans approved\n{caption}\n{prose}", leftover_cut=None, leftover_companion_cut=None)
    verdict = dict(zip(prepared.texts, prepared.verdicts))
    for text in ("Rescuers search the rubble in Marlow Vale on Tuesday, May 5.", "Two people were found alive."):
        assert verdict[text].reason == "boilerplate" and "(AP Photo/Lena Park)" in verdict[text].explanation
    assert verdict["(AP Photo/Lena Park)"].reason == "boilerplate"
    assert all(v is None for t, v in verdict.items() if t in prose)  # a credit inside prose is no caption line
    long_paragraph = " ".join(["The barrier held through the storm, engineers said on Wednesday."] * 9) + " (Photo: Lena Park)"
    prepared = prepare_article(f"Bridge plans approved\n{long_paragraph}", leftover_cut=None, leftover_companion_cut=None)
    assert prepared.verdicts[1] is None  # a paragraph that happens to end in a credit is not a caption

"""Rule-based flags that need no model: boilerplate, duplicates, fragments."""

from __future__ import annotations

import pytest

from coherence.text.boilerplate import boilerplate_verdict
from coherence.text.fragments import fragment_verdict
from coherence.text.repeats import duplicate_verdicts, kept_copy_repeats, whole_line_repeats
from coherence.verdict import Verdict

# -- boilerplate ----------------------------------------------------------------------------------

BOILERPLATE = [
    "Related news",
    "Related stories",
    "More stories",
    "Share this article",
    "Share on Facebook | Twitter | Email",
    "Follow us on Twitter",
    "Sign up for our newsletter",
    "Subscribe now",
    "Read more",
    "Click here to subscribe",
    "By Jane Doe",
    "By Jane Doe, Health Correspondent",
    "Image copyright Getty Images",
    "Photo: Reuters",
    "We use cookies to improve your experience on our site.",
    "Accept all cookies",
    "Privacy policy",
    "Copyright 2024 Example News. All rights reserved.",
    "Advertisement",
    "Published on 12 March 2024",
    "Tags: health, hospitals",
    "Skip to content",
    "Leave a comment",
    "Jane Doe is technology correspondent for The Example Times.",
    "Sam Lee is the editor of Gadget Weekly, which covers consumer electronics.",
    "Ann Robb is a regular commentator on the Tech Hour programme.",
    "Tom Ng is a contributor to Example Weekly.",
    "Subs Not Used: Smith, Jones, Brown.",
    "Booked: Carter, Lewis.",
    "Goals: Ortega 12, Mills 77 og.",
    "Att: 31,204 Ref: P Grant (Kent).",
    "Posted by: Jamie | Mar 3, 2011 4:12:09 PM",
    "Posted by Dana Lee at May 2, 2009 10:15 PM | Permalink | Comments (4)",
    "by rivertown on Aug 4, 2013 2:05 PM EDT reply actions",
    "Written by Sam, 14/02/2012",
    "Reply",
    "Report abuse",
    "Report this comment.",
    "Permalink",
    # news conventions (firm rules)
    "(AP Photo/Lena Park, File)",
    "Enlarge this image toggle caption Omar Haddad/AFP/Getty Images Omar Haddad/AFP/Getty Images",
    "Lena Park/Reuters",
    "Photograph: Omar Haddad/EPA",
    "Updated 4:56 p.m. ET, Jan. 12, 2019",
    "Published March 3, 2021 at 7:02 am",
    "Updated Wednesday 5/29 at 10:30 a.m. ET",
    "Last updated: 14 June 2021",
    "Contributing: The Associated Press",
    "Additional reporting by Omar Haddad in Cairo",
    "Reporting by Lena Park; Editing by Omar Haddad",
    "Reporting by Lena Park, Omar Haddad, and Ruth Amadi; Editing by Tomas Ek",
    "— With assistance by Lena Park, Omar Haddad, and Ruth Amadi",
    "(Omar Haddad/ Reuters)",
    "Wire writer Lena Park in Lisbon contributed to this report.",
    "Email: lena.park@example.org",
    "Twitter: @lenapark",
    "Follow Lena Park on Twitter @lenapark",
    "Download the Example News app for breaking news alerts",
    "Listen live",
    "Get our top stories delivered to your inbox every morning",
    "Have a news tip? Send it to us.",
    "This article is more than 2 years old",
    "RELATED: Fire crews battle blaze near the dam",
    "More: Storm closes schools across the valley",
    "Story Continued Below",
    "Advertisement Continue reading the main story",
    "Slideshow (12 Images)",
    "prev Image 3 of 12",
    "Follow @examplenews",
    "Support our journalism",
    "Sign up for Daily Newsletters",
    "By signing up, you agree to our Privacy Policy and Terms of Use.",
    "Loading...",
]

NOT_BOILERPLATE = [
    "Shares in the company rose 5% after the announcement.",
    "Share prices fell sharply on Monday as investors took fright.",
    "The company will share the cost of the new bridge with the council.",
    "The bakery sold 3,000 cookies at the weekend.",
    "Cookies and cakes were handed out to the nurses on the new ward.",
    "We sold more cookies this year than ever before, the bakery's owner said.",
    "By Tuesday, Congress will vote.",
    "By the end of the year, prices had doubled.",
    "Video games sales rose 20% last year.",
    "More news is expected on Friday.",
    "Follow-up talks are planned for next week.",
    "Next year the hospital will open a new wing.",
    "Comments from the minister angered the union.",
    "Advertising revenue fell 8% in the quarter.",
    "Read the full report, the minister urged MPs.",
    "Subscribers will pay more from May.",
    "Photographers gathered outside the court.",
    "Acme is a key producer of equipment for hospitals.",
    "Jane Doe is a reporter who has covered the courts for decades and will retire next year.",
    "Goals from the two strikers sealed the win.",
    "Piers Morgan is the former editor of the Daily Mirror.",
    "John Smith is an analyst at Capital Economics.",
    "The fund is a major contributor to the city's arts budget.",
    "Goal: to cut emissions by half by 2030.",
    "Reporting by the regulator found that a third of the loans were never repaid.",
    "Dr Park contributed to the report's findings on flood defences.",
    "With assistance from the coastguard, the crew reached the harbour.",
    "Omar Haddad (Reuters) said the vote would be close.",
    "Follow the money, the investigators told the committee.",
    "Published in 1869, the novel runs to more than 1,200 pages.",
    "Updated figures from the census show the town grew by 4% in 2020.",
    "Updated rules take effect in 2021.",
    "Posted guards stood at the gate until 10:30.",
    "More than 2,000 people were evacuated: the river rose by a metre overnight.",
    "Related costs rose by 12% in the year to March.",
    "Photographs of the damage were shared widely online on Sunday.",
    "The company's app was downloaded 2 million times last year.",
    "The story continues to unfold in Ohio.",
    "Continue reading the report, he said.",
    "Close to 3,000 people attended the rally.",
    "Support for the measure fell to 41%.",
    "By signing up for the scheme, farmers agree to plant hedgerows.",
    "Attendance: down 12% on last year.",
    "Referee: a man who has seen it all.",
    "Posted by the ministry on 12 May 2020, the letter warned that hospitals would run short of oxygen within days.",
    "Written by Tolstoy in 1869, the novel runs to more than 1,200 pages.",
    "By 2030, the city wants every bus to run on electricity.",
    "By the time police arrived at 11:40, the crowd had gone.",
    "Reply to the consultation by 30 June 2021, the council said.",
    "Reports of abuse rose by a third.",
    "By noon on 5 May 2020, the deadline had passed.",
]


@pytest.mark.parametrize("text", BOILERPLATE)
def test_boilerplate_flagged(text):
    verdict = boilerplate_verdict(text)
    assert verdict is not None, text
    assert verdict.reason == "boilerplate"
    assert verdict.explanation.strip()


@pytest.mark.parametrize("text", NOT_BOILERPLATE)
def test_news_sentences_not_boilerplate(text):
    assert boilerplate_verdict(text) is None


def test_boilerplate_tolerates_surrounding_space_and_punctuation():
    assert boilerplate_verdict("  Related news  ") is not None
    assert boilerplate_verdict("Read more »") is not None
    assert boilerplate_verdict("Share this article:") is not None


def test_long_sentence_starting_like_boilerplate_is_content():
    text = (
        "Follow us on Twitter, the campaign's organisers told thousands of marchers, as police closed "
        "the bridge and the crowd moved slowly towards the square outside the parliament building."
    )
    assert boilerplate_verdict(text) is None


# -- duplicates -----------------------------------------------------------------------------------

HEADLINE = "Syrian army makes advances in Deir al-Zour, capturing new areas"
OTHER = "The Turkish Foreign Ministry says a de-escalation zone has been agreed."


def reasons(verdicts):
    return [v.reason if v else None for v in verdicts]


def test_exact_repeat_flagged_first_copy_kept():
    verdicts = duplicate_verdicts([HEADLINE, OTHER, HEADLINE, HEADLINE])
    assert reasons(verdicts) == [None, None, "duplicate", "duplicate"]
    assert all(v.explanation.strip() for v in verdicts[2:])


def test_explanation_points_at_first_copy():
    verdicts = duplicate_verdicts([OTHER, HEADLINE, "Something else happened today.", HEADLINE])
    assert "2" in verdicts[3].explanation


@pytest.mark.parametrize(
    "copy",
    [
        HEADLINE + ".",
        HEADLINE.upper(),
        HEADLINE.replace(",", ""),
        HEADLINE.replace("areas", "territory"),
        HEADLINE.replace("advances", "gains"),
    ],
    ids=["full-stop", "upper-case", "no-comma", "last-word-changed", "middle-word-changed"],
)
def test_near_repeat_flagged(copy):
    assert reasons(duplicate_verdicts([HEADLINE, OTHER, copy])) == [None, None, "duplicate"]


def test_near_repeat_of_long_sentence_with_changed_word():
    first = "Health minister Clara Osei cut the ribbon at a ceremony attended by nurses, doctors and the families of young patients."
    copy = first.replace("ceremony", "celebration")
    assert reasons(duplicate_verdicts([first, OTHER, copy])) == [None, None, "duplicate"]


def test_sentences_sharing_a_phrase_not_duplicates():
    sentences = [
        "The minister said the hospital would open in May.",
        "The minister said the strike would end soon.",
        "Syrian army makes advances in Deir al-Zour after a long siege of the city.",
        "Syrian army makes advances in Deir al-Zour, capturing new areas",
    ]
    assert reasons(duplicate_verdicts(sentences)) == [None] * 4


def test_sentences_differing_in_a_number_are_two_facts():
    first = "The evening class meets on Monday, February 12 from 1 to 4 p.m. in room 210."
    other_day = first.replace("12", "19")
    assert reasons(duplicate_verdicts([first, OTHER, other_day])) == [None, None, None]
    assert reasons(duplicate_verdicts([first, OTHER, first.replace("class", "course")])) == [None, None, "duplicate"]


def test_table_rows_repeat_only_as_exact_copies():
    row = "| Scheduled: | Tuesday evenings in the main hall of the library |"
    near = row.replace("Tuesday", "Thursday")
    assert reasons(duplicate_verdicts([HEADLINE, row, near])) == [None, None, None]
    assert reasons(duplicate_verdicts([HEADLINE, row, row])) == [None, None, "duplicate"]


def test_no_duplicates_in_distinct_sentences():
    assert reasons(duplicate_verdicts([HEADLINE, OTHER, "Yes."])) == [None, None, None]


def test_min_words_protects_short_repeats():
    assert reasons(duplicate_verdicts([HEADLINE, "Yes.", OTHER, "Yes."], min_words=2)) == [None] * 4


# -- fragments ------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [".", "|", "* * *", "...", "—", "and the minister said", "of the new"])
def test_fragment_flagged(text):
    verdict = fragment_verdict(text)
    assert verdict is not None, text
    assert verdict.reason == "fragment"
    assert verdict.explanation.strip()


@pytest.mark.parametrize(
    "text",
    [
        "Rail Strike Halts Trains Across the North",
        "Rail strike halts trains across the north",
        "iTunes now selling Band Aid song",  # a real BBC News headline (2004)
        "Yes.",
        "No, he said.",
        "The minister said.",
        "The hospital admitted its first patients on Monday after six years of planning and building work.",
        "3rd 1m 15.788s",  # a result line
        "- no need for a phone wire",  # a list item
        "www.kellwick-gazette.example/library",  # a link the article cites
        "read the report at https://example.org",
    ],
)
def test_not_fragment(text):
    assert fragment_verdict(text) is None


def test_a_piece_after_open_text_carries_it_on():
    # a hard-wrapped paragraph passed line by line: the piece continues the line before it
    assert fragment_verdict("might be called", previous="In what the ministry") is None
    assert fragment_verdict("might be called", previous="The report was published.") is not None
    assert fragment_verdict("might be called", previous=None) is not None
    assert fragment_verdict("|", previous="In what the ministry") is not None  # no words: always
    assert fragment_verdict("buckwheat seeds", previous="You will need:") is None  # a list's first item


def test_pre_split_lines_of_a_wrapped_paragraph_are_not_fragments():
    from coherence.preparation import prepare_article

    lines = [
        "The council said on Tuesday that the new bridge, which has been",
        "delayed twice, would open in",
        "the spring of next year after",
        "final safety checks are done.",
        "and the minister said",
    ]
    verdicts = prepare_article(lines, None, None).verdicts
    assert [v.reason if v else None for v in verdicts] == [None, None, None, None, "fragment"]


def test_short_lines_repeat_by_design_but_a_short_headline_copy_is_a_repeat():
    assert duplicate_verdicts(["Council votes on the budget", "Yes.", "The vote passed.", "Yes."]) == [None] * 4
    steps = ["Pancakes for a crowd", "Step 1", "Whisk the eggs and milk together.", "Step 2", "Fry each one for a minute."]
    assert duplicate_verdicts(steps + ["Reply", "Nice recipe!", "Reply", "Reply"]) == [None] * 9
    verdicts = duplicate_verdicts(["Flood barrier opens early"] * 3 + ["The council met on Monday evening."])
    assert verdicts[0] is None and verdicts[-1] is None
    assert all(v is not None and v.reason == "duplicate" and v.original == 0 for v in verdicts[1:3])


def test_a_long_sentence_copied_is_a_repeat_anywhere():
    long = "The council approved the new flood barrier on Tuesday evening."
    verdicts = duplicate_verdicts(["Headline here", long, "Another line of the story follows here.", long])
    assert [v.reason if v else None for v in verdicts] == [None, None, None, "duplicate"]
    assert verdicts[3].original == 1


def test_a_repeat_inside_a_line_of_new_prose_is_part_of_that_line():
    long = "The council approved the new flood barrier on Tuesday evening."
    sentences = ["Headline here", long, long, "Residents welcomed it.", long]
    repeats = duplicate_verdicts(sentences)
    assert [v is not None for v in repeats] == [False, False, True, False, True]
    # lines: 0 headline, 1 the first copy, 2 the second copy with new prose, 3 the third copy alone
    kept = whole_line_repeats(repeats, [[0], [1], [2], [2], [3]])
    assert [v is not None for v in kept] == [False, False, False, False, True]
    assert kept[4] is repeats[4]


def test_a_repeat_is_the_copy_kept_when_its_first_copy_is_flagged_for_another_reason():
    """A headline first seen in a list of teasers: the teaser is flagged, so the repeat below is
    the copy a curator keeps; a third copy repeats the kept one, and a repeat that its own line
    flags keeps that flag instead."""
    teaser = Verdict("off_topic", "A teaser for another story.", evidence="leftover")
    sentences = [HEADLINE, OTHER, HEADLINE, HEADLINE]
    repeats = duplicate_verdicts(sentences)
    verdicts = [teaser, None, repeats[2], repeats[3]]
    kept = kept_copy_repeats(verdicts, [teaser, None, None, None])
    assert kept[:3] == [teaser, None, None]
    assert kept[3].reason == "duplicate" and kept[3].original == 2 and "sentence 3" in kept[3].explanation
    assert kept_copy_repeats(verdicts, [teaser, None, teaser, None])[2:] == [teaser, None]
    assert kept_copy_repeats([None, None, repeats[2], repeats[3]], [None] * 4) == [None, None, repeats[2], repeats[3]]


def test_clearing_a_repeat_spreads_along_a_hard_wrapped_sentence():
    copy = duplicate_verdicts(["A first sentence of some length here.", "A first sentence of some length here."])[1]
    # sentence 1 (a repeat) spans lines 0-1, sentence 2 (a repeat) shares line 1 with it,
    # sentence 0 (new prose) shares line 0: the prose keeps both repeats
    kept = whole_line_repeats([None, copy, copy], [[0], [0, 1], [1]])
    assert kept == [None, None, None]
    assert whole_line_repeats([None, copy, copy], [[0], [1, 2], [2]]) == [None, copy, copy]


def test_near_copy_threshold_at_its_extremes() -> None:
    sentences = ["The council approved the barrier today.", "Shares fell sharply in the airline.", "The council approved the barrier."]
    anything = duplicate_verdicts(sentences, near_threshold=0.0, min_words=3)  # any shared long word makes a copy
    assert anything[2] is not None and anything[2].original == 0 and anything[1] is None
    exact_only = duplicate_verdicts(sentences, near_threshold=1.0, min_words=3)
    assert exact_only == [None, None, None]

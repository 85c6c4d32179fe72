"""FAQ heading detection, pair parsing in every supported format, and trailing disclaimers."""

from __future__ import annotations

import pytest

from rag.ingest.faq import ArticleSplit, is_question, parse_faq, split_article
from rag.types import FaqPair
from tests.paths import SEED

SEED_PAIRS = [
    FaqPair(
        "What was the purpose of the parade in North Korea?",
        "The parade was held to celebrate North Korea’s 75th founding anniversary and to display its military "
        "strength.",
    ),
    FaqPair(
        "Why did Kim Jong Un invite Chinese and Russian guests to the parade?",
        "Kim invited Chinese delegates and Russian artists to strengthen his ties with Beijing and Moscow amidst "
        "increasing confrontations with the United States.",
    ),
    FaqPair(
        "Is there a potential meeting between Kim Jong Un and Vladimir Putin?",
        "Speculations suggest that a summit between Kim and Putin could take place soon, but no official "
        "confirmation has been made.",
    ),
    FaqPair(
        "Why is China concerned about a Russia-North Korea arms deal?",
        "China is worried about the potential negative repercussions on its struggling economy if it is associated "
        "with a pariah state bloc that violates international sanctions.",
    ),
    FaqPair(
        "What message did Kim Jong Un convey by showcasing his daughter at public events?",
        "By appearing with his daughter, Kim aims to send a message to the world that he has no intention of giving "
        "up his nuclear weapons and missiles, viewing them as crucial for his survival and family’s rule.",
    ),
]
SEED_DISCLAIMER = (
    "(Disclaimer: This article is based on the provided source. Information presented may be subject to change "
    "or further verification.)"
)

BODY = "The museum opened in 1901. It houses ten thousand paintings."


def _check_offsets(text: str, split: ArticleSplit) -> None:
    """Pairs must be findable in the text after the FAQ start (the chunker locates them by search)."""
    assert 0 <= split.body_start <= split.body_end <= len(text)
    pos = split.faq_start if split.faq_start is not None else split.body_end
    for pair in split.faq:
        q = text.find(pair.question, pos)
        assert q >= 0, pair.question
        a = text.find(pair.answer, q + len(pair.question))
        assert a >= 0, pair.answer
        pos = a + len(pair.answer)


def test_seed_has_exactly_its_five_pairs() -> None:
    text = SEED.read_text(encoding="utf-8")
    split = split_article(text)
    assert list(split.faq) == SEED_PAIRS
    _check_offsets(text, split)


def test_seed_body_faq_and_disclaimer_boundaries() -> None:
    text = SEED.read_text(encoding="utf-8")
    split = split_article(text)
    assert text[split.body_start : split.body_end].endswith("reveal Kim’s ambitions for a stronger position on "
                                                             "the global stage.")
    assert split.faq_start is not None
    assert text[split.faq_start :].startswith("Frequently Asked Questions (FAQ)\n")
    assert split.disclaimer == SEED_DISCLAIMER
    assert "Disclaimer" not in text[split.body_start : split.body_end]
    assert "Disclaimer" not in split.faq[-1].answer
    assert split.faq[-1].answer.endswith("family’s rule.")


@pytest.mark.parametrize(
    "heading",
    [
        "Frequently Asked Questions (FAQ)",
        "Frequently Asked Questions",
        "frequently asked questions:",
        "FAQ",
        "FAQs",
        "F.A.Q.",
        "## FAQ",
        "# Frequently Asked Questions (FAQs)",
        "**FAQ**",
        "**FAQ:**",
        "### faq:",
    ],
)
def test_heading_variants_end_the_body(heading: str) -> None:
    text = f"{BODY}\n\n{heading}\n\nWhen did it open? It opened in 1901."
    split = split_article(text)
    assert text[split.body_start : split.body_end] == BODY
    assert split.faq_start == text.index(heading)
    assert split.faq == (FaqPair("When did it open?", "It opened in 1901."),)


@pytest.mark.parametrize("line", ["FAQ about the museum is coming soon.", "Our FAQ page answers this."])
def test_faq_mentioned_in_prose_is_not_a_heading(line: str) -> None:
    text = f"{BODY}\n\n{line}\n\nWhen did it open? It opened in 1901."
    split = split_article(text)
    assert split.faq_start is None
    assert split.faq == ()
    assert split.body_end == len(text)


def test_heading_on_its_own_line_inside_a_paragraph() -> None:
    text = f"{BODY}\nFAQ\nQ: When did it open?\nA: In 1901."
    split = split_article(text)
    assert text[split.body_start : split.body_end] == BODY
    assert split.faq == (FaqPair("When did it open?", "In 1901."),)


def test_q_and_a_labels() -> None:
    faq = "Q: When did it open?\nA: In 1901.\n\nQ: How many paintings?\nA: About ten thousand.\nMostly oils."
    text = f"{BODY}\n\nFAQ\n\n{faq}"
    split = split_article(text)
    assert split.faq == (
        FaqPair("When did it open?", "In 1901."),
        FaqPair("How many paintings?", "About ten thousand.\nMostly oils."),
    )
    _check_offsets(text, split)


def test_question_and_answer_labels_bold_and_numbered() -> None:
    faq = (
        "**Question 1:** Is it free?\n**Answer:** Yes, on Sundays.\n\n"
        "Question 2: Can I take photos?\nAnswer: Without flash."
    )
    assert parse_faq(faq) == (
        FaqPair("Is it free?", "Yes, on Sundays."),
        FaqPair("Can I take photos?", "Without flash."),
    )


def test_q_and_a_on_one_line() -> None:
    assert parse_faq("Q: Is it open late? A: Until 9 pm on Fridays.") == (
        FaqPair("Is it open late?", "Until 9 pm on Fridays."),
    )


def test_bold_questions() -> None:
    faq = (
        "**When did it open?**\nIt opened in 1901.\n\n"
        "**Is there a café?** Yes, on the ground floor.\nIt closes at 5 pm.\n\n"
        "__How big is it?__\nVery."
    )
    text = f"{BODY}\n\n## FAQ\n\n{faq}"
    split = split_article(text)
    assert split.faq == (
        FaqPair("When did it open?", "It opened in 1901."),
        FaqPair("Is there a café?", "Yes, on the ground floor.\nIt closes at 5 pm."),
        FaqPair("How big is it?", "Very."),
    )
    _check_offsets(text, split)


@pytest.mark.parametrize("sep", [".", ")"])
def test_numbered_questions(sep: str) -> None:
    faq = (
        f"1{sep} When did it open?\nIn 1901.\n\n"
        f"2{sep} Is it free? Only on Sundays.\n10{sep} Who founded it?\nA guild."
    )
    assert parse_faq(faq) == (
        FaqPair("When did it open?", "In 1901."),
        FaqPair("Is it free?", "Only on Sundays."),
        FaqPair("Who founded it?", "A guild."),
    )


def test_markdown_heading_questions_and_section_headings() -> None:
    faq = (
        "### When did it open?\n\nIn 1901.\n\n"
        "### 2. Is it free?\nOnly on Sundays.\n\n"
        "## Visiting\n\nThis section is not an answer.\n\n"
        "### Can I bring a dog?\nNo."
    )
    text = f"{BODY}\n\n## FAQ\n\n{faq}"
    split = split_article(text)
    assert split.faq == (
        FaqPair("When did it open?", "In 1901."),
        FaqPair("Is it free?", "Only on Sundays."),
        FaqPair("Can I bring a dog?", "No."),
    )
    _check_offsets(text, split)


def test_run_together_pairs() -> None:
    faq = "When did it open? It opened in 1901. Is it free? Only on Sundays. It is busy then."
    assert parse_faq(faq) == (
        FaqPair("When did it open?", "It opened in 1901."),
        FaqPair("Is it free?", "Only on Sundays. It is busy then."),
    )


def test_rhetorical_question_before_next_question_stays_in_answer() -> None:
    faq = "Is it free? Only on Sundays. Who would not want that? Can I take photos? Yes, without flash."
    assert parse_faq(faq) == (
        FaqPair("Is it free?", "Only on Sundays. Who would not want that?"),
        FaqPair("Can I take photos?", "Yes, without flash."),
    )


def test_rhetorical_question_at_the_end_stays_in_last_answer() -> None:
    faq = "Is it free? Only on Sundays. Who could ask for more?"
    assert parse_faq(faq) == (FaqPair("Is it free?", "Only on Sundays. Who could ask for more?"),)


def test_bare_no_answer_is_its_own_sentence() -> None:
    assert parse_faq("Is it free? No. Is it open? Yes, daily. Is it No. 5 on the list? It is.") == (
        FaqPair("Is it free?", "No."),
        FaqPair("Is it open?", "Yes, daily."),
        FaqPair("Is it No. 5 on the list?", "It is."),
    )


def test_leading_question_run_becomes_one_question() -> None:
    faq = "Is it open? Is it free? Yes to both."
    assert parse_faq(faq) == (FaqPair("Is it open? Is it free?", "Yes to both."),)


def test_question_per_paragraph_and_intro_is_dropped() -> None:
    faq = "Here are answers to common questions.\n\nWhen did it open?\n\nIn 1901.\n\nIs it free?\nOnly on Sundays."
    assert parse_faq(faq) == (
        FaqPair("When did it open?", "In 1901."),
        FaqPair("Is it free?", "Only on Sundays."),
    )


def test_question_without_answer_is_dropped() -> None:
    assert parse_faq("Why?") == ()
    assert parse_faq("**Is it open?**\n\n**Is it free?**\nYes.") == (FaqPair("Is it free?", "Yes."),)


def test_is_question() -> None:
    assert is_question("Is it free?")
    assert is_question("He asked “why?”")
    assert not is_question("It is free.")


@pytest.mark.parametrize(
    "disclaimer",
    [
        "(Disclaimer: This is generated content.)",
        "Disclaimer: Facts may change.",
        "**Disclaimer:** Facts may change.",
        "Note: This article was written with AI assistance.",
        "Editor's note — this story has been updated.",
    ],
)
def test_trailing_disclaimer_is_metadata(disclaimer: str) -> None:
    text = f"{BODY}\n\n{disclaimer}\n"
    split = split_article(text)
    assert split.disclaimer == disclaimer
    assert text[split.body_start : split.body_end] == BODY
    assert split.faq_start is None


def test_ordinary_note_stays_in_body() -> None:
    text = f"{BODY}\n\nNote: The museum is closed on Mondays."
    split = split_article(text)
    assert split.disclaimer is None
    assert split.body_end == len(text)


def test_disclaimer_not_at_the_end_stays_in_body() -> None:
    text = f"Disclaimer: facts may change.\n\n{BODY}"
    split = split_article(text)
    assert split.disclaimer is None
    assert text[split.body_start : split.body_end] == text


def test_disclaimer_line_right_after_last_answer() -> None:
    text = f"{BODY}\n\nFAQ\n\nQ: Is it free?\nA: Only on Sundays.\nDisclaimer: Prices may change."
    split = split_article(text)
    assert split.disclaimer == "Disclaimer: Prices may change."
    assert split.faq == (FaqPair("Is it free?", "Only on Sundays."),)


def test_no_heading_keeps_everything_in_body_but_the_disclaimer() -> None:
    text = f"  {BODY}\n\nWhy visit? It is lovely.\n\n(Disclaimer: illustrative.)"
    split = split_article(text)
    assert split.faq == () and split.faq_start is None
    assert text[split.body_start : split.body_end] == f"{BODY}\n\nWhy visit? It is lovely."
    assert split.disclaimer == "(Disclaimer: illustrative.)"


def test_start_offset_is_respected() -> None:
    text = "date 2024-01-01 " + BODY
    split = split_article(text, start=len("date 2024-01-01"))
    assert text[split.body_start : split.body_end] == BODY


def test_last_faq_heading_wins_and_empty_text() -> None:
    text = f"FAQ\n\n{BODY}\n\nFAQ\n\nIs it free? Yes."
    split = split_article(text)
    assert split.faq_start == text.rindex("FAQ")
    assert text[split.body_start : split.body_end] == f"FAQ\n\n{BODY}"
    empty = split_article("")
    assert (empty.body_start, empty.body_end, empty.faq, empty.disclaimer) == (0, 0, (), None)

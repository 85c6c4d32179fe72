"""Candidate spans (numbers, dates, names, colours, phrases) and the word helpers the short-answer rules share."""

from __future__ import annotations

import pytest

from rag.answering.spans import Span, candidates, dedupe, norm, question_terms, said, says_new, strip_stop, trim_known


def texts(sentence: str, kind: str, q_terms: set[str] | None = None) -> list[str]:
    return [c.text for c in candidates(sentence, kind, q_terms or set())]


@pytest.mark.parametrize(("sentence", "expected"), [
    # an ordinal ranks, it does not count; a number keeps its thousands separators, not the comma after it
    ("The 21st race drew 4,120 fans, up 2.5%.", ["4,120 fans", "2.5%"]),
    ("It cost 3,517, then more; rents rose 12 percent and 4 million people moved twice.",
     ["3,517", "12 percent", "4 million people", "twice"]),
    # a clock time, a range, a currency
    ("Doors open at 10:30 and 10–15 thousand fans come, paying $5 each.", ["10:30", "10–15 thousand", "$5 each"]),
    # a count's suffix is no part of it
    ("Sales saw a three-fold rise, after a 10-year slump.", ["three", "10"]),
])
def test_number_spans(sentence: str, expected: list[str]) -> None:
    assert texts(sentence, "number") == expected


def test_date_spans() -> None:
    s = "It opened on March 3, 1921, closed in the 1990s and reopened on Tuesday, in the 19th century style, last week."
    assert texts(s, "date") == ["March 3, 1921", "1990s", "Tuesday", "19th century", "last week"]
    # a weekday or a month is a date only where it reads as one: "may" and "sun" are words too
    assert texts("It may sun itself on 4 May 1921.", "date") == ["4 May 1921"]


def test_name_spans() -> None:
    # a clause opener is dropped; a name keeps its lower-case particles
    assert texts("After Orla Brix left, the Bank of Tarnby closed.", "entity") == ["Orla Brix", "Bank of Tarnby"]
    assert texts("The Velka’s banks flooded.", "entity") == ["Velka"]  # no possessive, no leading stop word
    assert texts("The ferry is old.", "entity") == []  # a lone capitalised stop word is no name
    q = question_terms("Where does the Tarnby ferry sail?")
    assert texts("The ferry from Tarnby sails to Ostrel.", "entity", q) == ["Ostrel"]  # the question says "Tarnby"


def test_a_lone_capitalised_first_word_is_a_weak_name() -> None:
    spans = candidates("Ferries leave from Tarnby at dawn.", "entity", set())
    assert [(s.text, s.score) for s in spans] == [("Ferries", 0.5), ("Tarnby", 1.0)]


def test_colour_spans() -> None:
    assert texts("The coat was pale green, and the scarf bright violet and golden.", "colour") == [
        "pale green", "bright violet and golden"]
    # colour words inside other words or names are no colours
    assert texts("The Redvale side beat Greenholm, and Bluefin failed.", "colour") == []


def test_phrase_spans_are_runs_of_new_words_split_at_punctuation() -> None:
    assert texts("About 41,500 years ago, ice melted.", "phrase", {"when"}) == ["41,500 years ago", "ice melted"]
    q = question_terms("Where does the ferry sail?")
    assert texts("The ferry, which is old, sails to the island of Ostrel.", "phrase", q) == [
        "old", "sails", "island of Ostrel"]


def test_phrase_spans_keep_true_offsets_across_odd_whitespace() -> None:
    s = "He was helped by the famous  Danish\nengineer, and then left."
    spans = candidates(s, "phrase", {"he", "was", "helped"})
    assert [sp.text for sp in spans] == ["famous Danish engineer", "left"]
    first = spans[0]
    assert s[first.start:first.end] == "famous  Danish\nengineer"


def test_the_question_says_a_word_possessive_or_not() -> None:
    assert said("Velka’s", {"velka"}) and said("Velka", {"velka's"})
    assert not said("Velkan", {"velka"}) and not said("Paris", {"pari"}) and not said("its", {"it"})
    assert norm("Velka’s.") == "velka's"


def test_word_helpers() -> None:
    assert strip_stop("of the old ferry to the") == "old ferry"
    assert strip_stop("one two three four five six seven eight") == "one two three four five six"  # six words at most
    assert trim_known("the ferry to Ostrel and", {"ferry"}) == "Ostrel"
    assert not says_new(["the", "ferry"], {"ferry"}) and says_new(["the", "boat"], {"ferry"})
    spans = [Span(0, 3, "a", 1.0), Span(0, 3, "b", 0.5), Span(1, 3, "c", 1.0)]
    assert dedupe(spans) == [spans[0], spans[2]]

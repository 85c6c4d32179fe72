"""What a question asks for: its answer type, its focus, and whether it asks a name, a kind, a count or a reason."""

from __future__ import annotations

import pytest

from rag.answering.question_type import (
    answer_type,
    asks_count,
    asks_explanation,
    asks_kind,
    asks_name,
    asks_place,
    past_tense,
    question_focus,
    span_kind,
)


@pytest.mark.parametrize(
    ("question", "kind"),
    [("How many goals did they score?", "number"), ("How tall is the tower?", "number"),
     ("What percent of voters came?", "number"),
     ("What size shoes does he wear?", "number"), ("When did the strike end?", "date"),
     ("What time does the ferry leave?", "date"), ("What colour is the car?", "colour"),
     ("What red flags did the auditors raise?", "named"),  # a colour word naming no colour
     ("Who led the crew?", "entity"), ("Whose boat sank?", "entity"), ("Where is the mill?", "entity"),
     ("What company built the bridge?", "entity"), ("Which rider was praised?", "named"),
     ("Why did it happen?", "phrase"), ("What Danish painter was of Flemish descent?", "named"),
     ("What sort of boats sail there?", "named"),
     # a verb after "what" (followed by a determiner, in the past tense, an auxiliary) asks for a phrase
     ("What drives the mill's big wheel?", "phrase"), ("What caused the rise in fares?", "phrase"),
     ("What must a ferry pilot carry?", "phrase"), ("What happened at the regatta?", "phrase"),
     ("Which Velkarian king signed it?", "named"), ("Which of the rowers won?", "named"),
     # "what/which" + a quantity noun ending its phrase asks for a number; one continuing a phrase does not
     ("What speed does the ferry reach?", "number"), ("At what height did the kite fly?", "number"),
     ("Which rate applies?", "named"), ("What age rating does it have?", "named"),
     # A limit: "capacity" as a role reads as a quantity.
     ("In what capacity did he serve?", "number"),
     # "What is the <quantity noun> ...?" asks for a number, a possessive standing in for "the"
     ("What was the mean ticket price?", "number"), ("What is the estimated length of the canal?", "number"),
     ("What was the town’s total budget?", "number"), ("What is Tarnby's population?", "number"),
     ("What is the speed of the ferry?", "number"),
     ("What is the inlet called near the old pier?", "phrase"),
     # a "when" or "where" after the question's own wh-word opens a clause; a capitalised one is a name
     ("What river bordered the duchy when she died?", "named"), ("What did the crew see when they landed?", "phrase"),
     ("Who was the abbot when the floods came?", "entity"), ("What type of tools does Doctor When carry?", "named"),
     ("What do we call the runner who won?", "entity"), ("During what decades was the mill busy?", "date"),
     # ... and so does one opening the question, when another wh-word asks after the comma
     ("When prices rise, what do we call it?", "phrase"), ("When was it, and who won?", "date"),
     ("When did Velkaria join the league, which year?", "date"),
     # a quantity noun ends its phrase: "number one priority" and "age rating" are no quantities
     ("What is the mayor's number one priority?", "phrase"), ("What is the film's age rating?", "phrase")],
)
def test_answer_type(question: str, kind: str) -> None:
    assert answer_type(question) == kind


@pytest.mark.parametrize(("question", "kind"), [
    ("How many crossed?", "number"), ("What did they build?", "phrase"), ("Name the captain.", "phrase"),
    # why, how, yes/no questions and those asking a purpose or a cause take no short span
    ("Why did the ferry stop?", None), ("How did they cross?", None), ("Did the ferry stop?", None),
    ("Must the ferry stop?", None), ("What was the purpose of the fair?", None),
    ("Name the main cause of the flood.", None),
    ("Tell me about the fair.", None),  # a phrase question with no word asking for a thing
    ("Regatta: Why did it stop?", None),  # what a condensed follow-up carries before its wh-word is not asked
])
def test_span_kind(question: str, kind: str | None) -> None:
    assert span_kind(question) == kind


@pytest.mark.parametrize(
    ("question", "focus"),
    [("What Danish painter was of Flemish descent?", "Danish painter"),
     ("In what Velkarian province were farmers promised land?", "Velkarian province"),
     ("Potters prize what types of clay?", "clay"),  # the noun after "types of"
     ("What names of boats are known?", "boats"),
     ("Who won the regatta?", "person or organization"),
     ("Where was the theatre?", "place or location"),
     ("What chemist first made blue glass?", "chemist"),
     ("What poet later wrote the song?", "poet"),  # an adverb ends the focus
     ("What device keeps the hives warm?", "device"),
     ("Which canal runs through the old town?", "canal"),  # a last word before a preposition is a verb
     ("Which Velkarian king signed it?", "Velkarian king"),
     ("What is the capital?", None), ("How many eggs?", None),
     ("What drives the mill's wheel?", None),  # one word then a determiner is a verb
     ("What first crossed the strait?", None), ("What quickly spread?", None), ("What added weight?", None)],
)
def test_question_focus(question: str, focus: str | None) -> None:
    assert question_focus(question) == focus


@pytest.mark.parametrize(("question", "asked"), [
    ("What are the spikes on the stems called?", True), ("Give another name for this pass.", True),
    ("What is its name?", True), ("What is the fort known as?", True), ("What was it dubbed?", True),
    ("Who is the bridge named after?", False), ("Which rower was called up?", False),
])
def test_asks_name(question: str, asked: bool) -> None:
    assert asks_name(question) is asked


def test_asks_kind_count_and_place() -> None:
    assert asks_kind("What sort of boats sail there?") and asks_kind("What varieties of apple grow here?")
    assert not asks_kind("What boats sail there?")
    assert asks_count("How much did it cost?") and asks_count("What is Tarnby's population?")
    assert asks_count("What percentage of voters came?") and not asks_count("How tall is it?")
    assert asks_count("What speed does the ferry reach?")
    assert asks_place("Where is the mill?") and asks_place("Ferry: where does it dock?")
    assert not asks_place("Who lives where the river bends?")


@pytest.mark.parametrize(("question", "asked"), [
    ("Why did it happen?", "reason"), ("For what reason was he fired?", "reason"),
    ("What was the chief reason the mill closed?", "reason"), ("How come the vote failed?", "reason"),
    ("Skylark 4: why was the flight aborted?", "reason"), ("How did they win?", "means"),
    ("How many fans came?", None), ("How likely is a recession?", None),
    ("What happened because of the storm?", None), ("The strike ended. How?", None),
])
def test_only_why_and_non_quantity_how_questions_ask_for_an_explanation(question: str, asked: str | None) -> None:
    assert asks_explanation(question) == asked


@pytest.mark.parametrize(("word", "past"), [
    ("added", True), ("began", True), ("United", False), ("speed", False), ("water-cooled", False), ("freed", False),
])
def test_past_tense(word: str, past: bool) -> None:
    assert past_tense(word) is past

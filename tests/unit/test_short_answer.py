"""Short answers: the span of the asked-for type near the question's words, re-ranked by the embedder when close."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from rag.answering.question_type import answer_type, question_focus
from rag.answering.short_answer import (
    ShortAnswer,
    _ends_phrase,
    find_short_answer,
    has_typed_span,
    short_answer,
    temporal_clauses,
)
from rag.answering.spans import Span, candidates, question_terms

CREW = "Velka’s Deputy Mayor Orla Brix led the Danish crew, while Tarnby sent a brass band."


def test_short_answers_pick_the_typed_span_near_the_question_words() -> None:
    assert short_answer("Who led the Danish crew?", CREW) == "Velka’s Deputy Mayor Orla Brix"
    goals = "The club conceded just 217 goals, ranking fourth."
    assert short_answer("How many goals did the club concede?", goals) == "217"
    assert short_answer("When did the strike end?", "The strike ended in 1931 after six weeks.") == "1931"
    assert short_answer("When did the gale cause the blackout?", "The gale caused the blackout in 2008.") == "2008"
    assert short_answer("Why did Orla invite them?", "Orla invited them to strengthen ties.") is None
    assert has_typed_span("How many eggs?", "The hen lays 1,730 eggs a year.")
    assert not has_typed_span("How many eggs?", "The hen lays eggs every day.")


def test_words_a_condensed_follow_up_carries_before_its_wh_word_do_not_decide_the_answer_type() -> None:
    s = "Velka’s Deputy Mayor Orla Brix led the Danish crew to the regatta."
    assert short_answer("purpose regatta: Who led the Danish crew?", s) == "Velka’s Deputy Mayor Orla Brix"
    assert short_answer("What was the purpose of the regatta?", s) is None


def test_numbers_keep_thousands_separators_and_ranges() -> None:
    s = "The town had a population of 4,216,530 in 2019, against 4,108,377 in 2010."
    assert short_answer("What was Tarnby's population in 2019?", s) == "4,216,530"
    assert short_answer("How many residents did officials move?", "Officials moved 10–15 million residents.") == (
        "10–15 million")


def test_a_possessive_is_the_word_the_question_already_says() -> None:
    s = "The fair was held to mark North Velka’s 40th founding anniversary."
    # "Velka’s" is North Velka, which the question names: never the answer (it was, with the ’s cut off)
    assert short_answer("What anniversary did North Velka mark?", s) == "40th founding"
    assert candidates(s, "entity", question_terms("What did North Velka do?")) == []
    # the question types a straight apostrophe, the article prints a curly one
    assert short_answer("Which country did North Velka's navy threaten?",
                        "North Velka’s navy threatened Ostrel on Monday.") == "Ostrel"
    assert short_answer("Who did the U.K. envoy meet?", "The U.K.’s envoy met Orla Brix in Tarnby.") == "Orla Brix"


def test_a_count_or_a_date_asked_for_and_not_in_the_sentence_gets_no_short_answer() -> None:
    s = "The Blue Wardens marched with bicycles and signal rockets towed by ponies."
    assert short_answer("How many rockets were launched?", s) is None  # not "signal"
    assert short_answer("When did the Blue Wardens march?", s) is None
    assert short_answer("Who marched with bicycles?", s) == "Blue Wardens"
    # how long / often / old may be answered by a phrase
    assert short_answer("How often does the committee meet?", "The committee meets annually in Tarnby.") == (
        "meets annually in Tarnby")


def test_when_is_answered_by_a_day_or_by_the_event_a_temporal_word_introduces() -> None:
    assert short_answer("When did police arrest the suspect?", "Police arrested the suspect on Tuesday.") == "Tuesday"
    assert short_answer("When did he die?", "He died during the war.") == "the war"
    assert short_answer("When did he resign?", "He resigned after the scandal broke, aides said.") == (
        "the scandal broke")
    assert short_answer("When did it end?", "x, " * 30000 + "It ended after the flood.") == "the flood"  # linear
    # "while" concedes here: no time is given
    assert short_answer("When will Orla meet Ivo Marsh?", "While Orla’s exact travel plans to Ostrel are still "
                        "unconfirmed, rumours say she will soon meet with President Ivo Marsh.") is None
    thaw = "They left until the thaw, and came back upon the first frost."
    assert [s.text for s in temporal_clauses(thaw, set())] == ["the thaw", "the first frost"]
    assert temporal_clauses("He died during the war.", {"war"}) == []  # the question says it
    long_event = "He left after the long cold wet winter of the great northern flood ended."
    assert [s.text for s in temporal_clauses(long_event, set())] == ["the long cold wet winter of the great"]


def test_an_ordinal_ranks_and_does_not_count() -> None:
    s = "The fair marked North Velka’s 40th founding anniversary on its 1,200th day."
    assert short_answer("How many people attended the fair?", s) is None


def test_a_quantity_asked_for_is_a_number_or_nothing() -> None:
    assert short_answer("What speed does the ferry reach?", "The ferry reaches 30 knots on calm days.") == "30 knots"
    assert short_answer("What speed does the ferry reach?", "The ferry is fast and quiet.") is None
    assert short_answer("What is Tarnby's population?", "The fair was held to mark the founding anniversary.") is None
    assert short_answer("What is Tarnby's population?", "Tarnby has 3 million people.") == "3 million people"


def test_plural_number_words_are_counts() -> None:
    s = "The show displayed millions of Velkarians linked with the Blue Wardens."
    assert short_answer("How many Velkarians were linked with the Blue Wardens?", s) == "millions"
    assert short_answer("How many channels could it carry?", "It could carry hundreds of channels.") == "hundreds"


EXPERT = "Working with Lord Arden at the Tarnby Institute, the Danish expert Otto Brandt liquefied neon."
NEON = "What scientist, an expert, first made liquid neon?"  # ("scientist" appears nowhere in the sentence)


def test_embedding_rerank_overturns_the_heuristic_pick_with_focus_fit_and_centrality() -> None:
    """With an embedder, the candidate that fits the question's focus and carries the sentence's meaning wins;
    without one, the heuristics' pick (nearest the question's words) stands."""
    table = {"scientist": [1.0, 0.0, 0.0], "Otto Brandt": [0.9, 0.436, 0.0], "Danish": [0.2, 0.0, 0.98],
             EXPERT: [0.8, 0.6, 0.0]}
    calls: list[list[str]] = []

    def embed(texts: Sequence[str]) -> np.ndarray:
        calls.append(list(texts))
        return np.array([table.get(t, [0.0, 0.0, 1.0]) for t in texts], dtype=np.float32)

    assert short_answer(NEON, EXPERT) == "Danish"
    assert short_answer(NEON, EXPERT, embed) == "Otto Brandt"
    assert calls[0][0] == "scientist" and calls[0][-1] == EXPERT  # focus first; the sentence last when not passed
    assert short_answer(NEON, EXPERT, embed, np.array(table[EXPERT], dtype=np.float32)) == "Otto Brandt"
    assert EXPERT not in calls[1]  # the index's sentence vector is used instead of embedding the long sentence
    assert short_answer(NEON, EXPERT, embed, np.array([0.0, 0.0, 1.0], dtype=np.float32)) == "Danish"
    assert short_answer("How many eggs?", "The hen lays 1,730 eggs a year.", embed) == "1,730"
    assert len(calls) == 3  # numbers are picked by the heuristics alone: no embedding


def test_focus_fit_alone_can_decide() -> None:
    """A sentence vector orthogonal to every span leaves the focus as the only embedding signal that differs."""
    table = {"scientist": [1.0, 0.0, 0.0], "Otto Brandt": [1.0, 0.0, 0.0]}

    def embed(texts: Sequence[str]) -> np.ndarray:
        return np.array([table.get(t, [0.0, 1.0, 0.0]) for t in texts], dtype=np.float32)

    assert short_answer(NEON, EXPERT) == "Danish"
    assert short_answer(NEON, EXPERT, embed, np.array([0.0, 0.0, 1.0], dtype=np.float32)) == "Otto Brandt"


def test_rerank_without_a_focus_reads_each_span_its_own_vector() -> None:
    """No focus ("what caused"): the batch is the spans then the sentence; centrality must pair them right."""
    q, s = "What caused the flood?", "Heavy rain in the hills caused the flood, officials in Tarnby said."
    assert question_focus(q) is None and answer_type(q) == "phrase"
    central = {"hills": [1.0, 0.0, 0.0], s: [1.0, 0.0, 0.0]}
    calls: list[list[str]] = []

    def embed(texts: Sequence[str]) -> np.ndarray:
        calls.append(list(texts))
        return np.array([central.get(t, [0.0, 0.0, 1.0]) for t in texts], dtype=np.float32)

    assert short_answer(q, s, embed) == "hills"
    assert calls[0][-1] == s and "hills" in calls[0]


def test_a_confident_heuristic_pick_needs_no_model_call() -> None:
    """The model is asked only when the heuristics' two best candidates are within CONFIDENT_MARGIN."""
    calls: list[Sequence[str]] = []

    def embed(texts: Sequence[str]) -> np.ndarray:
        calls.append(texts)
        return np.eye(len(texts), 8, dtype=np.float32)

    near = "Built by Velka Works with Arden Aero, the probe flew from Tarnby Field."
    far = "Velka Works built the probe, which years later flew over the deserts of Ostrel and Brastow."
    assert short_answer("What company built the probe?", far, embed) == "Velka Works"
    assert calls == []
    assert short_answer("What company built the probe?", near, embed) == "Arden Aero"  # the re-rank's pick
    assert len(calls) == 1


def test_numbers_and_dates_never_call_the_model() -> None:
    calls: list[Sequence[str]] = []

    def embed(texts: Sequence[str]) -> np.ndarray:
        calls.append(texts)
        return np.zeros((len(texts), 3), dtype=np.float32)

    assert short_answer("How many eggs did the hen lay?", "The hen lays 1,730 eggs a year and 300 in spring.",
                        embed) == "1,730"
    # A limit: of rival dates the one nearest the question's words ("strike") is picked, here the wrong one.
    assert short_answer("When did the strike end?", "The strike began in 1929 and ended in 1931.", embed) == "1929"
    assert calls == []


@pytest.mark.parametrize(("question", "sentence", "expected"), [
    # the sentence's structure or a connective settles it
    ("What economist won the prize?", "The prize went to the economist Mara Lind on Monday.",
     ShortAnswer("Mara Lind", True)),
    ("Why did the river flood?", "The river flooded because of heavy rain in the hills.",
     ShortAnswer("heavy rain in the hills", True)),
    # the sentence's only number or date, asked for one
    ("How many eggs does the hen lay?", "The hen lays 1,730 eggs a year.", ShortAnswer("1,730", True)),
    ("When did the strike end?", "The strike ended in 1931.", ShortAnswer("1931", True)),
    # a capitalised name is no type check: "what river", "what company" or "who" may be answered by any name
    ("What river flows past the old mill?", "The old mill stands beside the Kessel.", ShortAnswer("Kessel", False)),
    ("What company built the probe?", "Velka Works built the probe, which years later flew over the deserts of "
     "Ostrel and Brastow.", ShortAnswer("Velka Works", False)),
    # rival dates, a phrase, or the event a temporal word introduces
    ("When did the strike end?", "The strike began in 1929 and ended in 1931.", ShortAnswer("1929", False)),
    ("What did the council approve?", "The council approved a new budget for the schools.",
     ShortAnswer("approved a new budget", False)),
    ("When did he die?", "He died during the war.", ShortAnswer("the war", False)),
])
def test_a_short_answer_is_confident_only_when_the_sentence_settles_it(question: str, sentence: str,
                                                                       expected: ShortAnswer) -> None:
    assert find_short_answer(question, sentence) == expected
    assert short_answer(question, sentence) == expected.text


@pytest.mark.parametrize(("question", "sentence", "text", "confident"), [
    ("How tall is the lighthouse?", "It stands 42 metres tall.", "42 metres", True),
    # the sentence's only number, but not of the sort asked: a year is no height, a bare count no date
    ("How high is the Varn Lighthouse?", "The Varn Lighthouse was built in 1874 by Margit Olsen.", "1874", False),
    ("How long did Tomas Brekke serve?", "Tomas Brekke retired in 1989.", "1989", False),
    ("When can visitors climb to the lamp room?", "Visitors climb the 212 steps to the lamp room.", "212", False),
    ("When did it open?", "It opened on Monday.", "Monday", True),
    ("How many Velkarians took part?", "The show displayed millions of Velkarians.", "millions", True),
])
def test_a_lone_number_or_date_is_settled_only_when_it_is_of_the_sort_asked(question: str, sentence: str, text: str,
                                                                            confident: bool) -> None:
    assert find_short_answer(question, sentence) == ShortAnswer(text, confident)


def test_a_where_question_is_typed_by_a_name_a_preposition_places() -> None:
    q = "Where is the Old Mill Bakery?"
    assert has_typed_span(q, "The Old Mill Bakery is located on Mill Lane in the town of Brastow.")
    assert has_typed_span(q, "It stands north of Skarholm.")
    assert not has_typed_span(q, "The Old Mill Bakery opens at 7 on weekdays, said Anna Berg.")  # a name, not placed
    assert not has_typed_span(q, "The bakery in the Old Mill is old.")  # the question already says it
    assert has_typed_span("Skylark 4: where did it land?", "It landed in the Velka Sea.")  # condensed follow-up


def test_a_span_ends_a_phrase_at_punctuation_or_the_sentence_end() -> None:
    s = "The mill, by the Kessel river, closed"
    assert _ends_phrase(s, Span(4, 8, "mill", 1.0)) and _ends_phrase(s, Span(32, 38, "closed", 1.0))
    assert not _ends_phrase(s, Span(10, 23, "by the Kessel", 1.0))


def test_a_lone_capitalised_first_word_is_not_preferred_as_a_name() -> None:
    s = "Likewise, each warden is an officer of the Guild of Wardens."
    assert short_answer("Each warden is an officer of what?", s) == "Guild of Wardens"


def test_without_a_span_of_the_asked_type_a_phrase_answers() -> None:
    s = "Orla returned to Tarnby after the long strike had ended."
    assert short_answer("When did Orla return to Tarnby?", s) == "the long strike had ended"
    assert short_answer("Who built the tower?", "The tower was built by local masons.") == "local masons"


TURNIPS = "The turnips of Quenville are bright violet."


@pytest.mark.parametrize(("question", "sentence", "expected"), [
    ("What colour are the Zorblax turnips?", "The Zorblax turnips of Quenville are bright violet and glow at night.",
     ShortAnswer("bright violet", True)),
    ("What color was the car?", "The car, a Velka from Ostrel, was painted red.", ShortAnswer("red", True)),
    ("Which colours does the flag have?", "The flag is red, white and blue.", ShortAnswer("red, white and blue", True)),
    ("What colour was the car?", "The car, a Velka from Ostrel, was sold in 1990.", None),  # no colour: no name either
    ("What colour are the beets?", "The beets are sold at the Red Lion market.", None),  # a capitalised colour: a name
    ("What colour is the car?", "The car, made at the White Harbour plant, is sold only in olive.",
     ShortAnswer("olive", True)),
    ("What is the colour of the turnips?", TURNIPS, ShortAnswer("bright violet", True)),
    ("What's the color of the turnips?", TURNIPS, ShortAnswer("bright violet", True)),
    ("The turnips are what colour?", TURNIPS, ShortAnswer("bright violet", True)),
    ("Zorblax turnips grown: What colour are they?", "The Zorblax turnips of Quenville are bright violet.",
     ShortAnswer("bright violet", True)),  # a condensed follow-up
])
def test_a_colour_is_answered_by_a_colour_word_not_a_name(question: str, sentence: str,
                                                          expected: ShortAnswer | None) -> None:
    assert answer_type(question) == "colour"
    assert find_short_answer(question, sentence) == expected
    assert has_typed_span(question, sentence) == (expected is not None)

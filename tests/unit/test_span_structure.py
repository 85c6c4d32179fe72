"""Short answers read off the sentence's structure: the focus noun's modifiers, a name beside it, a naming phrase."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from rag.answering.short_answer import short_answer
from rag.answering.span_structure import focus_modifiers, named_by
from rag.answering.spans import question_terms


def modifiers(question: str, sentence: str) -> list[str]:
    return [s.text for s in focus_modifiers(question, sentence, question_terms(question))]


@pytest.mark.parametrize(
    ("question", "sentence", "answer"),
    [
        # "what kind of N": the words modifying N in the sentence, without N.
        ("What type of ships did the navy send?", "The navy sent two ocean-going patrol ships to the strait.",
         "ocean-going patrol"),
        ("What kind of loans does the bank offer?", "It offers fixed-rate or variable loans to first-time buyers.",
         "fixed-rate or variable"),
        ("What kind of gates does the fort have?", "The fort has wooden or iron gates.", "wooden or iron"),
        # ... but not the clause before them: a past tense, a count or a quantifier stops the walk.
        ("What type of weapons were found?", "Police said attackers carried automatic weapons.", "automatic"),
        ("What type of boats did the yards build?", "Tarnby yards built flat-bottomed boats.", "flat-bottomed"),
        ("What type of boats did the yards build?", "The yards built two flat-bottomed boats.", "flat-bottomed"),
        ("What kind of apples does Tarnby grow?", "Tarnby grows many sweet apples.", "sweet"),
        # "what N": a name ending in N keeps it; a capitalised modifier of a common noun is the name.
        ("Which airport will close the runway?", "Officials at Tarnby Airport said the runway would close.",
         "Tarnby Airport"),
        ("What vaccine did the agency approve?", "The agency approved the Veltrix vaccine on Monday.", "Veltrix"),
        ("What heating element failed?", "Engineers said the old Velka heating element failed.", "Velka"),
        # a name beside the noun beats its modifiers, with or without a comma, after a title too.
        ("What economist won the prize?", "The American economist Mara Lind won the prize.", "Mara Lind"),
        ("What economist won the prize?", "The American economist, Mara Lind, won the prize.", "Mara Lind"),
        ("Which minister resigned over the scandal?", "After the vote, Prime Minister Ada Kerr said he would stay.",
         "Ada Kerr"),
        # a verb ending the question's focus is not its noun ("which canal runs through")
        ("Which canal runs through the capital?", "The Kessel runs through Tarnby and Ostrel.", "Kessel"),
    ],
)
def test_the_focus_noun_in_the_sentence_locates_the_answer(question: str, sentence: str, answer: str) -> None:
    calls: list[Sequence[str]] = []

    def embed(texts: Sequence[str]) -> np.ndarray:
        calls.append(texts)
        return np.eye(len(texts), 8, dtype=np.float32)

    assert short_answer(question, sentence, embed) == answer
    assert calls == []  # found by structure: no rivals to weigh


def test_the_focus_rule_stands_aside_for_a_clause_a_conjunction_or_a_possessive() -> None:
    q = "What type of boats are moored here?"
    # five words before the noun are a clause, not its modifiers; four may be modifiers
    assert modifiers(q, "Guides say old wooden river ferry boats are moored here.") == []
    assert modifiers(q, "Guides say that old wooden river ferry boats are moored here.") == ["old wooden river ferry"]
    # "grown and duties": a conjunction just before the noun joins it to a clause, not a modifier
    s = "Their role has grown and duties now include the ferry's budget."
    assert modifiers("What types of duties do they have?", s) == []
    assert modifiers("What type of boats did the yards build?", "The yards built Orla’s boats.") == []
    # "Professional" modifies "crews" only as the sentence's capitalised first word: no evidence of a name
    crews = "Professional crews such as the Otters row in Tarnby Bay."
    assert modifiers("What crews row in the bay?", crews) == []
    # then a phrase or a name answers, found the usual way
    assert short_answer("What crews row in the bay?", crews) == "Otters"
    assert short_answer("What types of duties do they have?", s) == "now include the ferry's budget"


def test_the_focus_rule_survives_odd_questions_and_sentences() -> None:
    # a focus of punctuation only, or an endless run of conjunctions, must not crash
    assert short_answer("What - exactly - is a tunnel called?", "It added deep tunnels.") == "added deep tunnels"
    assert short_answer("What type of boats are there?", "It added " + "and " * 2000 + "flat boats.") == "flat"
    # A limit: a verb in the present tense ("fire") reads as a modifier.
    assert short_answer("What kind of weapons were used?", "Witnesses say masked gunmen fire automatic weapons.") == (
        "gunmen fire automatic")


@pytest.mark.parametrize(
    ("question", "sentence", "answer"),
    [
        ("What was the branch line named?", "The line built in 1998, called Halvard, was closed.", "Halvard"),
        ("What are the walks called?", "The walks, known as \"Sundays for Rivers,\" spread in 2019.",
         "Sundays for Rivers"),
        ("What name did the suspect give?", "Police arrested a man named Ivo Marsh on Friday.", "Ivo Marsh"),
        ("What is the road known as?", "The highway is known as U.K. Route 9 in the region.", "U.K. Route 9"),
        # the naming words as plain verbs, or a who-question: the rule stands aside
        ("Who called for the minister's resignation?",
         "Opposition leader Nils Varga called for the resignation of the minister on Sunday.", "Nils Varga"),
        ("Who was named the Tarnby Herald's Rower of the Year?",
         "Orla Brix was named the Tarnby Herald's Rower of the Year in 2023.", "Orla Brix"),
    ],
)
def test_a_question_asking_what_something_is_called_takes_the_naming_phrase(question: str, sentence: str,
                                                                              answer: str) -> None:
    assert short_answer(question, sentence) == answer


def test_naming_markers() -> None:
    assert named_by("The bridge, named after M. Ivo Brandt, runs west.", {"bridge"}) == []
    assert [s.text for s in named_by("The cape, dubbed the 'Kettle', juts out.", set())] == ["Kettle"]
    assert [s.text for s in named_by("The plain is called variously the Moor or the Heath.", set())] == ["Moor"]

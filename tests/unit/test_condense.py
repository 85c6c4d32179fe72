"""Follow-up questions are resolved against earlier turns before retrieval."""

from __future__ import annotations

import pytest

from rag.conversation.condense import (
    Turn,
    condense,
    condense_offline,
    content_words,
    is_follow_up,
    last_user_message,
    mentioned,
    own_names,
    own_words,
)
from rag.errors import LLMError

REGATTA = "What was the purpose of the regatta?"
FERRY = "Why is Velkaria worried about a Tarnby-Ostrel ferry deal?"


def conv(*users: str) -> list[Turn]:
    turns: list[Turn] = []
    for u in users:
        turns += [Turn("user", u), Turn("assistant", "An answer with a citation. [1]")]
    return turns[:-1]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("And who led the Danish crew?", True),
        ("What about Orla?", True),
        ("Okay, and the year?", True),
        ("Where did she watch it from?", True),
        ("Why?", True),
        (FERRY, False),
        ("Which rowing clubs raced in the Tarnby regatta last year?", False),
        ("Which year?", True),
        ("How big is it?", True),
        ("Tell me more, please.", True),
        ("Who else was there?", True),
        ("Who was there in 1900?", True),  # "there" is a place, and nothing named comes before it
        ("Who was there at the very start of it all?", True),
        # short, but whole: carrying the earlier topic in would pull the answer back to it
        ("Who led the Danish crew?", False),
        ("What is the capital of Velkaria?", False),
        ("Who is Orla Brix?", False),
        # the pronoun's antecedent is in the question, or "there" points at nothing
        ("What does Orla owe to her coach?", False),
        ("Is there a ferry between Tarnby and Ostrel on Sundays?", False),
        ("How many people drowned there during the great flood?", True),
    ],
)
def test_is_follow_up(question: str, expected: bool) -> None:
    assert is_follow_up(question) is expected


def test_single_question_is_unchanged() -> None:
    assert condense([Turn("user", f"  {REGATTA} ")]) == REGATTA


def test_and_who_carries_the_topic_of_the_previous_question() -> None:
    assert condense(conv(REGATTA, "And who led the Danish crew?")) == "purpose regatta: Who led the Danish crew?"


def test_what_about_replaces_the_earlier_focus() -> None:
    # the whole lead goes ("And what about", not just "And"); the topic after the last preposition stays
    assert condense(conv(FERRY, "And what about Orla?")) == "Tarnby-Ostrel ferry deal: Orla?"


def test_pronoun_follow_up_keeps_the_names() -> None:
    q = condense(conv("Who is Orla Brix?", "Where did she watch the regatta from?"))
    assert q == "Orla Brix: Where did she watch the regatta from?"


def test_standalone_question_after_others_is_left_alone() -> None:
    assert condense(conv(REGATTA, FERRY)) == FERRY


def test_chains_of_follow_ups_keep_the_original_topic() -> None:
    q = condense_offline(conv(REGATTA, "And who led the Danish crew?", "Who else was there?"))
    assert q == "purpose regatta led Danish crew: Who else was there?"


def test_assistant_and_system_turns_do_not_leak_into_the_question() -> None:
    turns = [
        Turn("system", "Be terse, Xylophone."),
        Turn("user", REGATTA),
        Turn("assistant", "Zebra zebra zebra."),
        Turn("user", "And who came?"),
    ]
    assert condense(turns) == "purpose regatta: Who came?"
    assert last_user_message(turns) == "And who came?" and last_user_message([Turn("assistant", "Hi")]) == ""


def test_content_words_drop_stopwords_and_duplicates() -> None:
    assert content_words("What was the purpose of the regatta, the regatta?") == ["purpose", "regatta"]
    assert own_words("Where did she watch the regatta from?") == ["watch", "regatta"]  # no pronoun
    assert own_words("And what about the ferries?") == ["ferries"]  # no lead


class FakeClient:
    def __init__(self, reply: str | None = None) -> None:
        self.reply = reply
        self.calls: list[list[dict[str, str]]] = []

    def complete(self, messages: list[dict[str, str]]) -> str:
        self.calls.append(messages)
        if self.reply is None:
            raise LLMError("down")
        return self.reply


def test_llm_rewrites_when_configured() -> None:
    client = FakeClient('"Who led the Danish crew at the regatta?"')
    q = condense(conv(REGATTA, "And who led it?"), client)  # type: ignore[arg-type]
    assert q == "Who led the Danish crew at the regatta?"
    assert "user: And who led it?" in client.calls[0][1]["content"]


def test_llm_failure_falls_back_to_the_offline_rule() -> None:
    q = condense(conv(REGATTA, "And who led the Danish crew?"), FakeClient())  # type: ignore[arg-type]
    assert q == "purpose regatta: Who led the Danish crew?"


def test_llm_not_called_for_a_first_question() -> None:
    client = FakeClient("nope")
    assert condense([Turn("user", REGATTA)], client) == REGATTA  # type: ignore[arg-type]
    assert not client.calls


def test_at_most_ten_context_words_are_carried() -> None:
    long = "Which rowing clubs from Tarnby, Ostrel, Brastow, Skarholm, Velka and Quenville raced in the autumn regatta?"
    assert condense(conv(long, "And who won?")) == (
        "rowing clubs Tarnby Ostrel Brastow Skarholm Velka Quenville raced autumn: Who won?")


def test_what_about_without_a_topic_phrase_drops_the_earlier_name() -> None:
    q = condense(conv("Who led the Danish crew?", "What about Ostrel?"))
    assert q == "led crew: Ostrel?"


def test_a_standalone_question_after_another_topic_is_left_alone() -> None:
    assert condense(conv(FERRY, "Who led the Danish crew?")) == "Who led the Danish crew?"


def test_own_names_and_mentions() -> None:
    assert own_names("And what is the capital of Velkaria?") == ["Velkaria"]
    assert own_names("What did Orla say in 2023?") == ["Orla", "2023"]
    assert own_names("Where was that race held?") == [] and own_names("And when?") == []
    assert mentioned(["Velkaria"], "a Velkarian crew") == 1 and mentioned(["Velka"], "Velka’s mayor") == 1
    assert mentioned(["UN"], "under the United Nations") == 0 and mentioned(["UN"], "the UN said") == 1
    assert mentioned(["Velkaria", "2023"], "The ferry sailed from Ostrel in 2023.") == 1

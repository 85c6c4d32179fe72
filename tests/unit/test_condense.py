"""Follow-up questions are resolved against earlier turns before retrieval."""

from __future__ import annotations

import pytest

from rag.conversation.condense import (
    Turn,
    condense,
    condense_offline,
    content_words,
    is_follow_up,
    mentioned,
    own_names,
)
from rag.errors import LLMError

PARADE = "What was the purpose of the parade?"
CHINA = "Why is China concerned about a Russia-North Korea arms deal?"


def conv(*users: str) -> list[Turn]:
    turns: list[Turn] = []
    for u in users:
        turns += [Turn("user", u), Turn("assistant", "An answer with a citation. [1]")]
    return turns[:-1]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("And who led the Chinese delegation?", True),
        ("What about Putin?", True),
        ("Where did he watch it from?", True),
        ("Why?", True),
        ("Why is China concerned about a Russia-North Korea arms deal?", False),
        ("Which military units marched in the Pyongyang parade last year?", False),
        ("Which year?", True),
        ("What is the population?", True),
        ("Who else was there?", True),
        ("Who was there in 1900?", True),  # "there" is a place, and nothing named comes before it
        ("Who was there at the very start of it all?", True),
        # short, but whole: carrying the earlier topic in would pull the answer back to it
        ("Who led the Chinese delegation?", False),
        ("What is the capital of France?", False),
        ("Who is Putin?", False),
        # the pronoun's antecedent is in the question, or "there" points at nothing
        ("What does Kim consider vital to his survival?", False),
        ("Is there a potential meeting between Kim Jong Un and Vladimir Putin?", False),
        ("How many people died there during the long siege?", True),
    ],
)
def test_is_follow_up(question: str, expected: bool) -> None:
    assert is_follow_up(question) is expected


def test_single_question_is_unchanged() -> None:
    assert condense([Turn("user", f"  {PARADE} ")]) == PARADE


def test_and_who_carries_the_topic_of_the_previous_question() -> None:
    q = condense(conv(PARADE, "And who led the Chinese delegation?"))
    assert q.endswith("Who led the Chinese delegation?") and "parade" in q and not q.lower().startswith("and")


def test_what_about_replaces_the_earlier_focus() -> None:
    q = condense(conv(CHINA, "And what about Putin?"))
    assert "Putin" in q and "arms" in q and "deal" in q and "China" not in q


def test_pronoun_follow_up_keeps_the_names() -> None:
    q = condense(conv("Who is Kim Jong Un?", "Where did he watch the parade from?"))
    assert "Kim Jong Un" in q and q.endswith("Where did he watch the parade from?")


def test_standalone_question_after_others_is_left_alone() -> None:
    assert condense(conv(PARADE, CHINA)) == CHINA


def test_chains_of_follow_ups_keep_the_original_topic() -> None:
    q = condense_offline(conv(PARADE, "And who led the Chinese delegation?", "Who else was there?"))
    assert "parade" in q.lower()


def test_assistant_and_system_turns_do_not_leak_into_the_question() -> None:
    turns = [
        Turn("system", "Be terse, Xylophone."),
        Turn("user", PARADE),
        Turn("assistant", "Zebra zebra zebra."),
        Turn("user", "And who came?"),
    ]
    q = condense(turns)
    assert "Zebra" not in q and "Xylophone" not in q


def test_content_words_drop_stopwords_and_duplicates() -> None:
    assert content_words("What was the purpose of the parade, the parade?") == ["purpose", "parade"]


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
    client = FakeClient('"Who led the Chinese delegation to the parade?"')
    q = condense(conv(PARADE, "And who led it?"), client)  # type: ignore[arg-type]
    assert q == "Who led the Chinese delegation to the parade?"
    assert "user: And who led it?" in client.calls[0][1]["content"]


def test_llm_failure_falls_back_to_the_offline_rule() -> None:
    q = condense(conv(PARADE, "And who led the Chinese delegation?"), FakeClient())  # type: ignore[arg-type]
    assert "parade" in q


def test_llm_not_called_for_a_first_question() -> None:
    client = FakeClient("nope")
    assert condense([Turn("user", PARADE)], client) == PARADE  # type: ignore[arg-type]
    assert not client.calls


def test_what_about_without_a_topic_phrase_drops_the_earlier_name() -> None:
    q = condense(conv("Who led the Chinese delegation?", "What about Russia?"))
    assert q == "led delegation: Russia?"


def test_a_standalone_question_after_another_topic_is_left_alone() -> None:
    assert condense(conv(CHINA, "Who led the Chinese delegation?")) == "Who led the Chinese delegation?"


def test_own_names_and_mentions() -> None:
    assert own_names("And what is the capital of France?") == ["France"]
    assert own_names("What did Xi say in 2023?") == ["Xi", "2023"]
    assert own_names("Where was that summit held?") == [] and own_names("And when?") == []
    assert mentioned(["Russia"], "a Russian delegation") == 1 and mentioned(["China"], "China’s premier") == 1
    assert mentioned(["UN"], "under the United Nations") == 0 and mentioned(["UN"], "the UN said") == 1
    assert mentioned(["France", "2023"], "The rocket launched from Florida in 2023.") == 1

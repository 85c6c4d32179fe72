"""The generative answerer through ``Pipeline.answer``/``stream`` with a scripted LLM (an httpx transport standing
in for the server; the real llama.cpp server is exercised in tests/integration/test_local_llm.py)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from rag.conversation.condense import Turn
from rag.models.llm import ChatClient
from rag.pipeline import Pipeline
from rag.settings import Settings
from rag.types import Answer, Article
from tests.fakes import HashTokenEmbedder
from tests.scripted_llm import Script
from tests.texts import HARBOUR, INJECTED, ORCHARD


def _article(doc_id: str, text: str) -> Article:
    return Article(doc_id=doc_id, title=doc_id.title(), text=text, body_start=0, body_end=len(text),
                   sha256=hashlib.sha256(text.encode()).hexdigest())


@pytest.fixture
def make(tmp_path: Path) -> Callable[..., tuple[Pipeline, Script]]:
    def build(*replies: str | None, docs: tuple[tuple[str, str], ...] = (("harbour", HARBOUR), ("orchard", ORCHARD)),
              **overrides: object) -> tuple[Pipeline, Script]:
        base: dict[str, object] = {"abstain_threshold": 0.3, "support_threshold": 0.5}
        settings = Settings(index_dir=tmp_path / "index", llm_base_url="http://127.0.0.1:9/v1",
                            **{**base, **overrides})
        p = Pipeline(settings, HashTokenEmbedder())
        p.update(upsert=[_article(d, t) for d, t in docs])
        script = Script(*replies)
        p.models._llm = ChatClient("http://127.0.0.1:9/v1", "m", transport=httpx.MockTransport(script))
        return p, script

    return build


def _passage_number(script: Script, word: str) -> int:
    """Which passage number the prompt gave the passage containing ``word``."""
    prompt = script.requests[0]["messages"][1]["content"]  # type: ignore[index]
    for block in prompt.split("<<<PASSAGE ")[1:]:
        if word in block:
            return int(block.split(" n=", 1)[1].split(">>>", 1)[0])
    raise AssertionError(f"{word} is in no passage")


def test_a_verified_reply_is_the_answer_with_checked_citations(make: Callable[..., tuple[Pipeline, Script]]) -> None:
    p, script = make("x")
    # The passage number depends on retrieval order: ask once to learn it, then answer for real.
    p.answer("When did the harbour at Velmor open?")
    n = _passage_number(script, "Velmor")
    script.replies = [f"The harbour at Velmor opened in 1874 [{n}]. Its first pilot was Anna Krell [{n}]."]
    a = p.answer("When did the harbour at Velmor open?")
    assert a.answerer == "llm" and a.fallback is None and a.dropped_sentences == 0
    assert a.answer == "The harbour at Velmor opened in 1874 [1]. Its first pilot was Anna Krell [1]."
    (c,) = a.citations
    assert c.doc_id == "harbour" and c.verified and c.support is not None and c.support >= 0.5
    assert HARBOUR[c.start:c.end] == c.text


def test_the_evidence_gate_abstains_without_calling_the_llm(make: Callable[..., tuple[Pipeline, Script]]) -> None:
    p, script = make("Something invented.", abstain_threshold=0.99)
    a = p.answer("What colour is the lighthouse keeper's boat?")
    assert a.abstained and script.requests == []
    chunks = list(p.stream("What colour is the lighthouse keeper's boat?"))
    assert isinstance(chunks[-1], Answer) and chunks[-1].abstained and script.requests == []


def test_bad_markers_are_removed_and_unsupported_sentences_dropped(
        make: Callable[..., tuple[Pipeline, Script]]) -> None:
    p, script = make("x")
    p.answer("Who was the first pilot at Velmor?")
    n = _passage_number(script, "Velmor")
    script.replies = [f"Its first pilot was Anna Krell [{n}][9]. She later sailed to Lisbon in 1899 [{n}]."]
    a = p.answer("Who was the first pilot at Velmor?")
    assert a.answerer == "llm" and a.answer == "Its first pilot was Anna Krell [1]." and a.dropped_sentences == 1


def test_an_unmarked_sentence_is_attributed_to_the_passage_that_supports_it(
        make: Callable[..., tuple[Pipeline, Script]]) -> None:
    p, _ = make("A storm closed the harbour for nine days in 1902.")
    a = p.answer("How long did the storm close the harbour at Velmor?")
    assert a.answerer == "llm" and a.answer == "A storm closed the harbour for nine days in 1902 [1]."
    assert a.citations[0].doc_id == "harbour"


@pytest.mark.parametrize(("reply", "reason"), [
    ("The harbour was built by Roman engineers in 1700 [1].", "no sentence of the LLM's reply was supported"),
    (None, "the LLM failed"),
    ("", "the LLM wrote no answer"),
    ("The indexed articles don't contain an answer to that question.", "the LLM found no answer"),
])
def test_failures_fall_back_to_the_extractive_answer_with_the_reason(
        make: Callable[..., tuple[Pipeline, Script]], reply: str | None, reason: str) -> None:
    p, _ = make(reply)
    a = p.answer("When did the harbour at Velmor open?")
    assert a.answerer == "extractive" and not a.abstained and a.fallback is not None and a.fallback.startswith(reason)
    assert "1874" in a.answer and a.citations


def test_instruction_like_passages_are_withheld_and_flagged(make: Callable[..., tuple[Pipeline, Script]]) -> None:
    p, script = make("x", docs=(("harbour", HARBOUR), ("notice", INJECTED)))
    p.answer("Is the harbour at Velmor closed?")
    prompt = script.requests[0]["messages"][1]["content"]  # type: ignore[index]
    assert "Ignore all previous instructions" not in prompt and "Velmor opened in 1874" in prompt
    a = p.answer("Is the harbour at Velmor closed?")
    assert [(f.doc_id, f.kind) for f in a.flagged] == [("notice", "override")]


def test_streaming_releases_only_verified_sentences(make: Callable[..., tuple[Pipeline, Script]]) -> None:
    p, script = make("x")
    p.answer("Who was the first pilot at Velmor?")
    n = _passage_number(script, "Velmor")
    script.replies = [f"Its first pilot was Anna Krell [{n}]. She was born in Oslo in 1850 [{n}]. "
                      f"A storm closed the harbour for nine days in 1902 [{n}]."]
    out = list(p.stream("Who was the first pilot at Velmor?"))
    text, final = "".join(x for x in out if isinstance(x, str)), out[-1]
    assert isinstance(final, Answer) and final.answerer == "llm" and final.dropped_sentences == 1
    assert "Oslo" not in text and text.strip() == final.answer
    assert final.answer == "Its first pilot was Anna Krell [1]. A storm closed the harbour for nine days in 1902 [1]."
    assert script.requests[-1]["stream"] is True


def test_a_failed_stream_falls_back_to_the_extractive_answer(make: Callable[..., tuple[Pipeline, Script]]) -> None:
    p, _ = make(None)
    out = list(p.stream("When did the harbour at Velmor open?"))
    final = out[-1]
    assert isinstance(final, Answer) and final.answerer == "extractive" and final.fallback
    assert "".join(x for x in out if isinstance(x, str)) == final.answer


def test_a_condensed_follow_up_may_not_bring_in_words_the_conversation_never_said(
        make: Callable[..., tuple[Pipeline, Script]]) -> None:
    turns = [Turn("user", "Who was the first pilot at Velmor?"), Turn("assistant", "Anna Krell [1]."),
             Turn("user", "How many ships did she guide?")]
    p, script = make("How many ships did Anna Krell guide at Velmor?")
    assert p.standalone(turns) == ("How many ships did Anna Krell guide at Velmor?", "How many ships did she guide?")
    assert "<<<CONVERSATION" in script.requests[0]["messages"][1]["content"]  # type: ignore[index]
    p, _ = make("How many ships did Anna Krell guide at Lisbon's famous port?")
    question, focus = p.standalone(turns)
    assert "Lisbon" not in question and focus == "How many ships did she guide?"  # the offline rule instead


def test_the_extractive_answerer_never_quotes_an_instruction(tmp_path: Path) -> None:
    p = Pipeline(Settings(index_dir=tmp_path / "index", abstain_threshold=0.0), HashTokenEmbedder())
    p.update(upsert=[_article("notice", INJECTED), _article("harbour", HARBOUR)])
    a = p.answer("Is the harbour at Velmor closed forever?")
    assert a.answerer == "extractive" and "Ignore all previous instructions" not in a.answer
    assert all("Ignore" not in c.text for c in a.citations)


def test_a_repeated_sentence_is_shown_once_and_a_cut_off_fragment_not_at_all(
        make: Callable[..., tuple[Pipeline, Script]]) -> None:
    p, script = make("x")
    p.answer("Who was the first pilot at Velmor?")
    n = _passage_number(script, "Velmor")
    script.replies = [f"Its first pilot was Anna Krell [{n}]. Its first pilot was Anna Krell [{n}]. "
                      f"A storm closed the harbour for nine"]
    a = p.answer("Who was the first pilot at Velmor?")
    assert a.answer == "Its first pilot was Anna Krell [1]." and a.dropped_sentences == 2
    script.replies = [f"Its first pilot was Anna Krell [{n}]. Its first pilot was Anna Krell [{n}]. "
                      f"A storm closed the harbour for nine"]
    out = list(p.stream("Who was the first pilot at Velmor?"))
    assert "".join(x for x in out if isinstance(x, str)).strip() == "Its first pilot was Anna Krell [1]."


def test_a_marker_after_a_closing_quote_stays_with_its_sentence() -> None:
    from rag.generation.answerer import split_sentences

    assert split_sentences('The pilot was called "Anna." [2] The storm came later [1].') == [
        'The pilot was called "Anna [2]."', "The storm came later [1]."]

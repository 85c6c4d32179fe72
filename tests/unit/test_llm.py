"""``ChatClient`` against a tiny real OpenAI-style server on 127.0.0.1 (a stand-in for the remote LLM)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rag.errors import LLMError
from rag.models.llm import ChatClient, cited_passages, grounded_messages
from rag.settings import Settings
from rag.types import Chunk, Hit
from tests.fake_llm import FakeLLM

REPLY = "The parade marked the 75th anniversary [1]. Liu Guozhong led China's delegation [2][9]."


@pytest.fixture
def fake_llm() -> Iterator[FakeLLM]:
    with FakeLLM(REPLY) as f:
        yield f


def hit(n: int, doc: str, text: str) -> Hit:
    return Hit(Chunk(n, doc, 0, "body", text, 0, len(text), 10), score=1.0 / n, rank=n)


HITS = [
    hit(1, "seed", "The parade marked the 75th founding anniversary."),
    hit(2, "seed", "Vice Premier Liu Guozhong led the Chinese delegation."),
]


def test_complete_sends_model_messages_and_key(fake_llm: FakeLLM) -> None:
    client = ChatClient(fake_llm.url, "tiny", api_key="sk-test")
    assert client.complete([{"role": "user", "content": "hi"}]) == REPLY
    assert fake_llm.requests[0]["model"] == "tiny" and fake_llm.requests[0]["stream"] is False
    assert fake_llm.headers[0]["Authorization"] == "Bearer sk-test"


def test_stream_yields_pieces_that_join_to_the_reply(fake_llm: FakeLLM) -> None:
    pieces = list(ChatClient(fake_llm.url, "tiny").stream([{"role": "user", "content": "hi"}]))
    assert len(pieces) == len(REPLY.split(" ")) and "".join(pieces) == REPLY  # one piece a word, as sent
    assert fake_llm.requests[0]["stream"] is True


def test_server_errors_become_llm_errors() -> None:
    with FakeLLM(status=503) as f:
        client = ChatClient(f.url, "tiny")
        with pytest.raises(LLMError, match="503"):
            client.complete([{"role": "user", "content": "hi"}])
        with pytest.raises(LLMError, match="503"):
            list(client.stream([{"role": "user", "content": "hi"}]))


def test_unreachable_server_is_an_llm_error() -> None:
    client = ChatClient("http://127.0.0.1:9/v1", "tiny", timeout_s=2)
    with pytest.raises(LLMError, match="cannot reach"):
        client.complete([{"role": "user", "content": "hi"}])


def test_from_settings_only_when_configured() -> None:
    assert ChatClient.from_settings(Settings()) is None
    client = ChatClient.from_settings(Settings(llm_base_url="http://127.0.0.1:1/v1/", llm_model="m"))
    assert client is not None and client.base_url == "http://127.0.0.1:1/v1" and client.model == "m"


def test_prompt_numbers_the_passages_and_demands_markers() -> None:
    system, user = grounded_messages("Who led?", HITS, {"seed": "Parade story"}, "I can't say.")
    assert "only the numbered passages" in system["content"] and "I can't say." in system["content"]
    assert "[1] (Parade story)\nThe parade" in user["content"] and "[2] (Parade story)" in user["content"]
    assert user["content"].endswith("Question: Who led?")


def test_cited_passages_keep_only_cited_known_numbers() -> None:
    cites = cited_passages(REPLY, HITS, {"seed": "Parade story"})
    assert [c.n for c in cites] == [1, 2]  # [9] points at no passage and is ignored
    assert cites[1].text == HITS[1].chunk.text and cites[1].title == "Parade story"
    assert cited_passages("No markers here.", HITS, {}) == ()

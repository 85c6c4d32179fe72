"""``ChatClient`` against a tiny real OpenAI-style server on 127.0.0.1 (a stand-in for the remote LLM)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rag.errors import LLMError
from rag.models.llm import ChatClient
from tests.fake_llm import FakeLLM

REPLY = "The parade marked the 75th anniversary [1]. Liu Guozhong led China's delegation [2][9]."


@pytest.fixture
def fake_llm() -> Iterator[FakeLLM]:
    with FakeLLM(REPLY) as f:
        yield f


def test_complete_sends_model_messages_and_key(fake_llm: FakeLLM) -> None:
    client = ChatClient(fake_llm.url, "tiny", api_key="sk-test")
    assert client.complete([{"role": "user", "content": "hi"}]) == REPLY
    assert fake_llm.requests[0]["model"] == "tiny" and fake_llm.requests[0]["stream"] is False
    assert fake_llm.headers[0]["Authorization"] == "Bearer sk-test"
    assert "max_tokens" not in fake_llm.requests[0]
    client.complete([{"role": "user", "content": "hi"}], max_tokens=40)
    assert fake_llm.requests[1]["max_tokens"] == 40 and fake_llm.requests[1]["temperature"] == 0.0


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

"""With ``RAG_LLM_BASE_URL`` set, answers come from the LLM, grounded in retrieved passages and cited."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from rag.pipeline import Pipeline
from rag.settings import Settings
from tests.fake_llm import FakeLLM
from tests.fakes import HashEmbedder
from tests.sse import events
from tests.texts import BREAD, ROCKETS, plain_article

REPLY = "It carried four astronauts [1]."


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    with FakeLLM(REPLY) as f:
        yield f


@pytest.fixture
def client(settings: Settings, fake_embedder: HashEmbedder, llm: FakeLLM) -> Iterator[TestClient]:
    p = Pipeline(settings, fake_embedder)
    p.update(upsert=[plain_article("rockets", ROCKETS), plain_article("bread", BREAD)])
    with TestClient(create_app(settings.replace(**{"llm_base_url": llm.url}), p)) as c:
        yield c


def test_ask_uses_the_llm_with_numbered_passages(client: TestClient, llm: FakeLLM) -> None:
    d = client.post("/ask", json={"question": "How many astronauts flew?", "k": 2}).json()
    assert d["answer"] == REPLY and not d["abstained"]
    assert d["citations"][0]["n"] == 1 and d["citations"][0]["doc_id"] == "rockets"
    prompt = llm.requests[0]["messages"][1]["content"]
    assert prompt.startswith("Passages:\n\n[1]") and "Question: How many astronauts flew?" in prompt


def test_stream_relays_llm_pieces(client: TestClient) -> None:
    r = client.post("/chat", json={"messages": [{"role": "user", "content": "astronauts?"}], "stream": True})
    evs = events(r.text)
    text = "".join(json.loads(d)["text"] for e, d in evs if e == "delta")
    assert text == REPLY and [e for e, _ in evs][-2:] == ["citations", "done"]


def test_follow_up_is_condensed_by_the_llm(client: TestClient, llm: FakeLLM) -> None:
    msgs = [
        {"role": "user", "content": "Tell me about the rocket."},
        {"role": "assistant", "content": "x [1]"},
        {"role": "user", "content": "How many people?"},
    ]
    client.post("/chat", json={"messages": msgs})
    assert "Rewrite" in llm.requests[0]["messages"][0]["content"]  # first call: condense
    assert llm.requests[1]["messages"][1]["content"].endswith(f"Question: {REPLY}")  # the rewrite is asked


def test_an_uncited_reply_counts_as_abstention(settings: Settings, fake_embedder: HashEmbedder) -> None:
    p = Pipeline(settings, fake_embedder)
    p.update(upsert=[plain_article("rockets", ROCKETS)])
    with (
        FakeLLM("I don't know.") as f,
        TestClient(create_app(settings.replace(**{"llm_base_url": f.url}), p)) as c,
    ):
        d = c.post("/ask", json={"question": "What is the capital of Peru?"}).json()
    assert d["abstained"] and d["citations"] == []


def test_llm_down_is_a_502_json_error(settings: Settings, fake_embedder: HashEmbedder) -> None:
    p = Pipeline(settings, fake_embedder)
    p.update(upsert=[plain_article("rockets", ROCKETS)])
    with FakeLLM(status=500) as f, TestClient(create_app(settings.replace(**{"llm_base_url": f.url}), p)) as c:
        r = c.post("/ask", json={"question": "astronauts?"})
        assert r.status_code == 502 and r.json()["error"]["code"] == "llm_error"
        s = c.post("/chat", json={"messages": [{"role": "user", "content": "astronauts?"}], "stream": True})
        assert [e for e, _ in events(s.text)][-2:] == ["error", "done"]

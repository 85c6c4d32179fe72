"""Routes over a pipeline with the fake embedder (no model, no server): shapes, streams, errors, metrics."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from rag.generation.answerer import pieces
from rag.pipeline import Pipeline
from rag.settings import Settings
from tests.fakes import HashEmbedder
from tests.readiness import readyz
from tests.sse import events
from tests.texts import BREAD, CATS, ROCKETS, plain_article

ROCKET_Q = "How many astronauts did the rocket carry?"


@pytest.fixture
def pipeline(settings: Settings, fake_embedder: HashEmbedder) -> Pipeline:
    p = Pipeline(settings, fake_embedder)
    p.update(upsert=[plain_article("cats", CATS), plain_article("rockets", ROCKETS), plain_article("bread", BREAD)])
    return p


@pytest.fixture
def client(pipeline: Pipeline) -> Iterator[TestClient]:
    with TestClient(create_app(pipeline=pipeline)) as c:
        yield c


def test_ask_matches_the_library(client: TestClient, pipeline: Pipeline) -> None:
    r = client.post("/ask", json={"question": ROCKET_Q})
    assert r.status_code == 200
    expected = pipeline.answer(ROCKET_Q).to_dict()
    got = r.json()
    assert {k: got[k] for k in ("answer", "citations", "abstained")} == {
        k: expected[k] for k in ("answer", "citations", "abstained")
    }


def test_chat_returns_the_assistant_message(client: TestClient) -> None:
    d = client.post("/chat", json={"messages": [{"role": "user", "content": ROCKET_Q}]}).json()
    assert d["message"] == {"role": "assistant", "content": d["answer"]}
    assert [c["doc_id"] for c in d["citations"]] == ["rockets"] and "four astronauts" in d["answer"]


def test_chat_stream_event_order(client: TestClient) -> None:
    r = client.post("/chat", json={"messages": [{"role": "user", "content": ROCKET_Q}], "stream": True})
    evs = events(r.text)
    names = [e for e, _ in evs]
    assert names[-2:] == ["citations", "done"] and set(names[:-2]) == {"delta"}
    text = "".join(json.loads(d)["text"] for e, d in evs if e == "delta")
    assert "four astronauts" in text and json.loads(evs[-2][1])["citations"][0]["doc_id"] == "rockets"


def test_pieces_rejoin_to_the_text() -> None:
    text = "  One two three four. [1] Five six seven. [2]"
    assert "".join(pieces(text)) == text and len(pieces(text)) == 3


def test_search_returns_titles_and_scores(client: TestClient) -> None:
    d = client.get("/search", params={"q": "sourdough starter", "k": 2}).json()
    assert d["hits"][0]["doc_id"] == "bread" and d["hits"][0]["title"] == "Sourdough bread needs a starter culture"
    assert len(d["hits"]) == 2


def test_openai_shape(client: TestClient) -> None:
    body = {"model": "anything", "messages": [{"role": "user", "content": [{"type": "text", "text": ROCKET_Q}]}]}
    d = client.post("/v1/chat/completions", json=body).json()
    assert d["object"] == "chat.completion" and d["model"] == "grounded-rag"  # the model that answered
    assert "[1]" in d["choices"][0]["message"]["content"] and d["citations"][0]["doc_id"] == "rockets"
    r = client.post("/v1/chat/completions", json={**body, "stream": True})
    evs = events(r.text)
    assert evs[-1][1] == "[DONE]"
    last = json.loads(evs[-2][1])
    assert last["choices"][0]["finish_reason"] == "stop" and last["citations"] == d["citations"]


def test_openai_without_a_user_message_is_422(client: TestClient) -> None:
    r = client.post("/v1/chat/completions", json={"messages": [{"role": "system", "content": "hi"}]})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_request"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"question": ""}, 422, "empty_question"),
        ({"question": "x" * 2001}, 413, "question_too_long"),
        ({"question": 5}, 422, "invalid_request"),
        ({"k": 3}, 422, "invalid_request"),
    ],
)
def test_ask_errors(client: TestClient, body: dict[str, object], status: int, code: str) -> None:
    r = client.post("/ask", json=body)
    assert r.status_code == status and r.json()["error"]["code"] == code


def test_malformed_json_is_a_422_in_the_error_shape(client: TestClient) -> None:
    r = client.post("/ask", content=b"{nope", headers={"content-type": "application/json"})
    assert r.status_code == 422 and "not valid JSON" in r.json()["error"]["message"]


def test_chat_follow_up_longer_than_the_limit_is_rejected(client: TestClient) -> None:
    msgs = [{"role": "user", "content": ROCKET_Q}, {"role": "user", "content": "and " + "x" * 2000}]
    r = client.post("/chat", json={"messages": msgs})
    assert r.status_code == 413 and r.json()["error"]["code"] == "question_too_long"


def test_method_not_allowed_is_json(client: TestClient) -> None:
    r = client.get("/ask")
    assert r.status_code == 405 and r.json()["error"]["code"] == "method_not_allowed"


def test_unexpected_errors_do_not_leak(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*a: object, **k: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(pipeline, "answer", boom)
    with TestClient(create_app(pipeline=pipeline), raise_server_exceptions=False) as c:
        r = c.post("/ask", json={"question": ROCKET_Q})
    assert r.status_code == 500
    assert r.json() == {"error": {"code": "internal_error", "message": "internal server error"}}



def test_ready_and_metrics(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = readyz(client)
    assert ready["status"] == "ready" and ready["documents"] == 3
    client.post("/ask", json={"question": ROCKET_Q})
    text = client.get("/metrics").text
    assert 'rag_http_requests_total{method="POST",route="/ask",status="200"} 1.0' in text
    assert "rag_index_documents 3.0" in text and "rag_http_request_duration_seconds_bucket" in text


def test_each_app_has_its_own_metrics(pipeline: Pipeline) -> None:
    a, b = create_app(pipeline=pipeline), create_app(pipeline=pipeline)
    assert a.state.metrics.registry is not b.state.metrics.registry


def test_readyz_explains_a_missing_index(settings: Settings, fake_embedder: HashEmbedder) -> None:
    with TestClient(create_app(pipeline=Pipeline(settings, fake_embedder))) as c:
        r = readyz(c)
        assert r["status"] == "not_ready" and "rag index" in str(r["reason"])
        assert c.get("/readyz").status_code == 503
        assert c.get("/healthz").status_code == 200
        err = c.post("/ask", json={"question": ROCKET_Q})
        assert err.status_code == 503 and err.json()["error"]["code"] == "index_not_found"


def test_page_and_static(client: TestClient) -> None:
    assert "<textarea" in client.get("/").text
    js = client.get("/static/app.js").text
    assert "innerHTML" not in js  # all server text goes in via textContent

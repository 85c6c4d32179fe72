"""Request bodies are checked at the edge: no type coercion, no lone surrogates, blank questions named as such."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter, ValidationError

from api.schemas import Text

JSON = {"content-type": "application/json"}
USER = '{"role": "user", "content": "How many astronauts flew?"}'


@pytest.fixture
def client(rockets_app: TestClient) -> TestClient:
    return rockets_app


def assert_422(r: Any, code: str = "invalid_request", field: str | None = None) -> str:
    """The project's 422 error shape; ``field`` is where the message says the problem is."""
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["code"] == code, err
    if field:
        assert err["message"].startswith(f"{field}:"), err
    return str(err["message"])


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/ask", '{"question": "astronauts?", "k": "5"}', "k"),
        ("/ask", '{"question": "astronauts?", "k": true}', "k"),
        ("/chat", f'{{"messages": [{USER}], "k": "2"}}', "k"),
        ("/chat", f'{{"messages": [{USER}], "stream": "yes"}}', "stream"),
        ("/chat", f'{{"messages": [{USER}], "stream": 1}}', "stream"),
        ("/v1/chat/completions", f'{{"messages": [{USER}], "stream": "yes"}}', "stream"),
        ("/v1/chat/completions", f'{{"messages": [{USER}], "n": "1"}}', "n"),
    ],
)
def test_strings_and_booleans_are_not_coerced(client: TestClient, path: str, body: str, field: str) -> None:
    assert_422(client.post(path, content=body.encode(), headers=JSON), field=field)


@pytest.mark.parametrize("body", ['{"question": "astronauts?", "k": 2}', '{"question": "astronauts?", "k": 2.0}'])
def test_json_numbers_still_work(client: TestClient, body: str) -> None:
    r = client.post("/ask", content=body.encode(), headers=JSON)
    assert r.status_code == 200 and [c["doc_id"] for c in r.json()["citations"]] == ["rockets"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/ask", rb'{"question": "\ud800 who flew?"}', "question"),
        ("/ask", rb'{"question": "who flew? \udfff"}', "question"),
        ("/chat", rb'{"messages": [{"role": "user", "content": "\ud800 who flew?"}]}', "messages.0.content"),
        ("/v1/chat/completions", rb'{"messages": [{"role": "user", "content": "\ud800 who"}]}', "messages.0.content"),
        (
            "/v1/chat/completions",
            rb'{"messages": [{"role": "user", "content": [{"type": "text", "text": "\udc00"}]}]}',
            "messages.0.content",
        ),
        ("/v1/chat/completions", rb'{"model": "\ud800", "messages": [{"role": "user", "content": "who"}]}', "model"),
    ],
)
def test_a_lone_surrogate_is_a_422_and_the_connection_lives_on(
    client: TestClient, path: str, body: bytes, field: str
) -> None:
    assert_422(client.post(path, content=body, headers=JSON), field=field)
    assert client.post("/ask", json={"question": "How many astronauts flew?"}).status_code == 200


def test_a_surrogate_pair_is_fine(client: TestClient) -> None:
    r = client.post("/ask", content=rb'{"question": "How many astronauts flew? \ud83d\ude80"}', headers=JSON)
    assert r.status_code == 200 and r.json()["question"].endswith("\U0001f680")


def test_the_shared_text_type() -> None:
    text = TypeAdapter(Text)
    assert text.validate_python("caf\u00e9 \U0001f680") == "caf\u00e9 \U0001f680"
    for bad in ("\ud800", "a\udbffb", "\udfff"):
        with pytest.raises(ValidationError, match="surrogate"):
            text.validate_python(bad)


def test_search_query_is_unicode(client: TestClient) -> None:
    # A query string cannot carry a lone surrogate (bad UTF-8 decodes to U+FFFD); it must not be a 500 either.
    for r in (client.get("/search?q=%ED%A0%80%20sourdough"), client.get("/search", params={"q": "sourdough", "k": 2})):
        assert r.status_code == 200 and [h["doc_id"] for h in r.json()["hits"]] == ["bread", "rockets"]


@pytest.mark.parametrize("path", ["/chat", "/v1/chat/completions"])
@pytest.mark.parametrize("blank", ["", "   \n"])
def test_a_blank_last_user_message_is_an_empty_question(client: TestClient, path: str, blank: str) -> None:
    msgs = [
        {"role": "user", "content": "How many astronauts flew?"},
        {"role": "assistant", "content": "Four [1]."},
        {"role": "user", "content": blank},
    ]
    message = assert_422(client.post(path, json={"messages": msgs}), "empty_question")
    assert "last user message is empty" in message


@pytest.mark.parametrize("path", ["/chat", "/v1/chat/completions"])
def test_a_chat_without_a_user_message_is_invalid(client: TestClient, path: str) -> None:
    r = client.post(path, json={"messages": [{"role": "system", "content": "Be brief."}]})
    assert "at least one user message" in assert_422(r)


def test_the_schema_still_states_the_bounds_of_k(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    for name in ("AskRequest", "ChatRequest"):
        k = schemas[name]["properties"]["k"]["anyOf"][0]
        assert k == {"type": "integer", "minimum": 1, "maximum": 50}, (name, k)

"""``/v1``: the parts of the OpenAI API that clients lean on (models by id, stream flags, n, usage)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.routes.openai_compat import usage
from rag.ingest.chunking import get_encoding
from tests.sse import events

QUESTION = "How many astronauts did the rocket carry?"
MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": QUESTION}]


@pytest.fixture
def client(rockets_app: TestClient) -> TestClient:
    return rockets_app


def chunks(client: TestClient, **body: Any) -> list[dict[str, Any]]:
    """The JSON chunks of a streamed completion; checks that it ends with ``[DONE]``."""
    r = client.post("/v1/chat/completions", json={"messages": MESSAGES, "stream": True, **body})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    data = [d for _, d in events(r.text)]
    assert data[-1] == "[DONE]"
    return [json.loads(d) for d in data[:-1]]


def test_models_retrieve_by_id(client: TestClient) -> None:
    listed = client.get("/v1/models").json()["data"][0]
    assert client.get("/v1/models/grounded-rag").json() == listed == {
        "id": "grounded-rag", "object": "model", "created": 0, "owned_by": "grounded-rag"
    }


@pytest.mark.parametrize("model", ["gpt-4o", "org/some-model"])
def test_an_unknown_model_is_a_404(client: TestClient, model: str) -> None:
    r = client.get(f"/v1/models/{model}")
    assert r.status_code == 404 and r.json()["error"]["code"] == "model_not_found"
    assert model in r.json()["error"]["message"]


@pytest.mark.parametrize("extra", [{"stream": None}, {"stream": False}, {"n": 1}, {"n": None}, {}])
def test_stream_null_and_n_1_answer_in_one_json(client: TestClient, extra: dict[str, Any]) -> None:
    r = client.post("/v1/chat/completions", json={"messages": MESSAGES, **extra})
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["object"] == "chat.completion" and len(d["choices"]) == 1
    assert "[1]" in d["choices"][0]["message"]["content"]


@pytest.mark.parametrize("n", [2, 0])
def test_more_than_one_choice_is_refused(client: TestClient, n: int) -> None:
    r = client.post("/v1/chat/completions", json={"messages": MESSAGES, "n": n})
    err = r.json()["error"]
    assert r.status_code == 422 and err["code"] == "invalid_request" and "only n=1" in err["message"]


def test_usage_counts_the_text_in_and_out(client: TestClient) -> None:
    d = client.post("/v1/chat/completions", json={"messages": MESSAGES}).json()
    enc = get_encoding()
    tokens_in = sum(len(enc.encode_ordinary(m["content"])) for m in MESSAGES)
    tokens_out = len(enc.encode_ordinary(d["choices"][0]["message"]["content"]))
    assert tokens_out > 0
    total = tokens_in + tokens_out
    assert d["usage"] == {"prompt_tokens": tokens_in, "completion_tokens": tokens_out, "total_tokens": total}


def test_usage_takes_special_token_text_as_plain_text(client: TestClient) -> None:
    text = "What is <|endoftext|> in rockets?"
    r = client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": text}]})
    enc = get_encoding()
    as_text, as_special = len(enc.encode_ordinary(text)), len(enc.encode(text, allowed_special="all"))
    assert as_text != as_special  # the two readings differ, so the count tells which one was used
    assert r.status_code == 200 and r.json()["usage"]["prompt_tokens"] == as_text


def test_include_usage_ends_the_stream_with_a_usage_chunk(client: TestClient) -> None:
    got = chunks(client, stream_options={"include_usage": True})
    *body, last = got
    assert last["choices"] == [] and last["object"] == "chat.completion.chunk"
    assert all("usage" in c and c["usage"] is None for c in body)
    assert body[-1]["choices"][0]["finish_reason"] == "stop" and body[-1]["citations"]
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in body)
    whole = client.post("/v1/chat/completions", json={"messages": MESSAGES}).json()
    assert text == whole["choices"][0]["message"]["content"]
    assert last["usage"] == whole["usage"] == usage([m["content"] for m in MESSAGES], text)
    assert last["usage"]["completion_tokens"] > 0


@pytest.mark.parametrize("options", [None, {"include_usage": False}, {}])
def test_without_include_usage_no_chunk_mentions_usage(client: TestClient, options: dict[str, Any] | None) -> None:
    got = chunks(client, stream_options=options)
    assert all("usage" not in c for c in got) and got[-1]["choices"][0]["finish_reason"] == "stop"

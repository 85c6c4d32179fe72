"""Every answer, search and document response names the one index generation it was drawn from."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from rag.pipeline import Pipeline
from rag.settings import Settings
from tests.fakes import HashEmbedder
from tests.sse import events
from tests.texts import BREAD, CATS, ROCKETS, plain_article

HEADER = "X-Index-Generation"


@pytest.fixture
def pipeline(settings: Settings, fake_embedder: HashEmbedder) -> Pipeline:
    p = Pipeline(settings, fake_embedder)
    p.update(upsert=[plain_article("rockets", ROCKETS), plain_article("bread", BREAD)])
    return p


@pytest.fixture
def client(pipeline: Pipeline) -> Iterator[TestClient]:
    with TestClient(create_app(pipeline=pipeline)) as c:
        yield c


def live(pipeline: Pipeline) -> str:
    return pipeline.snapshot.path.name


def test_answers_name_their_generation(client: TestClient, pipeline: Pipeline) -> None:
    user = {"role": "user", "content": "How many astronauts flew?"}
    for path, body in [("/ask", {"question": "How many astronauts flew?"}), ("/chat", {"messages": [user]}),
                       ("/v1/chat/completions", {"messages": [user]})]:
        r = client.post(path, json=body)
        assert r.status_code == 200, (path, r.text)
        assert r.headers[HEADER] == r.json()["generation"] == live(pipeline), path


def test_a_stream_names_its_generation_before_the_first_piece(client: TestClient, pipeline: Pipeline) -> None:
    body = {"messages": [{"role": "user", "content": "How many astronauts flew?"}], "stream": True}
    with client.stream("POST", "/chat", json=body) as r:
        assert r.headers[HEADER] == live(pipeline)
        text = r.read().decode()
    meta = next(json.loads(data) for event, data in events(text) if event == "citations")
    assert meta["generation"] == live(pipeline)


def test_search_and_documents_name_their_generation(client: TestClient, pipeline: Pipeline) -> None:
    for path in ("/search?q=sourdough", "/documents", "/documents/bread"):
        r = client.get(path)
        assert r.status_code == 200, (path, r.text)
        assert r.headers[HEADER] == r.json()["generation"] == live(pipeline), path


def test_a_write_names_the_generation_that_holds_it(client: TestClient, pipeline: Pipeline) -> None:
    before = live(pipeline)
    r = client.post("/documents", json={"doc_id": "cats", "title": "Cats", "text": CATS})
    assert r.status_code == 201 and r.headers["Location"] == "/documents/cats"
    assert r.headers[HEADER] == r.json()["generation"] == live(pipeline) != before
    listed = client.get("/documents").json()
    assert listed["generation"] == r.json()["generation"] and "cats" in {d["doc_id"] for d in listed["documents"]}
    gone = client.delete("/documents/cats")
    assert gone.headers[HEADER] == gone.json()["generation"] == live(pipeline) != r.json()["generation"]


def test_a_follow_up_is_answered_from_one_generation(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    """The condensed follow-up and the follow-up as it stands are both read from the generation the first used,
    even when a write publishes another in between."""
    seen: list[str] = []
    answer = pipeline.extractive.answer

    def spy(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        out = answer(*args, **kwargs)  # type: ignore[arg-type]
        seen.append(out.generation)
        if len(seen) == 1:
            pipeline.update(upsert=[plain_article("cats", CATS)])  # a new generation goes live mid-answer
        return out

    monkeypatch.setattr(pipeline.extractive, "answer", spy)
    result = pipeline.answer("rocket astronauts: And how long?", focus="And how long?")
    assert len(seen) == 2 and seen[0] == seen[1] == result.generation != live(pipeline)

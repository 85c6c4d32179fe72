"""``GET /documents/{doc_id}``: the full text the chat page shows around a cited sentence."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from rag.pipeline import Pipeline
from rag.settings import Settings
from tests.conftest import plain_article
from tests.fakes import HashEmbedder
from tests.unit.test_indexing import CATS


@pytest.fixture
def pipeline(settings: Settings, fake_embedder: HashEmbedder) -> Pipeline:
    p = Pipeline(settings, fake_embedder)
    p.update(upsert=[plain_article("cats", CATS)])
    return p


@pytest.fixture
def client(pipeline: Pipeline) -> Iterator[TestClient]:
    with TestClient(create_app(pipeline=pipeline)) as c:
        yield c


def test_read_document_returns_its_full_text(client: TestClient) -> None:
    r = client.get("/documents/cats")
    assert r.status_code == 200, r.text
    assert r.json() == {"doc_id": "cats", "title": "Cats sleep for sixteen hours a day", "source": "",
                        "date": None, "text": CATS}


def test_citation_offsets_index_the_returned_text(client: TestClient) -> None:
    answer = client.post("/ask", json={"question": "What do cats hunt at night?"}).json()
    assert answer["citations"], answer
    for c in answer["citations"]:
        text = client.get(f"/documents/{c['doc_id']}").json()["text"]
        assert text[c["start"] : c["end"]] == c["text"]


def test_ids_with_slashes_are_read_whole(client: TestClient) -> None:
    doc = {"doc_id": "news/2023/turnips", "title": "Turnips", "text": "Zorblax turnips glow violet at night."}
    assert client.post("/documents", json=doc).status_code == 201
    for path in ("/documents/news/2023/turnips", "/documents/news%2F2023%2Fturnips"):
        r = client.get(path)
        assert r.status_code == 200 and r.json()["doc_id"] == "news/2023/turnips", (path, r.text)
        assert r.json()["text"].startswith("Zorblax turnips")


def test_unknown_document_is_404_in_the_error_shape(client: TestClient) -> None:
    r = client.get("/documents/no-such-doc")
    assert r.status_code == 404
    message = "no document with id 'no-such-doc' in the index"
    assert r.json() == {"error": {"code": "document_not_found", "message": message}}


def test_reading_needs_no_key_but_an_index(pipeline: Pipeline, settings: Settings, fake_embedder: HashEmbedder) -> None:
    keyed = pipeline.settings.model_copy(update={"api_keys": ["k1"]})
    with TestClient(create_app(keyed, pipeline)) as c:
        assert c.get("/documents/cats").status_code == 200
    empty = Pipeline(settings.model_copy(update={"index_dir": settings.index_dir.parent / "none"}), fake_embedder)
    with TestClient(create_app(pipeline=empty)) as c:
        r = c.get("/documents/cats")
    assert r.status_code == 503 and r.json()["error"]["code"] == "index_not_found"

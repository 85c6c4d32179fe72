"""Document routes, auth and CORS over the fake embedder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.deps import get_settings
from rag.pipeline import Pipeline
from rag.settings import Settings
from tests.fakes import HashEmbedder
from tests.texts import CATS, plain_article


@pytest.fixture
def pipeline(settings: Settings, fake_embedder: HashEmbedder) -> Pipeline:
    p = Pipeline(settings, fake_embedder)
    p.update(upsert=[plain_article("cats", CATS)])
    return p


@pytest.fixture
def client(pipeline: Pipeline) -> Iterator[TestClient]:
    with TestClient(create_app(pipeline=pipeline)) as c:
        yield c


def test_json_document_round_trip(client: TestClient) -> None:
    doc = {"title": "Bread baking!", "text": "Sourdough bread needs a starter culture. The dough rises overnight."}
    r = client.post("/documents", json=doc)
    assert r.status_code == 201 and r.json()["doc_id"] == "bread-baking" and r.json()["status"] == "added"
    again = client.post("/documents", json=doc)
    assert again.json()["doc_id"] == "bread-baking-2"  # titles are slugged and uniqued
    listed = client.get("/documents").json()
    assert {d["doc_id"] for d in listed["documents"]} == {"cats", "bread-baking", "bread-baking-2"}
    assert client.get("/search", params={"q": "sourdough starter"}).json()["hits"][0]["doc_id"].startswith("bread")
    deleted = client.delete("/documents/bread-baking").json()
    assert deleted["status"] == "deleted" and deleted["document_chunks"] == 0
    assert client.delete("/documents/bread-baking").status_code == 404


def test_a_change_reports_the_document_s_chunks_and_the_index_s(client: TestClient, pipeline: Pipeline) -> None:
    before = len(pipeline.snapshot.chunks)
    text = " ".join(f"Sentence number {i} says something about glass harps in Tallinn." for i in range(40))
    r = client.post("/documents", json={"doc_id": "harps", "title": "Harps", "text": text}).json()
    mine = sum(c.doc_id == "harps" for c in pipeline.snapshot.chunks.values())
    assert mine >= 2  # long enough for several chunks of the test settings
    assert r["document_chunks"] == mine and r["chunks"] == before + mine


def test_explicit_doc_id_updates_in_place(client: TestClient) -> None:
    r = client.post("/documents", json={"doc_id": "cats", "title": "Cats", "text": "Cats purr when content."})
    assert r.json()["status"] == "updated"
    assert client.post("/documents", json={"doc_id": "../etc", "title": "x", "text": "y"}).status_code == 422


@pytest.mark.parametrize("name", ["notes.txt", "notes.md", "notes.html"])
def test_file_uploads(client: TestClient, name: str) -> None:
    data = b"# Notes\n\nGlass harps ring at dawn in Tallinn." if name.endswith(".md") else b"Glass harps ring at dawn."
    r = client.post("/documents", files={"file": (name, data, "application/octet-stream")})
    assert r.status_code == 201, r.text
    assert r.json()["doc_id"] == "notes"


def test_upload_errors(client: TestClient) -> None:
    r = client.post("/documents", files={"file": ("a.jsonl", b"{}", "application/json")})
    assert r.status_code == 415 and r.json()["error"]["code"] == "unsupported_document"
    r = client.post("/documents", files={"file": ("latin1.txt", "café".encode("latin-1"), "text/plain")})
    assert r.status_code == 415 and "UTF-8" in r.json()["error"]["message"]
    r = client.post("/documents", files={"other": ("a.txt", b"x", "text/plain")})
    assert r.status_code == 422 and "`file`" in r.json()["error"]["message"]
    r = client.post("/documents", content=b"", headers={"content-type": "application/xml"})
    assert r.status_code == 415


def test_oversized_upload_is_413(pipeline: Pipeline) -> None:
    small = pipeline.settings.replace(**{"max_upload_bytes": 1000})
    with TestClient(create_app(small, pipeline)) as c:
        r = c.post("/documents", files={"file": ("big.txt", b"a" * 5000, "text/plain")})
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"


def test_api_keys_guard_writes_only(pipeline: Pipeline) -> None:
    keyed = pipeline.settings.replace(**{"api_keys": ["k1", "k2"]})
    with TestClient(create_app(keyed, pipeline)) as c:
        doc = {"title": "T", "text": "Some text here."}
        assert c.post("/documents", json=doc).status_code == 401
        assert c.post("/documents", json=doc, headers={"Authorization": "Basic k1"}).status_code == 401
        assert c.post("/documents", json=doc, headers={"Authorization": "Bearer k2"}).status_code == 201
        assert c.delete("/documents/t").status_code == 401
        assert c.get("/documents").status_code == 200


def test_settings_dependency_can_be_overridden(pipeline: Pipeline) -> None:
    app = create_app(pipeline=pipeline)
    app.dependency_overrides[get_settings] = lambda: pipeline.settings.replace(**{"api_keys": ["x"]})
    with TestClient(app) as c:
        assert c.post("/documents", json={"title": "T", "text": "Text."}).status_code == 401


def test_cors_allows_configured_origins(pipeline: Pipeline) -> None:
    s = pipeline.settings.replace(**{"cors_origins": ["http://localhost:3000"]})
    with TestClient(create_app(s, pipeline)) as c:
        r = c.options("/ask", headers={"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"})
        assert r.headers["access-control-allow-origin"] == "http://localhost:3000"
        r = c.get("/healthz", headers={"Origin": "http://evil.example"})
        assert "access-control-allow-origin" not in r.headers


# --- GET /documents/{doc_id}: the full text the chat page shows around a cited sentence ---


def test_read_document_returns_its_full_text(client: TestClient, pipeline: Pipeline) -> None:
    r = client.get("/documents/cats")
    assert r.status_code == 200, r.text
    live = pipeline.snapshot.path.name
    assert r.json() == {"doc_id": "cats", "title": "Cats sleep for sixteen hours a day", "source": "",
                        "date": None, "text": CATS, "generation": live}
    assert r.headers["X-Index-Generation"] == live


def test_a_trailing_slash_lists_the_documents(client: TestClient) -> None:
    r = client.get("/documents/")
    assert r.status_code == 200 and r.json() == client.get("/documents").json()


def test_citation_offsets_index_the_returned_text(client: TestClient) -> None:
    answer = client.post("/ask", json={"question": "What do cats hunt at night?"}).json()
    assert [c["text"] for c in answer["citations"]] == ["They hunt mice at night."], answer
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
    keyed = pipeline.settings.replace(**{"api_keys": ["k1"]})
    with TestClient(create_app(keyed, pipeline)) as c:
        assert c.get("/documents/cats").status_code == 200
    empty = Pipeline(settings.replace(**{"index_dir": settings.index.index_dir.parent / "none"}), fake_embedder)
    with TestClient(create_app(pipeline=empty)) as c:
        r = c.get("/documents/cats")
    assert r.status_code == 503 and r.json()["error"]["code"] == "index_not_found"

"""Hostile uploads and bodies are refused (or their file names neutralised), and a refused request writes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.routes.documents import upload_name
from rag.pipeline import Pipeline
from rag.settings import Settings
from tests.fakes import HashEmbedder
from tests.texts import CATS, plain_article

TEXT = b"Zorblax turnips glow violet at night in Quenville."
KEY = {"Authorization": "Bearer k1"}


@pytest.fixture
def pipeline(settings: Settings, fake_embedder: HashEmbedder) -> Pipeline:
    p = Pipeline(settings, fake_embedder)
    p.update(upsert=[plain_article("cats", CATS)])
    return p


@pytest.fixture
def client(pipeline: Pipeline) -> Iterator[TestClient]:
    s = pipeline.settings.replace(api_keys=["k1"], max_upload_bytes=200_000, rate_limit_writes="2/minute")
    with TestClient(create_app(s, pipeline)) as c:
        yield c


def state(pipeline: Pipeline, root: Path) -> tuple[list[str], list[str], list[Path]]:
    """The documents, the generations on disk, and every file under the test's folder."""
    gens = sorted(p.name for p in (pipeline.settings.index.index_dir / "generations").iterdir())
    return sorted(pipeline.snapshot.documents), gens, sorted(root.rglob("*"))


@pytest.mark.parametrize(
    ("filename", "doc_id"),
    [("../../escape.txt", "escape"), ("/etc/passwd.txt", "passwd"), ("..\\..\\win.txt", "win"),
     ("C:\\Users\\x\\notes.md", "notes"), ("sub/../../deep.html", "deep"), ("....txt", "document")],
)
def test_path_parts_of_a_file_name_are_dropped(client: TestClient, tmp_path: Path, filename: str, doc_id: str) -> None:
    r = client.post("/documents", files={"file": (filename, TEXT, "text/plain")}, headers=KEY)
    assert r.status_code == 201, r.text
    assert r.json()["doc_id"] == doc_id
    assert not list(tmp_path.parent.glob("escape*")) and not list(tmp_path.glob("*.txt"))  # nothing written there


@pytest.mark.parametrize("filename", ["a\x00.txt", "notes.txt\x00.html", "new\nline.txt", "bell\x07.md", "del\x7f.txt"])
def test_a_control_character_in_a_file_name_is_refused(client: TestClient, filename: str) -> None:
    assert upload_name.__name__  # the check lives in one function, used by the route
    with pytest.raises(Exception, match="control character"):
        upload_name(filename)
    body, ctype = multipart(filename, TEXT)
    r = client.post("/documents", content=body, headers={**KEY, "content-type": ctype})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "invalid_request"


def multipart(filename: str, data: bytes) -> tuple[bytes, str]:
    """A multipart body with the file name as raw bytes (clients would escape a NUL; an attacker need not)."""
    boundary = "b0undary"
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n\r\n'
    body = head.encode("utf-8") + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def nested(depth: int, leaf: str = '"x"') -> str:
    return "[" * depth + leaf + "]" * depth


REFUSED: list[tuple[str, str, dict[str, Any], int]] = [
    # (what, method + path, request keyword arguments, status)
    ("no key", "POST /documents", {"json": {"title": "T", "text": TEXT.decode()}, "auth": False}, 401),
    ("wrong key", "POST /documents", {"json": {"title": "T", "text": TEXT.decode()},
                                      "headers": {"Authorization": "Bearer k2"}}, 401),
    ("no word to search", "POST /documents", {"json": {"title": "T", "text": "k"}}, 422),
    ("stop words only", "POST /documents", {"json": {"title": "T", "text": "It is the of and, to be or not."}}, 422),
    ("blank", "POST /documents", {"json": {"title": "T", "text": "   "}}, 422),
    ("dot segments in an id", "POST /documents", {"json": {"doc_id": "a/../b", "title": "T", "text": "Turnips."}},
     422),
    ("nested JSON", "POST /documents", {"content": '{"title": "T", "text": "Turnips.", "x": ' + nested(5000) + "}"},
     422),
    ("huge JSON", "POST /documents", {"content": '{"title": "T", "text": "' + "turnip " * 40_000 + '"}'}, 413),
    ("NUL in a file name", "POST /documents", {"multipart": ("a\x00.txt", TEXT)}, 422),
    ("an executable", "POST /documents", {"multipart": ("run.sh", b"#!/bin/sh\nrm -rf /\n")}, 415),
    ("not UTF-8", "POST /documents", {"multipart": ("latin.txt", "café turnips".encode("latin-1"))}, 415),
    ("a JSONL file", "POST /documents", {"multipart": ("many.jsonl", b'{"id": "a", "text": "Turnips."}\n')}, 415),
    ("two files", "POST /documents", {"files": [("file", ("a.txt", TEXT)), ("file", ("b.txt", TEXT))]}, 422),
    ("no such document", "DELETE /documents/no-such-doc", {}, 404),
    ("deleting without a key", "DELETE /documents/cats", {"auth": False}, 401),
]


@pytest.mark.parametrize(("what", "route", "kwargs", "status"), REFUSED, ids=[r[0] for r in REFUSED])
def test_a_refused_write_writes_nothing(client: TestClient, pipeline: Pipeline, tmp_path: Path, what: str,
                                        route: str, kwargs: dict[str, Any], status: int) -> None:
    before = state(pipeline, tmp_path)
    method, path = route.split(" ")
    kwargs = dict(kwargs)
    headers = {} if kwargs.pop("auth", True) is False else dict(KEY)
    headers.update(kwargs.pop("headers", {}))
    if "multipart" in kwargs:
        body, ctype = multipart(*kwargs.pop("multipart"))
        kwargs["content"], headers["content-type"] = body, ctype
    elif "content" in kwargs:
        headers["content-type"] = "application/json"
    r = client.request(method, path, headers=headers, **kwargs)
    assert r.status_code == status, r.text
    assert set(r.json()) == {"error"} and set(r.json()["error"]) == {"code", "message"}
    assert state(pipeline, tmp_path) == before, what


def test_the_write_limit_writes_nothing_either(client: TestClient, pipeline: Pipeline, tmp_path: Path) -> None:
    for n in range(2):
        assert client.post("/documents", json={"doc_id": f"t{n}", "title": "T", "text": "Turnips glow."},
                           headers=KEY).status_code == 201
    before = state(pipeline, tmp_path)
    r = client.post("/documents", json={"doc_id": "t3", "title": "T", "text": "Turnips glow."}, headers=KEY)
    assert r.status_code == 429 and state(pipeline, tmp_path) == before


@pytest.mark.parametrize("path", ["/ask", "/chat", "/v1/chat/completions"])
@pytest.mark.parametrize("depth", [40, 900, 5000, 100_000])
def test_deeply_nested_json_is_a_4xx(client: TestClient, path: str, depth: int) -> None:
    user = '{"role": "user", "content": "What do cats hunt?", "extra": ' + nested(depth) + "}"
    body = {"/ask": '{"question": "What do cats hunt?", "extra": ' + nested(depth) + "}",
            "/chat": '{"messages": [' + user + "]}",
            "/v1/chat/completions": '{"messages": [' + user + '], "x": ' + nested(depth) + "}"}[path]
    r = client.post(path, content=body.encode(), headers={"content-type": "application/json"})
    assert r.status_code in (200, 413, 422), r.text  # extra fields are ignored where a model ignores them
    if r.status_code != 200:
        assert r.json()["error"]["code"] in ("invalid_request", "payload_too_large")
    if path == "/v1/chat/completions":  # free-form extras are walked (for lone surrogates): bounded depth
        assert r.status_code in (413, 422)


def test_a_body_that_is_not_utf8_is_a_422(client: TestClient) -> None:
    r = client.post("/ask", content=b'{"question": "caf\xe9"}', headers={"content-type": "application/json"})
    assert r.status_code == 422 and "UTF-8" in r.json()["error"]["message"]


def test_405_names_every_method_of_the_path(client: TestClient) -> None:
    r = client.request("PATCH", "/documents")
    assert r.status_code == 405 and set(r.headers["Allow"].split(", ")) == {"GET", "POST"}
    r = client.request("OPTIONS", "/documents/cats")
    assert r.status_code == 405 and set(r.headers["Allow"].split(", ")) == {"GET", "DELETE"}
    assert r.json()["error"]["code"] == "method_not_allowed"

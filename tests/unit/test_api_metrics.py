"""``/metrics`` labels each request by the route template that serves it; 'unmatched' only for unknown paths."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import DOCS_ASSETS, create_app
from rag.pipeline import Pipeline
from rag.settings import Settings
from tests.fakes import HashEmbedder

LIMIT = 1_000


@pytest.fixture
def client(settings: Settings, fake_embedder: HashEmbedder) -> Iterator[TestClient]:
    small = settings.replace(**{"max_upload_bytes": LIMIT})
    with TestClient(create_app(small, Pipeline(small, fake_embedder))) as c:
        yield c


def counts(client: TestClient) -> dict[tuple[str, str, str], float]:
    """``rag_http_requests_total`` as {(route, method, status): count}."""
    out = {}
    for m in re.finditer(r'rag_http_requests_total\{method="(\w+)",route="([^"]*)",status="(\d+)"\} (\S+)',
                         client.get("/metrics").text):
        out[(m[2], m[1], m[3])] = float(m[4])
    return out


def test_docs_and_schema_have_their_own_routes(client: TestClient) -> None:
    for path in ("/docs", "/redoc", "/openapi.json", f"{DOCS_ASSETS}/swagger-ui.css", "/static/app.js"):
        assert client.get(path).status_code == 200, path
    c = counts(client)
    for route in ("/docs", "/redoc", "/openapi.json", DOCS_ASSETS, "/static"):
        assert c.get((route, "GET", "200")) == 1, (route, c)
    assert not any(route == "unmatched" for route, _, _ in c)


def test_a_body_refused_by_its_content_length_counts_under_its_route(client: TestClient) -> None:
    r = client.post("/ask", content=b"x" * (LIMIT + 1), headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"
    assert counts(client).get(("/ask", "POST", "413")) == 1


def test_unknown_paths_and_methods(client: TestClient) -> None:
    assert client.get("/nowhere").status_code == 404
    assert client.get("/ask").status_code == 405
    c = counts(client)
    assert c.get(("unmatched", "GET", "404")) == 1 and c.get(("/ask", "GET", "405")) == 1


def test_a_cors_preflight_counts_under_its_route(settings: Settings, fake_embedder: HashEmbedder) -> None:
    cors = settings.replace(**{"cors_origins": ["http://app.example"]})
    with TestClient(create_app(cors, Pipeline(cors, fake_embedder))) as c:
        headers = {"Origin": "http://app.example", "Access-Control-Request-Method": "POST"}
        assert c.options("/ask", headers=headers).status_code == 200
        assert counts(c).get(("/ask", "OPTIONS", "200")) == 1

"""``/docs`` and ``/redoc`` work offline: every script, stylesheet and icon they load is served by the app."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from rag.pipeline import Pipeline
from rag.settings import Settings
from tests.fakes import HashEmbedder

_ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")


@pytest.fixture
def client(settings: Settings, fake_embedder: HashEmbedder) -> Iterator[TestClient]:
    with TestClient(create_app(pipeline=Pipeline(settings, fake_embedder))) as c:
        yield c


@pytest.mark.parametrize(("page", "needs"), [("/docs", (".js", ".css")), ("/redoc", (".js",))])
def test_docs_page_loads_only_local_assets(client: TestClient, page: str, needs: tuple[str, ...]) -> None:
    r = client.get(page)
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    urls = _ASSET.findall(r.text)
    assert all(any(u.endswith(ext) for u in urls) for ext in needs), urls
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), f"{page} loads {url} from another host"
        asset = client.get(url)
        assert asset.status_code == 200 and len(asset.content) > 100, url
    assert not re.search(r"https?://|//cdn|fonts\.googleapis", r.text), "no CDN or web font on the page"


def test_docs_assets_have_their_types(client: TestClient) -> None:
    urls = _ASSET.findall(client.get("/docs").text)
    js = next(u for u in urls if u.endswith(".js"))
    css = next(u for u in urls if u.endswith(".css"))
    assert "javascript" in client.get(js).headers["content-type"]
    assert client.get(css).headers["content-type"].startswith("text/css")


def test_the_docs_load_the_openapi_schema(client: TestClient) -> None:
    assert "'/openapi.json'" in client.get("/docs").text
    schema = client.get("/openapi.json").json()
    assert "/ask" in schema["paths"] and "/v1/models/{model_id}" in schema["paths"]

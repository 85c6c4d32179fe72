"""The HTTP API against a real server, the real model and the seed index."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from tests.integration.server import Server

pytestmark = pytest.mark.integration

SEED = "000_d024cab3850fab44"
PARADE = "What was the purpose of the parade?"


def sse(response: httpx.Response) -> list[tuple[str, str]]:
    """(event, data) pairs of an SSE response body."""
    events, event, data = [], "message", []
    for line in response.iter_lines():
        if not line:
            if data:
                events.append((event, "\n".join(data)))
            event, data = "message", []
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip())
    if data:
        events.append((event, "\n".join(data)))
    return events


def assert_error(r: httpx.Response, status: int, code: str | None = None) -> dict[str, str]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    err = r.json()["error"]
    assert set(err) == {"code", "message"} and err["message"]
    assert "Traceback" not in r.text
    if code:
        assert err["code"] == code
    return err  # type: ignore[no-any-return]


def test_ask_returns_the_cli_json_shape(client: httpx.Client) -> None:
    r = client.post("/ask", json={"question": PARADE, "k": 5})
    assert r.status_code == 200, r.text
    d = r.json()
    assert set(d) == {"question", "answer", "short_answer", "short_answer_confidence", "abstained", "citations",
                      "timings_ms", "answerer", "fallback", "flagged", "dropped_sentences", "generation"}
    assert d["generation"] == r.headers["X-Index-Generation"]
    assert d["answerer"] == "extractive" and d["fallback"] is None and d["flagged"] == []
    assert not d["abstained"] and "75th founding anniversary" in d["answer"]
    c = d["citations"][0]
    assert set(c) == {"n", "doc_id", "title", "chunk_id", "text", "start", "end", "score", "verified", "support"}
    assert c["verified"] is True and c["support"] is None  # a verbatim quote
    assert c["doc_id"] == SEED and f"[{c['n']}]" in d["answer"]


def test_chat_follow_up_is_answered_from_the_right_passage(client: httpx.Client) -> None:
    first = client.post("/chat", json={"messages": [{"role": "user", "content": PARADE}]}).json()
    history = [
        {"role": "user", "content": PARADE},
        first["message"],
        {"role": "user", "content": "And who led the Chinese delegation?"},
    ]
    d = client.post("/chat", json={"messages": history}).json()
    assert "Liu Guozhong" in d["answer"], d
    assert d["question"] != "And who led the Chinese delegation?"  # condensed against the first turn
    assert any("Liu Guozhong" in c["text"] for c in d["citations"])


def test_chat_follow_up_about_putin(client: httpx.Client) -> None:
    history = [
        {"role": "user", "content": "Why is China concerned about a Russia-North Korea arms deal?"},
        {"role": "assistant", "content": "Because of sanctions. [1]"},
        {"role": "user", "content": "And what about Putin?"},
    ]
    d = client.post("/chat", json={"messages": history}).json()
    assert "Putin" in d["question"] and "arms deal" in d["question"] and "China" not in d["question"]
    assert "Putin" in d["answer"] and not d["abstained"], d


def test_chat_stream_sends_text_then_citations_then_done(client: httpx.Client) -> None:
    body = {"messages": [{"role": "user", "content": PARADE}], "stream": True}
    with client.stream("POST", "/chat", json=body) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        events = sse(r)
    names = [e for e, _ in events]
    assert names[-2:] == ["citations", "done"] and set(names[:-2]) == {"delta"} and len(names) > 3
    text = "".join(json.loads(d)["text"] for e, d in events if e == "delta")
    meta = json.loads(events[-2][1])
    assert not meta["abstained"] and meta["citations"]
    assert set(meta) == {"question", "short_answer", "short_answer_confidence", "abstained", "citations", "timings_ms",
                         "answerer", "fallback", "flagged", "dropped_sentences", "generation"}
    for c in meta["citations"]:
        assert f"[{c['n']}]" in text


def test_chat_stream_rejects_bad_input_before_streaming(client: httpx.Client) -> None:
    r = client.post("/chat", json={"messages": [{"role": "user", "content": "  "}], "stream": True})
    assert_error(r, 422, "empty_question")


def test_search_ranks_passages_with_scores(client: httpx.Client) -> None:
    r = client.get("/search", params={"q": "Vice Premier Liu Guozhong", "k": 3})
    assert r.status_code == 200
    d = r.json()
    hits = d["hits"]
    assert d["k"] == 3 and 1 <= len(hits) <= 3
    assert [h["rank"] for h in hits] == list(range(1, len(hits) + 1))
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    assert "Liu" in hits[0]["text"] and hits[0]["dense"] is not None and hits[0]["bm25"] is not None


def test_documents_change_answers_without_restart(client: httpx.Client, server: Server) -> None:
    question = "What colour are the Zorblax turnips of Quenville?"
    text = (
        "Quenville farmers grow Zorblax turnips. The Zorblax turnips of Quenville are bright violet and glow "
        "faintly at night. Every autumn the village holds a turnip fair."
    )
    before = client.post("/ask", json={"question": question}).json()
    assert "violet" not in before["answer"]
    r = client.post("/documents", json={"title": "Zorblax turnips", "text": text}, headers=server.auth)
    assert r.status_code == 201, r.text
    doc_id = r.json()["doc_id"]
    assert r.json()["status"] == "added" and doc_id == "zorblax-turnips"
    try:
        assert doc_id in {d["doc_id"] for d in client.get("/documents").json()["documents"]}
        after = client.post("/ask", json={"question": question}).json()
        assert "violet" in after["answer"] and after["citations"][0]["doc_id"] == doc_id
    finally:
        r = client.delete(f"/documents/{doc_id}", headers=server.auth)
    assert r.status_code == 200 and r.json()["status"] == "deleted"
    gone = client.post("/ask", json={"question": question}).json()
    assert "violet" not in gone["answer"]
    assert doc_id not in {d["doc_id"] for d in client.get("/documents").json()["documents"]}


def test_file_upload_uses_the_file_name_as_id(client: httpx.Client, server: Server) -> None:
    html = b"<html><head><title>Glass harps</title></head><body><p>Glass harps ring at dawn.</p></body></html>"
    r = client.post("/documents", files={"file": ("glass-harps.html", html, "text/html")}, headers=server.auth)
    assert r.status_code == 201, r.text
    assert r.json()["doc_id"] == "glass-harps" and r.json()["title"] == "Glass harps"
    assert client.delete("/documents/glass-harps", headers=server.auth).status_code == 200


def test_writes_need_the_api_key_reads_do_not(client: httpx.Client) -> None:
    doc = {"title": "Nope", "text": "Should never be indexed."}
    assert_error(client.post("/documents", json=doc), 401, "unauthorized")
    r = client.post("/documents", json=doc, headers={"Authorization": "Bearer wrong"})
    assert_error(r, 401, "unauthorized")
    assert r.headers["www-authenticate"] == "Bearer"
    assert_error(client.delete(f"/documents/{SEED}"), 401, "unauthorized")
    assert client.get("/documents").status_code == 200
    assert client.post("/ask", json={"question": PARADE}).status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "code"),
    [
        ("POST", "/ask", {"json": {"question": ""}}, 422, "empty_question"),
        ("POST", "/ask", {"json": {"question": "x" * 2001}}, 413, "question_too_long"),
        ("POST", "/ask", {"json": {}}, 422, "invalid_request"),
        (
            "POST",
            "/ask",
            {"content": b'{"question": ', "headers": {"content-type": "application/json"}},
            422,
            "invalid_request",
        ),
        ("POST", "/ask", {"json": {"question": "hi", "k": 0}}, 422, "invalid_request"),
        ("GET", "/search", {"params": {"q": " "}}, 422, "empty_question"),
        ("POST", "/chat", {"json": {"messages": []}}, 422, "invalid_request"),
        ("GET", "/nowhere", {}, 404, "not_found"),
        ("POST", "/ask", {"json": {"question": "hi", "k": "5"}}, 422, "invalid_request"),
        (
            "POST",
            "/ask",
            {"content": rb'{"question": "\ud800 who"}', "headers": {"content-type": "application/json"}},
            422,
            "invalid_request",
        ),
        (
            "POST",
            "/v1/chat/completions",
            {
                "content": rb'{"messages": [{"role": "user", "content": "\ud800 who"}]}',
                "headers": {"content-type": "application/json"},
            },
            422,
            "invalid_request",
        ),
        ("GET", "/v1/models/no-such-model", {}, 404, "model_not_found"),
    ],
)
def test_bad_input_gets_a_json_4xx(
    client: httpx.Client, method: str, path: str, kwargs: dict[str, object], status: int, code: str
) -> None:
    assert_error(client.request(method, path, **kwargs), status, code)  # type: ignore[arg-type]
    # Bad input never costs the keep-alive connection: the next request on it is answered.
    assert client.get("/healthz").status_code == 200


def test_document_errors(client: httpx.Client, server: Server) -> None:
    auth = server.auth
    assert_error(client.delete("/documents/no-such-doc", headers=auth), 404, "document_not_found")
    r = client.post("/documents", files={"file": ("x.pdf", b"%PDF-1.4", "application/pdf")}, headers=auth)
    assert_error(r, 415, "unsupported_document")
    r = client.post("/documents", content=b"plain", headers={**auth, "content-type": "text/plain"})
    assert_error(r, 415, "unsupported_document")
    r = client.post("/documents", files={"file": ("big.txt", b"a " * 3_000_000, "text/plain")}, headers=auth)
    assert_error(r, 413, "payload_too_large")
    r = client.post("/documents", files={"file": ("empty.txt", b"   ", "text/plain")}, headers=auth)
    assert_error(r, 422, "empty_document")
    assert_error(client.post("/documents", json={"title": "t"}, headers=auth), 422, "invalid_request")


def test_chunked_body_over_the_limit_is_413(client: httpx.Client, server: Server) -> None:
    def body() -> object:
        for _ in range(60):
            yield b"a" * 100_000  # 6 MB without a Content-Length header

    r = client.post("/documents", content=body(), headers={**server.auth, "content-type": "application/json"})
    assert_error(r, 413, "payload_too_large")


def test_health_ready_and_metrics(client: httpx.Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["documents"] >= 1 and ready.json()["chunks"] >= 1
    client.post("/ask", json={"question": PARADE})
    text = client.get("/metrics").text
    for name in (
        "rag_http_requests_total",
        "rag_http_request_duration_seconds_bucket",
        "rag_index_documents",
        "rag_index_chunks",
    ):
        assert name in text
    assert 'route="/ask"' in text and 'status="200"' in text


def test_docs_load_nothing_from_other_hosts(client: httpx.Client) -> None:
    for page in ("/docs", "/redoc"):
        html = client.get(page).text
        assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
        assert assets and "://" not in html, html
        for url in assets:
            assert url.startswith("/") and client.get(url).status_code == 200, url
    text = client.get("/metrics").text
    assert 'route="/docs"' in text and 'route="/docs/assets"' in text


def test_page_is_served(client: httpx.Client) -> None:
    r = client.get("/")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"] and "/static/app.js" in r.text
    assert client.get("/static/app.js").status_code == 200

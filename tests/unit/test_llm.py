"""``ChatClient`` against a tiny real OpenAI-style server on 127.0.0.1 (a stand-in for the remote LLM)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from rag.errors import LLMError
from rag.models.llm import ChatClient

REPLY = "The parade marked the 75th anniversary [1]. Liu Guozhong led China's delegation [2][9]."


class FakeLLM:
    """Answers ``POST /v1/chat/completions`` with a canned reply, as JSON or as SSE, and records requests."""

    def __init__(self, reply: str = REPLY, status: int = 200) -> None:
        self.reply, self.status = reply, status
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append(body)
                fake.headers.append(dict(self.headers))
                if fake.status != 200:
                    self._send(fake.status, "application/json", b'{"error": {"message": "overloaded"}}')
                elif body.get("stream"):
                    words = fake.reply.split(" ")
                    pieces = [w + (" " if i < len(words) - 1 else "") for i, w in enumerate(words)]
                    lines = [{"choices": [{"index": 0, "delta": {"role": "assistant"}}]}]
                    lines += [{"choices": [{"index": 0, "delta": {"content": p}}]} for p in pieces]
                    data = "".join(f"data: {json.dumps(x)}\n\n" for x in lines) + "data: [DONE]\n\n"
                    self._send(200, "text/event-stream", data.encode())
                else:
                    out = {"choices": [{"index": 0, "message": {"role": "assistant", "content": fake.reply}}]}
                    self._send(200, "application/json", json.dumps(out).encode())

            def _send(self, status: int, ctype: str, data: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeLLM:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_llm() -> Iterator[FakeLLM]:
    with FakeLLM() as f:
        yield f


def test_complete_sends_model_messages_and_key(fake_llm: FakeLLM) -> None:
    client = ChatClient(fake_llm.url, "tiny", api_key="sk-test")
    assert client.complete([{"role": "user", "content": "hi"}]) == REPLY
    assert fake_llm.requests[0]["model"] == "tiny" and fake_llm.requests[0]["stream"] is False
    assert fake_llm.headers[0]["Authorization"] == "Bearer sk-test"
    assert "max_tokens" not in fake_llm.requests[0]
    client.complete([{"role": "user", "content": "hi"}], max_tokens=40)
    assert fake_llm.requests[1]["max_tokens"] == 40 and fake_llm.requests[1]["temperature"] == 0.0


def test_stream_yields_pieces_that_join_to_the_reply(fake_llm: FakeLLM) -> None:
    pieces = list(ChatClient(fake_llm.url, "tiny").stream([{"role": "user", "content": "hi"}]))
    assert len(pieces) > 3 and "".join(pieces) == REPLY
    assert fake_llm.requests[0]["stream"] is True


def test_server_errors_become_llm_errors() -> None:
    with FakeLLM(status=503) as f:
        client = ChatClient(f.url, "tiny")
        with pytest.raises(LLMError, match="503"):
            client.complete([{"role": "user", "content": "hi"}])
        with pytest.raises(LLMError, match="503"):
            list(client.stream([{"role": "user", "content": "hi"}]))


def test_unreachable_server_is_an_llm_error() -> None:
    client = ChatClient("http://127.0.0.1:9/v1", "tiny", timeout_s=2)
    with pytest.raises(LLMError, match="cannot reach"):
        client.complete([{"role": "user", "content": "hi"}])

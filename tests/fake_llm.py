"""A tiny real OpenAI-style chat server on 127.0.0.1, standing in for the remote LLM."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeLLM:
    """Answers ``POST /v1/chat/completions`` with a canned reply, as JSON or as SSE, and records requests."""

    def __init__(self, reply: str = "", status: int = 200) -> None:
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

"""A scripted OpenAI-compatible chat server as an httpx transport: unit tests hand it to ``ChatClient`` to control
what "the LLM" replies (the real llama.cpp server is exercised in the integration tests)."""

from __future__ import annotations

import json

import httpx


class Script:
    """Replies in turn to chat requests, recording each; a reply of ``None`` answers HTTP 500."""

    def __init__(self, *replies: str | None) -> None:
        self.replies = list(replies)
        self.requests: list[dict[str, object]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.requests.append(body)
        reply = self.replies.pop(0) if self.replies else "No more replies."
        if reply is None:
            return httpx.Response(500, text="boom")
        if body.get("stream"):
            words = reply.split(" ")
            lines = [f"data: {json.dumps({'choices': [{'delta': {'content': w + ' '}}]})}\n\n" for w in words]
            return httpx.Response(200, text="".join(lines) + "data: [DONE]\n\n")
        return httpx.Response(200, json={"choices": [{"message": {"content": reply}}]})

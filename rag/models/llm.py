"""A small client for an OpenAI-compatible chat server (the bundled local model, Ollama, vLLM, a hosted API)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

import httpx

from rag.errors import LLMError

Message = dict[str, str]


class ChatClient:
    """A small client for ``POST {base_url}/chat/completions``, streaming or not."""

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout_s: float = 60.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout_s, transport=transport)

    def _body(self, messages: Sequence[Message], max_tokens: int | None, temperature: float, *, stream: bool
              ) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.model, "messages": list(messages), "temperature": temperature,
                                "stream": stream}
        if max_tokens is not None:
            body["max_tokens"] = max_tokens
        return body

    def close(self) -> None:
        """Release the connection pool."""
        self._http.close()

    def complete(self, messages: Sequence[Message], *, max_tokens: int | None = None, temperature: float = 0.0) -> str:
        """The assistant's full reply; raises ``LLMError`` on any transport or protocol failure."""
        body = self._body(messages, max_tokens, temperature, stream=False)
        try:
            r = self._http.post("/chat/completions", json=body)
            r.raise_for_status()
            content = r.json()["choices"][0]["message"]["content"]
        except httpx.HTTPStatusError as e:
            raise LLMError(f"the LLM server answered {e.response.status_code}: {e.response.text[:200]}") from e
        except httpx.HTTPError as e:
            raise LLMError(f"cannot reach the LLM server at {self.base_url}: {e}") from e
        except (ValueError, KeyError, IndexError, TypeError) as e:
            raise LLMError(f"unexpected reply from the LLM server: {e!r}") from e
        return str(content or "")

    def stream(self, messages: Sequence[Message], *, max_tokens: int | None = None, temperature: float = 0.0
               ) -> Iterator[str]:
        """The assistant's reply in pieces as the server sends them (``data:`` lines, ``[DONE]`` ends)."""
        body = self._body(messages, max_tokens, temperature, stream=True)
        try:
            with self._http.stream("POST", "/chat/completions", json=body) as r:
                if r.status_code >= 400:
                    r.read()
                    raise LLMError(f"the LLM server answered {r.status_code}: {r.text[:200]}")
                for line in r.iter_lines():
                    piece = _delta(line)
                    if piece is None:
                        break
                    if piece:
                        yield piece
        except httpx.HTTPError as e:
            raise LLMError(f"cannot reach the LLM server at {self.base_url}: {e}") from e


def _delta(line: str) -> str | None:
    """The text in one SSE line ('' for keep-alives and metadata, None at ``[DONE]``)."""
    if not line.startswith("data:"):
        return ""
    data = line[5:].strip()
    if data == "[DONE]":
        return None
    try:
        chunk: Any = json.loads(data)
        return str(chunk["choices"][0].get("delta", {}).get("content") or "") if chunk.get("choices") else ""
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as e:
        raise LLMError(f"unexpected stream chunk from the LLM server: {data[:200]!r}") from e

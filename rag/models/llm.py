"""Optional answering by an OpenAI-compatible chat server, grounded in numbered passages."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import httpx

from rag.errors import LLMError
from rag.types import Citation, Hit

if TYPE_CHECKING:
    from rag.settings import Settings

Message = dict[str, str]

SYSTEM_PROMPT = (
    "You answer questions using only the numbered passages provided. After every sentence, cite the passages "
    "that support it with their numbers in square brackets, like [1] or [2][3]. Do not use outside knowledge. "
    "If the passages do not contain the answer, reply exactly: {abstain}"
)
_MARKER = re.compile(r"\[(\d{1,3})\]")


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

    @classmethod
    def from_settings(cls, settings: Settings) -> ChatClient | None:
        """A client when ``RAG_LLM_BASE_URL`` is set, else None (offline answers)."""
        s = settings.llm
        if not s.llm_base_url:
            return None
        return cls(s.llm_base_url, s.llm_model, s.llm_api_key, s.llm_timeout_s)

    def close(self) -> None:
        """Release the connection pool."""
        self._http.close()

    def complete(self, messages: Sequence[Message], temperature: float = 0.0) -> str:
        """The assistant's full reply; raises ``LLMError`` on any transport or protocol failure."""
        body = {"model": self.model, "messages": list(messages), "temperature": temperature, "stream": False}
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

    def stream(self, messages: Sequence[Message], temperature: float = 0.0) -> Iterator[str]:
        """The assistant's reply in pieces as the server sends them (``data:`` lines, ``[DONE]`` ends)."""
        body = {"model": self.model, "messages": list(messages), "temperature": temperature, "stream": True}
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


def passages_prompt(question: str, hits: Sequence[Hit], titles: Mapping[str, str]) -> str:
    """The user message: numbered passages with their article titles, then the question."""
    blocks = [
        f"[{i}] ({titles.get(h.chunk.doc_id, h.chunk.doc_id)})\n{h.chunk.text.strip()}"
        for i, h in enumerate(hits, start=1)
    ]
    return "Passages:\n\n" + "\n\n".join(blocks) + f"\n\nQuestion: {question}"


def grounded_messages(question: str, hits: Sequence[Hit], titles: Mapping[str, str], abstain: str) -> list[Message]:
    """System and user messages asking for an answer drawn only from ``hits``."""
    return [
        {"role": "system", "content": SYSTEM_PROMPT.format(abstain=abstain)},
        {"role": "user", "content": passages_prompt(question, hits, titles)},
    ]


def cited_passages(text: str, hits: Sequence[Hit], titles: Mapping[str, str]) -> tuple[Citation, ...]:
    """Citations for the passage numbers the text actually cites (unknown numbers are ignored)."""
    used = sorted({int(m) for m in _MARKER.findall(text) if 1 <= int(m) <= len(hits)})
    out = []
    for n in used:
        c = hits[n - 1].chunk
        out.append(
            Citation(
                n,
                c.doc_id,
                titles.get(c.doc_id, c.doc_id),
                c.chunk_id,
                c.text,
                c.start,
                c.end,
                round(hits[n - 1].score, 4),
            )
        )
    return tuple(out)

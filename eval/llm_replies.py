"""Keep the LLM's raw replies during an eval run, so the harness can judge what it wrote before verification."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rag.generation.answerer import GenerativeAnswerer
from rag.models.llm import ChatClient, Message

if TYPE_CHECKING:
    from rag.pipeline import Pipeline


class RecordingChatClient(ChatClient):
    """A chat client that remembers each reply it returns; ``take`` hands over the latest one."""

    def __init__(self, base_url: str, model: str, api_key: str | None = None, timeout_s: float = 60.0) -> None:
        super().__init__(base_url, model, api_key, timeout_s)
        self._last: str | None = None

    def complete(self, messages: Sequence[Message], *, max_tokens: int | None = None, temperature: float = 0.0) -> str:
        reply = super().complete(messages, max_tokens=max_tokens, temperature=temperature)
        self._last = reply
        return reply

    def take(self) -> str | None:
        """The reply written since the last ``take`` (None when the LLM was not called: the gate abstained)."""
        reply, self._last = self._last, None
        return reply


def record_replies(pipeline: Pipeline) -> RecordingChatClient:
    """Answer through a recording client to the pipeline's own LLM server (the bundled model is started now, so
    its load time is not counted as an answer's latency); the answering itself is the pipeline's, unchanged."""
    live = pipeline.models.llm
    g = pipeline.settings.generation
    recorder = RecordingChatClient(live.base_url, live.model, None if g.llm == "local" else g.llm_api_key,
                                   g.llm_timeout_s)
    pipeline.generative = GenerativeAnswerer(pipeline.settings, pipeline.extractive, lambda: recorder,
                                             lambda: pipeline.embedder)
    return recorder

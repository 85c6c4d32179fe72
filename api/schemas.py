"""Pydantic request and response models: the HTTP edge only (the library passes dataclasses)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from rag.condense import Turn

K = Field(None, ge=1, le=50, description="Passages to retrieve (default: the configured top_k).")


class AskRequest(BaseModel):
    """``POST /ask``."""

    question: str = Field(..., description="The question; blank is rejected (422), over the limit too (413).")
    k: int | None = K


class CitationOut(BaseModel):
    """A numbered piece of evidence; ``start``/``end`` index the article text."""

    n: int
    doc_id: str
    title: str
    chunk_id: int
    text: str
    start: int
    end: int
    score: float


class AnswerOut(BaseModel):
    """The JSON the CLI prints with ``--json``."""

    question: str
    answer: str
    short_answer: str | None = None
    short_answer_confidence: Literal["high", "low"] | None = Field(
        None, description='"high" when the cited sentence itself settles the short answer (its structure, a '
        'connective, or the one span of the asked type); "low" when it was chosen among rival phrases')
    abstained: bool
    citations: list[CitationOut]
    timings_ms: dict[str, float]


class ChatMessage(BaseModel):
    """One turn sent by the client (the server keeps no history)."""

    role: Literal["system", "user", "assistant"]
    content: str = Field(..., max_length=100_000)

    def turn(self) -> Turn:
        return Turn(self.role, self.content)


class ChatRequest(BaseModel):
    """``POST /chat``: the whole conversation so far, newest last."""

    messages: list[ChatMessage] = Field(..., min_length=1, max_length=200)
    stream: bool = False
    k: int | None = K


class ChatOut(AnswerOut):
    """``POST /chat`` (non-streaming): the answer plus the assistant message to append to the history."""

    message: ChatMessage


class SearchHit(BaseModel):
    """A ranked passage and the scores that ranked it."""

    rank: int
    chunk_id: int
    doc_id: str
    title: str
    kind: str
    text: str
    start: int
    end: int
    score: float
    dense: float | None
    bm25: float | None
    fused: float | None
    rerank: float | None


class SearchOut(BaseModel):
    """``GET /search``."""

    query: str
    k: int
    hits: list[SearchHit]


class DocumentIn(BaseModel):
    """``POST /documents`` as JSON; ``doc_id`` defaults to a unique slug of the title."""

    title: str = Field(..., min_length=1, max_length=300)
    text: str = Field(..., min_length=1)
    doc_id: str | None = Field(None, min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")


class DocumentOut(BaseModel):
    """A document in the index."""

    doc_id: str
    title: str
    source: str
    date: str | None
    chars: int


class DocumentList(BaseModel):
    """``GET /documents``."""

    documents: list[DocumentOut]
    count: int
    chunks: int


class DocumentChange(BaseModel):
    """What ``POST``/``DELETE /documents`` did to the index."""

    doc_id: str
    status: Literal["added", "updated", "unchanged", "deleted"]
    title: str | None = None
    chunks: int = Field(..., description="Chunks in the whole index after the change.")
    generation: str


class OpenAIMessage(BaseModel):
    """An OpenAI chat message; content may be a string or a list of text parts."""

    model_config = ConfigDict(extra="allow")

    role: str
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "\n".join(str(p.get("text", "")) for p in self.content if p.get("type") == "text")
        return self.content or ""


class OpenAIChatRequest(BaseModel):
    """``POST /v1/chat/completions`` (unknown OpenAI parameters are accepted and ignored)."""

    model_config = ConfigDict(extra="allow")

    model: str = "grounded-rag"
    messages: list[OpenAIMessage] = Field(..., min_length=1, max_length=200)
    stream: bool = False

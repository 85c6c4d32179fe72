"""Pydantic request and response models: the HTTP edge only (the library passes dataclasses)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from rag.conversation.condense import Turn

_SURROGATE = re.compile("[\ud800-\udfff]")


def no_surrogates(text: str) -> str:
    """``text`` unchanged; raises ``ValueError`` on a lone UTF-16 surrogate (no tokenizer or encoder takes one)."""
    if _SURROGATE.search(text):
        raise ValueError("contains a lone UTF-16 surrogate (U+D800..U+DFFF); send valid Unicode text")
    return text


def _json_integer(value: object) -> object:
    # Lax int validation would turn "5" into 5 and true into 1; a JSON number (5 or 5.0) stays fine.
    if isinstance(value, str | bool):
        raise ValueError("must be a JSON number, not a string or boolean")
    return value


#: How deep a free-form JSON value (an OpenAI content part, an extra field) may nest.
MAX_JSON_DEPTH = 32


def _check_strings(value: object) -> None:
    """Reject a surrogate anywhere in a JSON value (for free-form parts and ignored extra fields), and nesting
    deeper than ``MAX_JSON_DEPTH``; iterative, so no nesting can exhaust the stack."""
    pending: list[tuple[object, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            no_surrogates(item)
        elif isinstance(item, dict | list):
            if depth >= MAX_JSON_DEPTH:
                raise ValueError(f"nests deeper than {MAX_JSON_DEPTH} levels")
            children = [x for kv in item.items() for x in kv] if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)


#: Every string a client sends: valid Unicode only (a lone surrogate is a 422, not a 500 deep in the pipeline).
Text = Annotated[str, AfterValidator(no_surrogates)]
_NUMBER = BeforeValidator(_json_integer)
#: An integer field that takes a JSON number but not ``"5"`` or ``true``.
JSONInt = Annotated[int, _NUMBER]
#: Passages to retrieve, 1..50 (the bounds go before the validator, or the JSON schema says "ge"/"le").
TopK = Annotated[int, Field(ge=1, le=50), _NUMBER]
#: ``true``/``false`` only (not ``"yes"`` or ``1``).
StrictBool = Annotated[bool, Field(strict=True)]

K = Field(None, description="Passages to retrieve (default: the configured top_k).")
#: In the schema only: a question must hold a non-space character. The route answers a blank one with its own
#: ``empty_question`` error, which says more than a pattern mismatch would.
NOT_BLANK: dict[str, Any] = {"pattern": r"\S"}
#: In the schema only: a conversation holds a user message (the route answers one without with its own 422).
HAS_USER_MESSAGE: dict[str, Any] = {"contains": {"type": "object", "required": ["role"],
                                                 "properties": {"role": {"const": "user"}}}}
GENERATION = Field(..., description="The index generation the response was drawn from, whole (also the "
                   "`X-Index-Generation` header).")


class ErrorDetail(BaseModel):
    """What went wrong, and what to do about it."""

    code: str = Field(..., description="A stable machine-readable name, e.g. `document_not_found`.")
    message: str = Field(..., description="What happened and what to do, for people.")


class ErrorOut(BaseModel):
    """Every error response: ``{"error": {"code", "message"}}``."""

    error: ErrorDetail


class AskRequest(BaseModel):
    """``POST /ask``."""

    question: Text = Field(..., description="The question; blank is rejected (422), over the limit too (413).",
                           json_schema_extra=NOT_BLANK)
    k: TopK | None = K


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
    verified: bool = Field(True, description="The cited passage supports the sentence: quoted verbatim, or an LLM "
                           "sentence that passed the verifier.")
    support: float | None = Field(None, description="The verifier's support score for an LLM sentence; null for a "
                                  "verbatim quote.")


class FlaggedOut(BaseModel):
    """A retrieved passage withheld from the LLM because it reads like instructions to a model."""

    doc_id: str
    chunk_id: int
    kind: Literal["override", "role", "reveal", "turn", "command"]
    excerpt: str


class FallbackOut(BaseModel):
    """Why the LLM's answer was not used (the extractive answer was returned instead)."""

    reason: str


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
    answerer: Literal["extractive", "llm"] = Field(
        "extractive", description="Who wrote the answer: quoted sentences, or an LLM whose every sentence was "
        "verified.")
    fallback: FallbackOut | None = Field(None, description="Set when an LLM was asked but its answer was not used.")
    flagged: list[FlaggedOut] = Field(default_factory=list, description="Passages withheld from the LLM.")
    dropped_sentences: int = Field(0, description="Sentences of the LLM's reply no cited passage supported.")
    generation: str = GENERATION


class ChatMessage(BaseModel):
    """One turn sent by the client (the server keeps no history)."""

    role: Literal["system", "user", "assistant"]
    content: Text = Field(..., max_length=100_000)

    def turn(self) -> Turn:
        return Turn(self.role, self.content)


class ChatRequest(BaseModel):
    """``POST /chat``: the whole conversation so far, newest last."""

    messages: list[ChatMessage] = Field(..., min_length=1, max_length=200, json_schema_extra=HAS_USER_MESSAGE)
    stream: StrictBool = False
    k: TopK | None = K


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
    generation: str = GENERATION


#: A document id: letters, digits and ``._/-``, '/'-separated segments that each start with a letter or digit (so no
#: empty, ``.`` or ``..`` segment: the id is also a URL path under ``/documents/``, which clients normalise).
DOC_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*$"


class DocumentIn(BaseModel):
    """``POST /documents`` as JSON; ``doc_id`` defaults to a unique slug of the title."""

    title: Text = Field(..., min_length=1, max_length=300)
    text: Text = Field(..., min_length=1, description="The document's text; it must hold a word to search "
                       "(`empty_document`, 422, otherwise).")
    doc_id: str | None = Field(None, min_length=1, max_length=200, pattern=DOC_ID_PATTERN)


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
    generation: str = GENERATION


class DocumentText(BaseModel):
    """``GET /documents/{doc_id}``: a document's full text, which citations' ``start``/``end`` index."""

    doc_id: str
    title: str
    source: str
    date: str | None
    text: str
    generation: str = GENERATION


class DocumentChange(BaseModel):
    """What ``POST``/``DELETE /documents`` did to the index."""

    doc_id: str
    status: Literal["added", "updated", "unchanged", "deleted"]
    title: str | None = None
    chunks: int = Field(..., description="Chunks in the whole index after the change.")
    document_chunks: int = Field(..., description="Chunks of this document after the change (0 once deleted).")
    generation: str = Field(..., description="The index generation that holds the change, whole (its counts are "
                            "that generation's; also the `X-Index-Generation` header).")


class HealthOut(BaseModel):
    """``GET /healthz``."""

    status: Literal["ok"]


class ReadyOut(BaseModel):
    """``GET /readyz`` when the service can answer."""

    status: Literal["ready"]
    documents: int
    chunks: int
    generation: str
    model: str
    problem: str | None = Field(
        None, description="Why the index folder's newest generation is not the one answered from (damaged, or built "
        "with other settings), and what to do; null when it is.")
    store: Literal["faiss", "milvus"] = "faiss"
    warnings: list[str] = Field(default_factory=list, description="What the service runs without, such as hybrid "
                                "retrieval running dense-only on a Milvus server with no BM25.")


class NotReadyOut(BaseModel):
    """``GET /readyz`` when it cannot yet: why, and what to do."""

    status: Literal["not_ready"]
    reason: str


class ModelOut(BaseModel):
    """An OpenAI model entry."""

    id: str
    object: Literal["model"]
    created: int
    owned_by: str


class ModelList(BaseModel):
    """``GET /v1/models``."""

    object: Literal["list"]
    data: list[ModelOut]


class OpenAIMessage(BaseModel):
    """An OpenAI chat message; content may be a string or a list of text parts."""

    model_config = ConfigDict(extra="allow")

    role: Text
    # Checked by the validator below, not as ``Text``: in a union that would report one error per branch.
    content: str | list[dict[str, Any]] | None = None

    @field_validator("content")
    @classmethod
    def _parts_are_unicode(cls, content: str | list[dict[str, Any]] | None) -> str | list[dict[str, Any]] | None:
        _check_strings(content)
        return content

    @model_validator(mode="after")
    def _extras_are_unicode(self) -> OpenAIMessage:
        _check_strings(self.model_extra)
        return self

    def text(self) -> str:
        if isinstance(self.content, list):
            return "\n".join(str(p.get("text", "")) for p in self.content if p.get("type") == "text")
        return self.content or ""


class StreamOptions(BaseModel):
    """OpenAI's ``stream_options``: only ``include_usage`` means anything here."""

    model_config = ConfigDict(extra="allow")

    include_usage: StrictBool | None = None


class OpenAIChatRequest(BaseModel):
    """``POST /v1/chat/completions`` (unknown OpenAI parameters are accepted and ignored)."""

    model_config = ConfigDict(extra="allow")

    model: Text = "grounded-rag"
    messages: list[OpenAIMessage] = Field(..., min_length=1, max_length=200, json_schema_extra=HAS_USER_MESSAGE)
    stream: StrictBool | None = Field(None, description="`true` streams chunks; `null` or absent means `false`.")
    stream_options: StreamOptions | None = None
    n: JSONInt | None = Field(None, description="Choices to generate: only 1 (or absent) is supported.")

    @field_validator("n")
    @classmethod
    def _one_choice(cls, n: int | None) -> int | None:
        if n is not None and n != 1:
            raise ValueError(f"only n=1 is supported (this server composes one grounded answer), got {n}")
        return n

    @model_validator(mode="after")
    def _extras_are_unicode(self) -> OpenAIChatRequest:
        _check_strings(self.model_extra)
        return self

    @property
    def include_usage(self) -> bool:
        """Whether a streamed reply ends with a usage chunk (``stream_options.include_usage``)."""
        return bool(self.stream and self.stream_options and self.stream_options.include_usage)


def _event(name: str, data: dict[str, Any], about: str) -> dict[str, Any]:
    return {"type": "object", "required": ["event", "data"], "description": about,
            "properties": {"event": {"const": name},
                           "data": {"type": "string", "contentMediaType": "application/json", "contentSchema": data}}}


#: One Server-Sent Event of ``POST /chat`` with ``stream: true`` (OpenAPI 3.1 describes each event by ``schema``).
CHAT_EVENT: dict[str, Any] = {"oneOf": [
    _event("delta", {"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}},
           "A piece of the answer's text; joined, the pieces are the answer."),
    _event("citations", {"type": "object"}, "The answer object without its text (`answer`)."),
    _event("error", {"type": "object", "required": ["error"]}, "A failure after the stream began."),
    _event("done", {"type": "object"}, "The end of the stream."),
]}
#: One Server-Sent Event of ``POST /v1/chat/completions`` with ``stream: true``: a chunk as JSON, or ``[DONE]``.
OPENAI_EVENT: dict[str, Any] = {"type": "object", "required": ["data"],
                                "properties": {"data": {"type": "string"}}}

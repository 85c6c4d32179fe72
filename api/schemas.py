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


def _check_strings(value: object) -> None:
    """Reject a surrogate anywhere in a JSON value (for free-form parts and ignored extra fields)."""
    if isinstance(value, str):
        no_surrogates(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_strings(key)
            _check_strings(item)
    elif isinstance(value, list):
        for item in value:
            _check_strings(item)


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


class AskRequest(BaseModel):
    """``POST /ask``."""

    question: Text = Field(..., description="The question; blank is rejected (422), over the limit too (413).")
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


class ChatMessage(BaseModel):
    """One turn sent by the client (the server keeps no history)."""

    role: Literal["system", "user", "assistant"]
    content: Text = Field(..., max_length=100_000)

    def turn(self) -> Turn:
        return Turn(self.role, self.content)


class ChatRequest(BaseModel):
    """``POST /chat``: the whole conversation so far, newest last."""

    messages: list[ChatMessage] = Field(..., min_length=1, max_length=200)
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


class DocumentIn(BaseModel):
    """``POST /documents`` as JSON; ``doc_id`` defaults to a unique slug of the title."""

    title: Text = Field(..., min_length=1, max_length=300)
    text: Text = Field(..., min_length=1)
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
    document_chunks: int = Field(..., description="Chunks of this document after the change (0 once deleted).")
    generation: str


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
    messages: list[OpenAIMessage] = Field(..., min_length=1, max_length=200)
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

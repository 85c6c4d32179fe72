"""``/v1/chat/completions`` and ``/v1/models``: enough of the OpenAI API for existing chat frontends."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any

from fastapi import APIRouter, Response
from sse_starlette.sse import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from api import generation, responder
from api.deps import PipelineDep
from api.errors import ModelNotFound, documented
from api.routes.ask import ANSWER_ERRORS
from api.routes.chat import require_user_message
from api.schemas import OPENAI_EVENT, ModelList, ModelOut, OpenAIChatRequest
from rag.conversation.condense import Turn
from rag.errors import RagError
from rag.generation.answerer import Piece
from rag.ingest.chunking import get_encoding
from rag.types import Answer

MODEL_ID = "grounded-rag"
MODEL = {"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "grounded-rag"}

router = APIRouter(prefix="/v1", tags=["openai"])


@router.get("/models", response_model=ModelList, responses=documented())
async def models() -> dict[str, Any]:
    """The one model this server offers."""
    return {"object": "list", "data": [MODEL]}


@router.get("/models/{model_id:path}", response_model=ModelOut, responses=documented(404))
async def retrieve_model(model_id: str) -> dict[str, Any]:
    """The one model this server offers, by id (``client.models.retrieve``)."""
    if model_id != MODEL_ID:
        raise ModelNotFound(f"no model {model_id!r} here; the one model is {MODEL_ID!r}")
    return MODEL


@router.post(
    "/chat/completions",
    responses={
        **ANSWER_ERRORS,
        **generation.documented(
            content={"application/json": {"schema": {"type": "object"}},
                     "text/event-stream": {"schema": OPENAI_EVENT}},
            description="An OpenAI `chat.completion`, or with `stream: true` its chunks as SSE, then `[DONE]`.",
        ),
    },
)
async def chat_completions(body: OpenAIChatRequest, pipeline: PipelineDep, response: Response) -> Any:
    """A cited answer to the last user message; ``citations`` rides along as an extra field.

    ``usage`` counts cl100k_base tokens of the messages' text received (``prompt_tokens``) and of the answer text
    returned (``completion_tokens``); it does not meter the passages or any configured LLM's own tokens.
    """
    texts = [m.text() for m in body.messages]
    turns = [
        Turn(m.role, text)  # type: ignore[arg-type]
        for m, text in zip(body.messages, texts, strict=True)
        if m.role in ("user", "assistant")
    ]
    require_user_message(turns)
    question, focus = await responder.standalone(pipeline, turns)
    cid, created = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time())
    if body.stream:
        gen, stream = await responder.stream(pipeline, question, None, focus)
        prompt = texts if body.include_usage else None
        return EventSourceResponse(_chunks(stream, cid, created, MODEL_ID, prompt), ping=15,
                                   headers={generation.HEADER: gen})
    answer = await responder.answer(pipeline, question, None, focus)
    generation.stamp(response, answer.generation)
    return {
        "id": cid,
        "object": "chat.completion",
        "created": created,
        "model": MODEL_ID,  # the model that answered, whatever name the request used (as OpenAI does)
        "choices": [{"index": 0, "message": {"role": "assistant", "content": answer.answer}, "finish_reason": "stop"}],
        "usage": await run_in_threadpool(usage, texts, answer.answer),
        **_extras(answer),
    }


def usage(prompt: Sequence[str], completion: str) -> dict[str, int]:
    """OpenAI's ``usage`` in cl100k_base tokens: the messages' text in, the answer's text out."""
    enc = get_encoding()
    p = sum(len(enc.encode_ordinary(t)) for t in prompt)
    c = len(enc.encode_ordinary(completion))
    return {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}


def _extras(answer: Answer) -> dict[str, Any]:
    d = answer.to_dict()
    return {k: d[k] for k in ("citations", "abstained", "question", "answerer", "fallback", "flagged", "generation")}


def _chunk(cid: str, created: int, model: str, choices: list[dict[str, Any]], **extra: Any) -> str:
    return json.dumps(
        {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model, "choices": choices, **extra},
        ensure_ascii=False,
    )


async def _chunks(
    stream: AsyncIterator[Piece], cid: str, created: int, model: str, prompt: Sequence[str] | None
) -> AsyncIterator[str]:
    """Role chunk, content chunks, a final chunk with ``finish_reason`` and the citations, then ``[DONE]``.

    With ``prompt`` (``stream_options.include_usage``), every chunk carries ``"usage": null`` and one more chunk
    with no choices and the ``usage`` comes before ``[DONE]``, as OpenAI sends it.
    """
    extra: dict[str, Any] = {"usage": None} if prompt is not None else {}

    def choice(delta: dict[str, str], finish: str | None = None) -> list[dict[str, Any]]:
        return [{"index": 0, "delta": delta, "finish_reason": finish}]

    yield _chunk(cid, created, model, choice({"role": "assistant", "content": ""}), **extra)
    try:
        async for piece in stream:
            if isinstance(piece, Answer):
                yield _chunk(cid, created, model, choice({}, "stop"), **extra, **_extras(piece))
                if prompt is not None:
                    yield _chunk(cid, created, model, [], usage=await run_in_threadpool(usage, prompt, piece.answer))
            else:
                yield _chunk(cid, created, model, choice({"content": piece}), **extra)
    except RagError as e:
        yield json.dumps({"error": {"code": e.code, "message": e.message}})
    yield "[DONE]"

"""``/v1/chat/completions`` and ``/v1/models``: enough of the OpenAI API for existing chat frontends."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter
from sse_starlette.sse import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from api.deps import ResponderDep
from api.errors import InvalidRequest
from api.responder import Piece
from api.schemas import OpenAIChatRequest
from rag.condense import Turn
from rag.errors import RagError
from rag.types import Answer

MODEL_ID = "grounded-rag"

router = APIRouter(prefix="/v1", tags=["openai"])


@router.get("/models")
async def models() -> dict[str, Any]:
    """The one model this server offers."""
    return {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "grounded-rag"}]}


@router.post("/chat/completions")
async def chat_completions(body: OpenAIChatRequest, responder: ResponderDep) -> Any:
    """A cited answer to the last user message; ``citations`` rides along as an extra field."""
    turns = [Turn(m.role, m.text()) for m in body.messages if m.role in ("user", "assistant")]  # type: ignore[arg-type]
    if not any(t.role == "user" for t in turns):
        raise InvalidRequest("messages must contain at least one user message")
    question, focus = await run_in_threadpool(responder.standalone_question, turns)
    cid, created = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time())
    if body.stream:
        stream = await responder.stream(question, None, focus)
        return EventSourceResponse(_chunks(stream, cid, created, body.model), ping=15)
    answer = await run_in_threadpool(responder.answer, question, None, focus)
    return {
        "id": cid,
        "object": "chat.completion",
        "created": created,
        "model": body.model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": answer.answer}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        **_extras(answer),
    }


def _extras(answer: Answer) -> dict[str, Any]:
    d = answer.to_dict()
    return {"citations": d["citations"], "abstained": answer.abstained, "question": answer.question}


def _chunk(cid: str, created: int, model: str, delta: dict[str, str], finish: str | None = None, **extra: Any) -> str:
    return json.dumps(
        {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            **extra,
        },
        ensure_ascii=False,
    )


async def _chunks(stream: AsyncIterator[Piece], cid: str, created: int, model: str) -> AsyncIterator[str]:
    """Role chunk, content chunks, a final chunk with ``finish_reason`` and the citations, then ``[DONE]``."""
    yield _chunk(cid, created, model, {"role": "assistant", "content": ""})
    try:
        async for piece in stream:
            if isinstance(piece, Answer):
                yield _chunk(cid, created, model, {}, "stop", **_extras(piece))
            else:
                yield _chunk(cid, created, model, {"content": piece})
    except RagError as e:
        yield json.dumps({"error": {"code": e.code, "message": e.message}})
    yield "[DONE]"

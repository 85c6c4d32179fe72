"""``POST /chat``: multi-turn; follow-ups are condensed against the history; optional SSE streaming."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

from fastapi import APIRouter, Response
from sse_starlette.sse import EventSourceResponse, ServerSentEvent

from api import generation, responder
from api.deps import PipelineDep
from api.errors import InvalidRequest
from api.routes.ask import ANSWER_ERRORS
from api.schemas import CHAT_EVENT, ChatOut, ChatRequest
from rag.conversation.condense import Turn
from rag.errors import RagError
from rag.generation.answerer import Piece
from rag.types import Answer

router = APIRouter(tags=["answer"])


@router.post(
    "/chat",
    response_model=ChatOut,
    responses={
        **ANSWER_ERRORS,
        **generation.documented(
            content={"text/event-stream": {"schema": CHAT_EVENT}},
            description="JSON, or with `stream: true` SSE events: delta*, citations, done.",
        ),
    },
)
async def chat(body: ChatRequest, pipeline: PipelineDep, response: Response) -> Any:
    """Answer the last user message in the context of the earlier ones (the client sends the history)."""
    turns = [m.turn() for m in body.messages]
    require_user_message(turns)
    question, focus = await responder.standalone(pipeline, turns)
    if body.stream:
        gen, stream = await responder.stream(pipeline, question, body.k, focus)
        return EventSourceResponse(_events(stream), ping=15, headers={generation.HEADER: gen})
    answer = await responder.answer(pipeline, question, body.k, focus)
    generation.stamp(response, answer.generation)
    return {**answer.to_dict(), "message": {"role": "assistant", "content": answer.answer}}


def require_user_message(turns: Sequence[Turn]) -> None:
    """Raise ``InvalidRequest`` when no turn is the user's (a blank last one is the pipeline's ``EmptyQuestion``)."""
    if not any(t.role == "user" for t in turns):
        raise InvalidRequest("messages must contain at least one user message")


#: What the ``citations`` event carries: the answer's JSON without its text (streamed as deltas) or hits.
_STREAM_META = ("question", "short_answer", "short_answer_confidence", "abstained", "citations", "timings_ms",
                "answerer", "fallback", "flagged", "dropped_sentences", "generation")


async def _events(stream: AsyncIterator[Piece]) -> AsyncIterator[ServerSentEvent]:
    """``delta`` events with text, one ``citations`` event (the short answer, whether it abstained), ``done``."""
    try:
        async for piece in stream:
            if isinstance(piece, Answer):
                final = piece.to_dict()
                meta = {k: final[k] for k in _STREAM_META}
                yield ServerSentEvent(json.dumps(meta, ensure_ascii=False), event="citations")
            else:
                yield ServerSentEvent(json.dumps({"text": piece}, ensure_ascii=False), event="delta")
    except RagError as e:
        # Headers are already sent: the failure travels as an event in the usual error shape.
        yield ServerSentEvent(json.dumps({"error": {"code": e.code, "message": e.message}}), event="error")
    yield ServerSentEvent("{}", event="done")

"""Answers for the HTTP routes: the pipeline's blocking calls moved off the event loop."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from rag.conversation.condense import Turn
from rag.generation.answerer import Piece
from rag.pipeline import Pipeline
from rag.types import Answer


async def standalone(pipeline: Pipeline, turns: Sequence[Turn]) -> tuple[str, str | None]:
    """The question to answer for a conversation, and the user's own words when it was condensed."""
    return await run_in_threadpool(pipeline.standalone, turns)


async def answer(pipeline: Pipeline, question: str, k: int | None = None, focus: str | None = None) -> Answer:
    """The full answer."""
    return await run_in_threadpool(lambda: pipeline.answer(question, k, focus=focus))


async def stream(pipeline: Pipeline, question: str, k: int | None = None, focus: str | None = None
                 ) -> tuple[str, AsyncIterator[Piece]]:
    """Gate and validate now (errors become HTTP errors before the stream opens), then relay verified pieces;
    with the index generation the answer is drawn from, known before the first piece."""
    pieces = await run_in_threadpool(lambda: pipeline.stream(question, k, focus=focus))
    return pieces.generation, iterate_in_threadpool(pieces.pieces)

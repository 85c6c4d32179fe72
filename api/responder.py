"""Answers for every HTTP front end: the library's offline answer, or an LLM grounded in retrieved passages."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Sequence
from typing import NamedTuple

from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from rag.answering.extractive import ABSTAIN_MESSAGE
from rag.conversation.condense import Turn, condense, last_user_message
from rag.errors import EmptyQuestion
from rag.models.llm import ChatClient, cited_passages, grounded_messages
from rag.pipeline import Pipeline
from rag.types import Answer, Hit

Piece = str | Answer
_WORDS = re.compile(r"\S+\s*")
WORDS_PER_PIECE = 3


def pieces(text: str, words: int = WORDS_PER_PIECE) -> list[str]:
    """Split an answer into small pieces for streaming; joined back they are the text (markers stay whole)."""
    tokens = _WORDS.findall(text)
    lead = text[: len(text) - len(text.lstrip())]
    out = ["".join(tokens[i : i + words]) for i in range(0, len(tokens), words)]
    if lead and out:
        out[0] = lead + out[0]
    return out


class Standalone(NamedTuple):
    """The question to answer, and the user's own words when it was condensed from a follow-up."""

    question: str
    focus: str | None = None


class Responder:
    """Condense, retrieve and answer; offline unless an LLM client is given."""

    def __init__(self, pipeline: Pipeline, llm: ChatClient | None = None) -> None:
        self.pipeline = pipeline
        self.llm = llm

    def standalone_question(self, turns: Sequence[Turn]) -> Standalone:
        """Validate the last user message, then resolve it against the earlier turns (blocking)."""
        last = last_user_message(turns)  # that there is one, the routes check (``require_user_message``)
        if not last.strip():
            raise EmptyQuestion("the last user message is empty: ask something about the indexed articles")
        self.pipeline.validate(last)
        question = condense(turns, self.llm)[: self.pipeline.settings.answer.max_question_chars]
        return Standalone(question, None if question.strip() == last.strip() else last)

    def answer(self, question: str, k: int | None = None, focus: str | None = None) -> Answer:
        """The full answer (blocking: call it from a worker thread)."""
        if self.llm is None:
            return self.pipeline.answer(question, k, focus=focus)
        t0 = time.perf_counter()
        q, hits, messages = self._prepare(question, k)
        if not hits:
            return Answer(q, ABSTAIN_MESSAGE, True, timings_ms={"total_ms": (time.perf_counter() - t0) * 1e3})
        text = self.llm.complete(messages)
        return self._finish(q, text, hits, t0)

    async def stream(self, question: str, k: int | None = None, focus: str | None = None) -> AsyncIterator[Piece]:
        """Do the blocking work that can fail on bad input now, then stream text pieces and the final Answer."""
        if self.llm is None:
            ans = await run_in_threadpool(self.pipeline.answer, question, k, focus=focus)
            return _replay(ans)
        t0 = time.perf_counter()
        q, hits, messages = await run_in_threadpool(self._prepare, question, k)
        if not hits:
            return _replay(Answer(q, ABSTAIN_MESSAGE, True))
        return self._llm_stream(q, hits, messages, t0)

    def _prepare(self, question: str, k: int | None) -> tuple[str, list[Hit], list[dict[str, str]]]:
        q = self.pipeline.validate(question)
        hits = self.pipeline.search(q, k)
        return q, hits, grounded_messages(q, hits, self.pipeline.loaded.titles, ABSTAIN_MESSAGE)

    async def _llm_stream(
        self, q: str, hits: list[Hit], messages: list[dict[str, str]], t0: float
    ) -> AsyncIterator[Piece]:
        assert self.llm is not None
        parts: list[str] = []
        async for piece in iterate_in_threadpool(self.llm.stream(messages)):
            parts.append(piece)
            yield piece
        yield self._finish(q, "".join(parts), hits, t0)

    def _finish(self, q: str, text: str, hits: list[Hit], t0: float) -> Answer:
        cites = cited_passages(text, hits, self.pipeline.loaded.titles)
        abstained = not cites or text.strip() == ABSTAIN_MESSAGE
        timings = {"total_ms": (time.perf_counter() - t0) * 1e3}
        return Answer(q, text.strip(), abstained, () if abstained else cites, hits=tuple(hits), timings_ms=timings)


async def _replay(ans: Answer) -> AsyncIterator[Piece]:
    for piece in pieces(ans.answer):
        yield piece
    yield ans

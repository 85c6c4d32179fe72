"""``POST /ask``: one question, the same JSON as ``rag ask --json``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from api.deps import ResponderDep
from api.schemas import AnswerOut, AskRequest

router = APIRouter(tags=["answer"])


@router.post("/ask", response_model=AnswerOut)
async def ask(body: AskRequest, responder: ResponderDep) -> dict[str, Any]:
    """Answer one question from the indexed articles with numbered citations, or abstain."""
    answer = await run_in_threadpool(responder.answer, body.question, body.k)
    return answer.to_dict()

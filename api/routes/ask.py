"""``POST /ask``: one question, the same JSON as ``rag ask --json``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api import responder
from api.deps import PipelineDep
from api.schemas import AnswerOut, AskRequest

router = APIRouter(tags=["answer"])


@router.post("/ask", response_model=AnswerOut)
async def ask(body: AskRequest, pipeline: PipelineDep) -> dict[str, Any]:
    """Answer one question from the indexed articles with numbered citations, or abstain."""
    answer = await responder.answer(pipeline, body.question, body.k)
    return answer.to_dict()

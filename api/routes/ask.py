"""``POST /ask``: one question, the same JSON as ``rag ask --json``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from api import generation, responder
from api.deps import PipelineDep
from api.errors import READS_INDEX, documented
from api.schemas import AnswerOut, AskRequest

router = APIRouter(tags=["answer"])

#: What answering can fail with: bad input, the index, an LLM.
ANSWER_ERRORS = documented(422, 502, *READS_INDEX)


@router.post("/ask", response_model=AnswerOut, responses={**ANSWER_ERRORS, **generation.documented()})
async def ask(body: AskRequest, pipeline: PipelineDep, response: Response) -> dict[str, Any]:
    """Answer one question from the indexed articles with numbered citations, or abstain."""
    answer = await responder.answer(pipeline, body.question, body.k)
    generation.stamp(response, answer.generation)
    return answer.to_dict()

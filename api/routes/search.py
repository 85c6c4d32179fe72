"""``GET /search``: ranked passages with every retriever's score."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from api.deps import PipelineDep
from api.schemas import SearchOut, Text
from rag.types import hit_to_dict

router = APIRouter(tags=["search"])


@router.get("/search", response_model=SearchOut)
async def search(
    pipeline: PipelineDep,
    q: Annotated[Text, Query(description="The query text.")],
    k: Annotated[int, Query(ge=1, le=50, description="Passages to return.")] = 5,
) -> dict[str, Any]:
    """Retrieve the ``k`` best passages for ``q`` (no answer is composed)."""
    hits = await run_in_threadpool(pipeline.search, q, k)
    titles = pipeline.loaded.titles
    return {
        "query": q.strip(),
        "k": k,
        "hits": [{**hit_to_dict(h), "title": titles.get(h.chunk.doc_id, h.chunk.doc_id)} for h in hits],
    }

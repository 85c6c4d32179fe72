"""``GET /search``: ranked passages with every retriever's score."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from starlette.concurrency import run_in_threadpool

from api import generation
from api.deps import PipelineDep
from api.errors import READS_INDEX, documented
from api.schemas import NOT_BLANK, SearchOut, Text
from rag.types import hit_to_dict

router = APIRouter(tags=["search"])


@router.get("/search", response_model=SearchOut, responses={**documented(422, *READS_INDEX), **generation.documented()})
async def search(
    pipeline: PipelineDep,
    response: Response,
    q: Annotated[Text, Query(description="The query text.", json_schema_extra=NOT_BLANK)],
    k: Annotated[int, Query(ge=1, le=50, description="Passages to return.")] = 5,
) -> dict[str, Any]:
    """Retrieve the ``k`` best passages for ``q`` (no answer is composed)."""
    hits, loaded = await run_in_threadpool(pipeline.search_in, q, k)
    titles = loaded.titles  # the generation the hits came from, not whichever is live by now
    return {
        "query": q.strip(),
        "k": k,
        "hits": [{**hit_to_dict(h), "title": titles.get(h.chunk.doc_id, h.chunk.doc_id)} for h in hits],
        "generation": generation.stamp(response, loaded.snapshot.path.name),
    }

"""``/healthz`` (the process is up), ``/readyz`` (the index is loaded) and ``/metrics``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from api.errors import documented
from api.metrics import CONTENT_TYPE_LATEST, Metrics
from api.readiness import Readiness
from api.schemas import HealthOut, NotReadyOut, ReadyOut

if TYPE_CHECKING:
    from rag.pipeline import Pipeline
    from rag.store.snapshot import Snapshot

router = APIRouter(tags=["ops"])


@router.get("/healthz", response_model=HealthOut, responses=documented())
async def healthz() -> dict[str, str]:
    """Always 200 while the process serves requests."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    response_model=ReadyOut,
    responses={**documented(), 503: {"model": NotReadyOut, "description": "Not ready; `reason` says why and what to "
                                     "do."}},
)
async def readyz(request: Request) -> Any:
    """200 with the index size once the model and index are loaded (and `problem` when a newer generation could not
    be loaded, the last good one still answering); 503 with the reason otherwise."""
    readiness: Readiness = request.app.state.readiness
    reason = await readiness.check()
    if reason is not None:
        return JSONResponse({"status": "not_ready", "reason": reason}, status_code=503)
    pipeline = readiness.pipeline
    snap = await run_in_threadpool(_refreshed, pipeline)
    cur = pipeline.index.current
    return {
        "status": "ready",
        "documents": len(snap.documents),
        "chunks": len(snap.chunks),
        "generation": snap.manifest.generation or snap.path.name,
        "model": snap.manifest.model_id,
        "problem": pipeline.index.problem,
        "store": pipeline.settings.storage.store,
        "warnings": list(cur.notices) if cur is not None else [],
    }


def _refreshed(pipeline: Pipeline) -> Snapshot:
    """The live snapshot after swapping in a generation another process published (blocking)."""
    pipeline.refresh()
    return pipeline.snapshot


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Prometheus text format."""
    m: Metrics = request.app.state.metrics
    m.observe_index(request.app.state.pipeline)
    return Response(m.render(), media_type=CONTENT_TYPE_LATEST)

"""The app factory: one Pipeline per app, created here and loaded in the background at startup."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from starlette.routing import Mount, Route

from api.errors import install_error_handlers
from api.keys import key_ring
from api.limits import BodyLimitMiddleware
from api.metrics import Metrics, MetricsMiddleware
from api.ratelimit import RateLimitMiddleware
from api.readiness import Readiness
from api.routes import ask, chat, documents, health, openai_compat, page, search
from api.routes.page import STATIC_DIR
from rag.pipeline import Pipeline
from rag.settings import Settings, get_settings

#: Where the Swagger UI and ReDoc scripts, stylesheet and favicon are served.
DOCS_ASSETS = "/docs/assets"


def create_app(settings: Settings | None = None, pipeline: Pipeline | None = None) -> FastAPI:
    """A configured app; pass a pipeline (e.g. with a fake embedder) to skip loading the real model."""
    settings = settings or (pipeline.settings if pipeline is not None else get_settings())
    pipeline = pipeline or Pipeline(settings)
    metrics = Metrics()
    readiness = Readiness(pipeline)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        import anyio.to_thread

        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.server.request_threads
        readiness.start()
        try:
            yield
        finally:
            await readiness.stop()
            pipeline.close()  # after uvicorn has drained the requests: the local LLM stops only when idle

    # FastAPI's documented self-hosting of the docs assets, packaged: Swagger UI and ReDoc from a local folder
    # (the stock pages load them from a CDN and stay blank offline).
    app = FastAPIOffline(
        docs_url="/docs",
        redoc_url="/redoc",
        static_url=DOCS_ASSETS,
        title="Grounded RAG",
        version="0.1.0",
        lifespan=lifespan,
        description="Grounded answers with numbered citations over your articles.",
        generate_unique_id_function=_operation_id,
    )
    app.state.settings = settings
    app.state.pipeline = pipeline
    app.state.metrics = metrics
    app.state.readiness = readiness
    app.state.write_lock = asyncio.Lock()

    install_error_handlers(app)
    routers = [module.router for module in (page, ask, chat, search, documents, openai_compat, health)]
    for router in routers:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    # What metrics match a request against when routing names no route (docs, mounts, a 413 before routing).
    # Flat: an included router may sit in app.router.routes as one opaque entry.
    label_routes = [r for r in app.router.routes if isinstance(r, Route | Mount)]
    label_routes += [r for router in routers for r in router.routes]
    app.state.routes = label_routes  # also what a 405's Allow header is read from

    if not settings.server.api_keys:
        app.openapi = _without_security(app.openapi)  # type: ignore[method-assign]

    # Outermost last: metrics see every response, including 413s, 429s and CORS preflights; the rate limit
    # answers before a body is read, inside CORS so that browsers can read its 429.
    server = settings.server
    app.add_middleware(BodyLimitMiddleware, max_bytes=server.max_upload_bytes)
    app.add_middleware(RateLimitMiddleware, limit=server.rate_limit, write_limit=server.rate_limit_writes,
                       keys=key_ring(tuple(server.api_keys)), loopback=server.rate_limit_loopback)
    if settings.server.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.server.cors_origins,
            allow_credentials=False,
            allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.add_middleware(MetricsMiddleware, metrics=metrics, routes=label_routes)
    return app


def _operation_id(route: APIRoute) -> str:
    """An operation's id is its function's name (``ask``, ``read_document``): what OpenAPI links refer to."""
    return route.name


def _without_security(openapi: Callable[[], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
    """The schema of a server with no API keys: its write routes ask for none, so the schema must not either."""

    def schema() -> dict[str, Any]:
        out = openapi()
        for operations in out.get("paths", {}).values():
            for operation in operations.values():
                operation.pop("security", None)
                operation.get("responses", {}).pop("401", None)
        out.get("components", {}).pop("securitySchemes", None)
        return out

    return schema

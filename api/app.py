"""The app factory: one Pipeline per app, created here and loaded in the background at startup."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from starlette.routing import Mount, Route

from api.errors import install_error_handlers
from api.limits import BodyLimitMiddleware
from api.metrics import Metrics, MetricsMiddleware
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

    # Outermost last: metrics see every response, including 413s and CORS preflights.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.server.max_upload_bytes)
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

"""Prometheus metrics on a registry owned by one app (no global collectors)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from rag.pipeline import Pipeline

__all__ = ["CONTENT_TYPE_LATEST", "Metrics", "MetricsMiddleware"]


class Metrics:
    """Request counts and latencies by route template, the size of the live index, and the embedding batcher's
    counts."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "rag_http_requests_total",
            "HTTP requests by route, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "rag_http_request_duration_seconds",
            "Time to the end of the response body.",
            ["route", "method"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )
        self.documents = Gauge("rag_index_documents", "Documents in the live index.", registry=self.registry)
        self.chunks = Gauge("rag_index_chunks", "Chunks in the live index.", registry=self.registry)
        self.batches = Gauge("rag_embedding_batches", "Forward passes the embedding batcher has run.",
                             registry=self.registry)
        self.batched_calls = Gauge("rag_embedding_batched_calls", "Embedding calls those forward passes served.",
                                   registry=self.registry)

    def observe_index(self, pipeline: Pipeline) -> None:
        """Set the index gauges from a loaded pipeline (never triggers a load)."""
        snap = pipeline.current  # read without loading: /metrics must stay cheap
        if snap is not None:
            self.documents.set(len(snap.documents))
            self.chunks.set(len(snap.chunks))
        batcher = pipeline.models.batcher
        if batcher is not None:
            self.batches.set(batcher.batches)
            self.batched_calls.set(batcher.batched_calls)

    def render(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)


def route_template(scope: Scope, routes: Iterable[BaseRoute]) -> str:
    """The template of the route in ``routes`` that would serve ``scope``; 'unmatched' when none would.

    As the router picks: the first full match, else the first partial one (a known path, another method).
    """
    partial = None
    for route in routes:
        path = getattr(route, "path", None)
        if path is None:
            continue
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return str(path)
        if match is Match.PARTIAL and partial is None:
            partial = str(path)
    return partial or "unmatched"


class MetricsMiddleware:
    """Counts every HTTP request under its route template ('unmatched' for unknown paths, to bound label values).

    FastAPI routes name themselves in ``scope["route"]``; requests that get none (plain Starlette routes such as
    ``/openapi.json``, mounts, and requests answered before routing: a 413 by Content-Length, a CORS preflight)
    are matched against ``routes``, a flat list of the app's routes.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics, routes: Sequence[BaseRoute] = ()) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        t0 = time.perf_counter()
        # Routing rewrites the scope in place (a mount changes root_path): match later against the original.
        original = dict(scope)

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = getattr(scope.get("route"), "path", None) or route_template(original, self.routes)
            method = scope.get("method", "")
            self.metrics.requests.labels(route, method, str(status)).inc()
            self.metrics.latency.labels(route, method).observe(time.perf_counter() - t0)

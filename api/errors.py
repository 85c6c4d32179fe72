"""HTTP-only domain errors and the handlers that turn every error into ``{"error": {"code", "message"}}``."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Route

from rag.errors import RagError

log = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "too_many_requests",
}


class Unauthorized(RagError):
    """A write route was called without a valid ``Authorization: Bearer <key>``."""

    code = "unauthorized"
    status = 401


class PayloadTooLarge(RagError):
    """The request body exceeds ``max_upload_bytes``."""

    code = "payload_too_large"
    status = 413


class ModelNotFound(RagError):
    """``GET /v1/models/{id}`` for an id this server does not offer."""

    code = "model_not_found"
    status = 404


class InvalidRequest(RagError):
    """A request that parses but makes no sense (e.g. a chat with no user message)."""

    code = "invalid_request"
    status = 422


#: What each error status means, for the OpenAPI schema (``responses``); the codes are in docs/api.md.
_MEANING = {
    400: "`bad_request`: an unparseable `Content-Length` header.",
    401: "`unauthorized`: API keys are configured and the request has no valid `Authorization: Bearer <key>`.",
    404: "`document_not_found` or `model_not_found`: no such id.",
    409: "`index_mismatch`: the index was built with other model or chunking settings (`rag index --rebuild`).",
    413: "`question_too_long` or `payload_too_large`.",
    415: "`unsupported_document`: a file type or body the loaders cannot read.",
    422: "`invalid_request`, `empty_question` or `empty_document`: the message says which field and why.",
    429: "`too_many_requests`: over the rate limit; `Retry-After` says when to try again.",
    500: "`internal_error` (logged on the server).",
    502: "`llm_error`: the configured LLM server failed.",
    503: "`index_not_found`, `index_corrupt` (damaged: rebuild it) or `model_unavailable`: the message says what to "
         "run.",
}
#: Statuses any route can answer: a broken ``Content-Length``, a body over the limit, the rate limit.
_ANY_ROUTE = (400, 413, 429)
_RETRY_AFTER = {"Retry-After": {"description": "Seconds until the client may try again.",
                                "schema": {"type": "string"}}}


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for these error statuses (and those of every route), in the one error shape."""
    from api.schemas import ErrorOut

    out: dict[int | str, dict[str, Any]] = {}
    for status in sorted({*statuses, *_ANY_ROUTE}):
        out[status] = {"model": ErrorOut, "description": _MEANING[status]}
        if status == 429:
            out[status]["headers"] = _RETRY_AFTER
    return out


#: Errors of the routes that read the live index.
READS_INDEX = (409, 500, 503)


def error_body(code: str, message: str) -> dict[str, dict[str, str]]:
    """The one error shape every route returns."""
    return {"error": {"code": code, "message": message}}


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """A JSON error response."""
    return JSONResponse(error_body(code, message), status_code=status, headers=headers)


async def _rag_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RagError)
    if exc.status >= 500:
        log.error("%s on %s: %s", exc.code, request.url.path, exc.message)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return error_response(exc.status, exc.code, exc.message, headers)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at the request's path (a path can belong to several routes, one a method)."""
    methods: set[str] = set()
    # The app's routes, flat (an included router sits in ``app.router.routes`` as one opaque entry).
    for route in getattr(request.app.state, "routes", request.app.router.routes):
        if isinstance(route, Route) and route.methods and route.matches(request.scope)[0] is not Match.NONE:
            methods |= route.methods
    return sorted(methods)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    parts = []
    for err in exc.errors()[:5]:
        if err.get("type") in ("json_invalid", "json_type"):
            parts.append(f"the body is not valid JSON: {err.get('msg', 'invalid')}")
            continue
        where = ".".join(str(x) for x in err.get("loc", ()) if x != "body") or "body"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return error_response(422, "invalid_request", "; ".join(parts) or "invalid request")


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and isinstance(exc.__cause__, UnicodeDecodeError | RecursionError):
        # FastAPI could not parse a JSON body: malformed JSON, as a syntax error is (422).
        why = "is not UTF-8" if isinstance(exc.__cause__, UnicodeDecodeError) else "nests too deeply"
        return error_response(422, "invalid_request", f"the body is not valid JSON: it {why}")
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        # Starlette names only the methods of the first route at the path; list them all.
        headers["Allow"] = ", ".join(allowed_methods(request))
    return error_response(exc.status_code, code, message, headers or None)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # Logged in full on the server; the client only learns that it was our fault.
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(500, "internal_error", "internal server error")


def install_error_handlers(app: FastAPI) -> None:
    """Map domain errors (via ``.status``/``.code``), validation errors and HTTP errors to JSON."""
    app.add_exception_handler(RagError, _rag_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)

"""FastAPI dependencies: the app's settings and pipeline, and the write-key check."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPBearer

from api.errors import Unauthorized
from api.keys import bearer_token, key_ring
from rag.pipeline import Pipeline
from rag.settings import Settings


def get_settings(request: Request) -> Settings:
    """The settings the app was created with (override in tests via ``app.dependency_overrides``)."""
    settings: Settings = request.app.state.settings
    return settings


def get_pipeline(request: Request) -> Pipeline:
    """The app's one pipeline."""
    pipeline: Pipeline = request.app.state.pipeline
    return pipeline


SettingsDep = Annotated[Settings, Depends(get_settings)]
PipelineDep = Annotated[Pipeline, Depends(get_pipeline)]

#: Declares the bearer scheme in the OpenAPI schema; the check itself is ``require_write_key``.
BEARER = HTTPBearer(auto_error=False, scheme_name="apiKey", description="One of RAG_API_KEYS, when set.")


def require_write_key(request: Request, settings: SettingsDep, _: Annotated[object, Depends(BEARER)]) -> None:
    """When API keys are configured, demand ``Authorization: Bearer <key>``; raises ``Unauthorized``.

    The key is compared with every configured one in constant time (``api.keys.KeyRing``) and never logged.
    """
    ring = key_ring(tuple(settings.server.api_keys))
    if not ring:
        return
    token = bearer_token(request.scope)
    if token is None:
        raise Unauthorized("this route needs an API key: send `Authorization: Bearer <key>`")
    if ring.match(token) is None:
        raise Unauthorized("the API key is not valid")


WriteKey = Depends(require_write_key)

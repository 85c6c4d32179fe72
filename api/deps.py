"""FastAPI dependencies: the app's settings and pipeline, and the write-key check."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Request

from api.errors import Unauthorized
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


def require_write_key(request: Request, settings: SettingsDep) -> None:
    """When API keys are configured, demand ``Authorization: Bearer <key>``; raises ``Unauthorized``."""
    if not settings.server.api_keys:
        return
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("this route needs an API key: send `Authorization: Bearer <key>`")
    token = token.strip()
    if not any(secrets.compare_digest(token.encode(), key.encode()) for key in settings.server.api_keys):
        raise Unauthorized("the API key is not valid")


WriteKey = Depends(require_write_key)

"""Grounded question answering over your articles, with citations."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rag.pipeline import Pipeline
    from rag.settings import Settings
    from rag.types import Answer

__all__ = ["answer", "get_pipeline"]

_pipelines: dict[int, Pipeline] = {}


def get_pipeline(settings: Settings | None = None) -> Pipeline:
    """A pipeline for these settings, created once per settings object and reused."""
    from rag.pipeline import Pipeline
    from rag.settings import get_settings

    settings = settings or get_settings()
    key = id(settings)
    if key not in _pipelines:
        _pipelines[key] = Pipeline(settings)
    return _pipelines[key]


def answer(question: str, *, k: int | None = None, settings: Settings | None = None) -> Answer:
    """Answer a question from the indexed articles with numbered citations, or abstain."""
    return get_pipeline(settings).answer(question, k=k)

"""The index generation a response was drawn from, as a header beside the JSON field ``generation``."""

from __future__ import annotations

from typing import Any

from fastapi import Response

HEADER = "X-Index-Generation"

_DOC = {HEADER: {"description": "The index generation the response was drawn from (its folder under "
                 "`generations/`): every citation, hit or document in it belongs to that generation.",
                 "schema": {"type": "string"}}}


def documented(status: int = 200, **extra: Any) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` entry saying that a success carries the header."""
    return {status: {"headers": _DOC, **extra}}


def stamp(response: Response, generation: str) -> str:
    """Set the header on ``response``; returns the generation, for the JSON field."""
    response.headers[HEADER] = generation
    return generation

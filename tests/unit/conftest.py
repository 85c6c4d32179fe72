"""Fixtures the API unit tests share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from rag.pipeline import Pipeline
from rag.settings import Settings
from tests.fakes import HashEmbedder
from tests.texts import BREAD, ROCKETS, plain_article


@pytest.fixture
def rockets_app(settings: Settings, fake_embedder: HashEmbedder) -> Iterator[TestClient]:
    """The app over an index of the rocket and bread articles (fake embedder)."""
    p = Pipeline(settings, fake_embedder)
    p.update(upsert=[plain_article("rockets", ROCKETS), plain_article("bread", BREAD)])
    with TestClient(create_app(pipeline=p)) as c:
        yield c

"""Shared fixtures: settings pointing at a temporary index, and the fake and real embedders."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.settings import Settings
from tests.fakes import HashEmbedder


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings with the index in a temporary folder (nothing read from the environment's index)."""
    return Settings(index_dir=tmp_path / "index", chunk_tokens=60, chunk_overlap=10, abstain_threshold=0.3)


@pytest.fixture
def fake_embedder() -> HashEmbedder:
    return HashEmbedder()


@pytest.fixture(scope="session")
def real_embedder():  # type: ignore[no-untyped-def]
    """The bundled all-MiniLM-L6-v2, loaded once per test session (offline)."""
    from rag.models.embedding import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()

"""Shared fixtures: settings pointing at a temporary index, and the fake embedder."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from rag.settings import Settings
from rag.types import Article
from tests.fakes import HashEmbedder

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings with the index in a temporary folder (nothing read from the environment's index)."""
    return Settings(index_dir=tmp_path / "index", chunk_tokens=60, chunk_overlap=10, abstain_threshold=0.3)


@pytest.fixture
def fake_embedder() -> HashEmbedder:
    return HashEmbedder()


def plain_article(doc_id: str, text: str, source: str = "") -> Article:
    """An article whose whole text is body (no FAQ), for tests that don't exercise parsing."""
    return Article(doc_id=doc_id, title=text.split(".")[0][:60], text=text, body_start=0, body_end=len(text),
                   sha256=hashlib.sha256(text.encode()).hexdigest(), source=source)


@pytest.fixture(scope="session")
def real_embedder():  # type: ignore[no-untyped-def]
    """The bundled all-MiniLM-L6-v2, loaded once per test session (offline)."""
    from rag.models.embedding import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()

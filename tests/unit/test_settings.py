"""Settings: grouped by stage, read from flat RAG_* variables and .env, flat keyword names, and the generated docs."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from rag.settings import GROUP_OF, Settings
from rag.settings_doc import render
from tests.paths import ROOT


def test_flat_environment_variables_reach_their_group(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_TOP_K", "7")
    monkeypatch.setenv("rag_retrieval", "bm25")  # case-insensitive, as before
    monkeypatch.setenv("RAG_API_KEYS", "k1, k2")
    monkeypatch.setenv("RAG_CORS_ORIGINS", '["http://a.example"]')
    s = Settings()
    assert s.search.top_k == 7 and s.search.retrieval == "bm25"
    assert s.server.api_keys == ["k1", "k2"] and s.server.cors_origins == ["http://a.example"]


def test_keyword_arguments_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_TOP_K", "7")
    monkeypatch.setenv("RAG_CANDIDATES", "30")
    s = Settings(top_k=3)
    assert s.search.top_k == 3 and s.search.candidates == 30
    assert Settings(search={"top_k": 4}).search.top_k == 4  # the grouped spelling works too


def test_dotenv_file_is_read_and_the_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("RAG_TOP_K=9\nRAG_PORT=8123\nOTHER=1\n")
    monkeypatch.setenv("RAG_PORT", "8124")
    s = Settings()
    assert s.search.top_k == 9 and s.server.port == 8124


def test_invalid_values_are_refused_by_their_flat_name() -> None:
    with pytest.raises(ValidationError, match="top_k"):
        Settings(top_k=0)
    with pytest.raises(ValidationError, match="chunk_overlap must be smaller"):
        Settings(chunk_tokens=32, chunk_overlap=32)
    with pytest.raises(ValidationError):
        Settings(no_such_setting=1)


def test_replace_validates_and_flat_round_trips() -> None:
    s = Settings(top_k=3, index_dir=Path("/tmp/somewhere"))
    t = s.replace(abstain_threshold=0.2)
    assert t.answer.abstain_threshold == 0.2 and t.search.top_k == 3 and s.answer.abstain_threshold == 0.5
    assert Settings(**s.flat()) == s
    with pytest.raises(ValidationError):
        s.replace(candidates=0)


def test_every_flat_name_is_unique_and_no_group_shadows_one() -> None:
    groups = set(Settings.model_fields)
    assert not groups & set(GROUP_OF)
    assert len(GROUP_OF) == sum(len(Settings.model_fields[g].annotation.model_fields)  # type: ignore[union-attr]
                                for g in groups)


def test_configuration_reference_is_current() -> None:
    """docs/configuration.md is generated from the settings classes: regenerate it when this fails."""
    doc = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert doc == render(), "stale: run `python -m rag.settings_doc > docs/configuration.md`"
    for name in GROUP_OF:
        assert f"`RAG_{name.upper()}`" in doc


def test_embedding_precision_and_batch_wait_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert (Settings().embedding.embedding_precision, Settings().embedding.embed_batch_wait_ms) == ("float32", 2.0)
    monkeypatch.setenv("RAG_EMBEDDING_PRECISION", "int8")
    monkeypatch.setenv("RAG_EMBED_BATCH_WAIT_MS", "0")
    assert (Settings().embedding.embedding_precision, Settings().embedding.embed_batch_wait_ms) == ("int8", 0.0)
    monkeypatch.setenv("RAG_EMBEDDING_PRECISION", "int4")
    with pytest.raises(ValidationError, match="embedding_precision"):
        Settings()

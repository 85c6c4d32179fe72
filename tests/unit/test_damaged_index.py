"""A damaged or wrong index is refused with one line naming the problem and the fix; a write refuses it too and
``--rebuild`` replaces it; a pipeline answering from a good generation keeps it when a damaged one is published."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from rag.errors import IndexCorrupt, IndexMismatch, RagError
from rag.pipeline import Pipeline
from rag.settings import Settings
from rag.store.generations import current_generation, load_snapshot
from tests.damage import DAMAGED, OTHER_MODEL, Damage, damage_live, every_file_damage, publish_copy, truncate
from tests.fakes import HashTokenEmbedder
from tests.readiness import readyz
from tests.texts import BREAD, ROCKETS, plain_article

ROCKET_Q = "When did the rocket launch?"


@pytest.fixture
def built(settings: Settings) -> Settings:
    """An index of two articles (with token vectors, so every kind of file is there)."""
    settings = settings.replace(index_watch_seconds=0.01)
    Pipeline(settings, HashTokenEmbedder()).update(
        upsert=[plain_article("rockets", ROCKETS), plain_article("bread", BREAD)])
    return settings


def all_damage(index: Path) -> dict[str, Damage]:
    return {**DAMAGED, **every_file_damage(index)}


def refusal(settings: Settings) -> RagError:
    """What loading the index the way ``ask`` and ``rag serve`` do raises."""
    with pytest.raises(RagError) as info:
        Pipeline(settings, HashTokenEmbedder()).answer(ROCKET_Q)
    return info.value


def assert_one_line_with_the_fix(err: RagError) -> None:
    assert "\n" not in err.message
    assert "rag index --rebuild" in err.message, err.message


def test_every_kind_of_damage_is_refused_with_the_file_and_the_fix(built: Settings) -> None:
    index = built.index.index_dir
    kinds = all_damage(index)
    assert len(kinds) >= 30
    for name, damage in kinds.items():
        good = current_generation(index)
        assert good is not None
        publish_copy(index, f"29990101T000000-{abs(hash(name)) % 10**8:08d}", damage)
        err = refusal(built)
        assert isinstance(err, IndexCorrupt), (name, err)
        assert err.status == 503
        assert_one_line_with_the_fix(err)
        subject = name.split()[0]
        assert subject in err.message, (name, err.message)
        (index / "CURRENT").write_text(good.name)  # back to the good one for the next kind


def test_an_index_of_another_model_is_a_mismatch_that_names_the_fix(built: Settings) -> None:
    damage_live(built.index.index_dir, OTHER_MODEL)
    err = refusal(built)
    assert isinstance(err, IndexMismatch) and "other/model-768" in err.message
    assert "\n" not in err.message and "rag index --rebuild" in err.message


@pytest.mark.parametrize("kind", ["chunk_vectors.npy truncated", "manifest.json not JSON",
                                  "CURRENT names no generation"])
def test_a_write_refuses_a_damaged_index_and_rebuild_replaces_it(built: Settings, kind: str) -> None:
    index = built.index.index_dir
    damage_live(index, DAMAGED[kind])
    before = sorted(p.name for p in (index / "generations").iterdir())
    pipeline = Pipeline(built, HashTokenEmbedder())
    with pytest.raises(IndexCorrupt) as info:
        pipeline.update(upsert=[plain_article("rockets", ROCKETS)])
    assert_one_line_with_the_fix(info.value)
    assert sorted(p.name for p in (index / "generations").iterdir()) == before  # nothing written

    report = pipeline.update(upsert=[plain_article("rockets", ROCKETS)], rebuild=True)
    snap = load_snapshot(index)
    assert set(snap.documents) == {"rockets"} and snap.path.name == report.generation
    # Clean: the rebuilt generation alone, nothing half-written.
    assert [p.name for p in (index / "generations").iterdir()] == [report.generation]
    assert not list(index.glob(".CURRENT.*"))
    assert not pipeline.answer(ROCKET_Q).abstained



@pytest.mark.parametrize("kind", ["chunk_vectors.npy truncated", "docstore.sqlite garbled", "manifest.json wrong types",
                                  "CURRENT names no generation", "sentence_tokens.npy truncated", "other model"])
def test_a_live_pipeline_keeps_the_last_good_generation(built: Settings, kind: str) -> None:
    index = built.index.index_dir
    pipeline = Pipeline(built, HashTokenEmbedder())
    good = pipeline.answer(ROCKET_Q)
    damage = OTHER_MODEL if kind == "other model" else DAMAGED[kind]
    publish_copy(index, "29990101T000000-damaged0", damage)
    time.sleep(0.02)
    again = pipeline.answer(ROCKET_Q)
    assert again.generation == good.generation and again.answer == good.answer
    problem = pipeline.index.problem
    assert problem is not None and good.generation in problem and "rag index --rebuild" in problem
    assert "\n" not in problem

    # Pointing CURRENT back to the good generation clears the problem; a new good generation is taken up.
    (index / "CURRENT").write_text(good.generation)
    time.sleep(0.02)
    pipeline.refresh()
    assert pipeline.index.problem is None
    publish_copy(index, "29990101T000000-damaged1", damage)
    time.sleep(0.02)
    pipeline.refresh()
    assert pipeline.index.problem is not None
    fixed = Pipeline(built, HashTokenEmbedder()).update(upsert=[plain_article("bread", BREAD)], rebuild=True)
    time.sleep(0.02)
    assert pipeline.answer("How is bread made?").generation == fixed.generation
    assert pipeline.index.problem is None


@pytest.fixture
def damaged_app(built: Settings) -> Iterator[tuple[TestClient, Settings]]:
    """The app started over an index whose live generation has a truncated FAISS file."""
    damage_live(built.index.index_dir, DAMAGED["chunk_vectors.npy truncated"])
    with TestClient(create_app(pipeline=Pipeline(built, HashTokenEmbedder()))) as c:
        yield c, built


def test_a_server_started_on_a_damaged_index_says_why_and_recovers_without_a_restart(
        damaged_app: tuple[TestClient, Settings]) -> None:
    client, settings = damaged_app
    r = readyz(client)
    assert r["status"] == "not_ready" and "chunk_vectors.npy" in str(r["reason"])
    assert "rag index --rebuild" in str(r["reason"])
    assert client.get("/healthz").status_code == 200
    for method, path, body in [("POST", "/ask", {"question": ROCKET_Q}), ("GET", "/documents", None),
                               ("GET", "/search?q=rocket", None),
                               ("POST", "/chat", {"messages": [{"role": "user", "content": ROCKET_Q}]})]:
        res = client.request(method, path, json=body)
        assert res.status_code == 503, (path, res.text)
        assert res.json()["error"]["code"] == "index_corrupt" and "chunk_vectors.npy" in res.json()["error"]["message"]

    fixed = Pipeline(settings, HashTokenEmbedder()).update(upsert=[plain_article("rockets", ROCKETS)], rebuild=True)
    time.sleep(0.02)
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["generation"] == fixed.generation
    assert ready.json()["problem"] is None
    assert client.post("/ask", json={"question": ROCKET_Q}).status_code == 200


def test_a_running_server_keeps_answering_and_readyz_names_the_problem(built: Settings) -> None:
    index = built.index.index_dir
    with TestClient(create_app(pipeline=Pipeline(built, HashTokenEmbedder()))) as client:
        ready = readyz(client)
        assert ready["status"] == "ready" and ready["problem"] is None
        publish_copy(index, "29990101T000000-damaged0", DAMAGED["docstore.sqlite garbled"])
        time.sleep(0.02)
        answer = client.post("/ask", json={"question": ROCKET_Q})
        assert answer.status_code == 200 and answer.headers["X-Index-Generation"] == ready["generation"]
        r = client.get("/readyz")
        assert r.status_code == 200 and r.json()["generation"] == ready["generation"]
        assert "docstore.sqlite" in r.json()["problem"] and "rag index --rebuild" in r.json()["problem"]
        assert client.get("/healthz").status_code == 200


def test_a_large_document_store_is_checked_by_its_size(built: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Above the page-by-page limit a cut document store is still refused (its header gives its length)."""
    from rag.store import segments

    monkeypatch.setattr(segments, "QUICK_CHECK_BYTES", 0)
    index = built.index.index_dir
    good = current_generation(index)
    assert good is not None
    publish_copy(index, "29990101T000000-sizeonly", None)
    assert Pipeline(built, HashTokenEmbedder()).answer(ROCKET_Q).citations  # an intact store opens
    (index / "CURRENT").write_text(good.name)
    publish_copy(index, "29990101T000000-sizecut", truncate("docstore.sqlite", 0.9))
    err = refusal(built)
    assert isinstance(err, IndexCorrupt) and "docstore.sqlite" in err.message, err.message

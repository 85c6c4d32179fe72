"""The Milvus store on embedded Milvus Lite with the fake embedder: writes, reads, versions and the manifest."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.errors import DocumentNotFound, IndexMismatch, IndexNotFound
from rag.pipeline import Pipeline
from rag.settings import Settings
from rag.store.milvus.store import MilvusStore
from tests.fakes import HashEmbedder, HashTokenEmbedder
from tests.texts import BREAD, CATS, HARBOUR, ORCHARD, ROCKETS, plain_article

pytest.importorskip("pymilvus")
pytest.importorskip("milvus_lite")

ARTICLES = {"cats": CATS, "rockets": ROCKETS, "bread": BREAD, "harbour": HARBOUR, "orchard": ORCHARD}
QUESTIONS = {
    "How many astronauts did the rocket carry?": "rockets",
    "How long do cats sleep?": "cats",
    "When does the dough rise?": "bread",
    "Who was the first pilot of the harbour?": "harbour",
    "Who planted the oldest pear tree?": "orchard",
}


@pytest.fixture
def milvus(settings: Settings, tmp_path: Path) -> Settings:
    return settings.replace(store="milvus", milvus_uri=str(tmp_path / "lite.db"))


def test_index_ask_update_delete_and_skip_the_unchanged(milvus: Settings) -> None:
    p = Pipeline(milvus, HashTokenEmbedder())
    first = p.update(upsert=[plain_article(d, t) for d, t in ARTICLES.items()])
    assert sorted(first.added) == sorted(ARTICLES) and first.generation
    for question, doc_id in QUESTIONS.items():
        ans = p.answer(question)
        assert not ans.abstained and ans.citations[0].doc_id == doc_id, question
        assert ans.generation == first.generation
    again = p.update(upsert=[plain_article(d, t) for d, t in ARTICLES.items()])
    assert sorted(again.unchanged) == sorted(ARTICLES) and again.embedded_chunks == 0 and not again.generation
    assert p.snapshot.path.name == first.generation  # nothing written, nothing published

    changed = ROCKETS.replace("four astronauts", "six astronauts")
    upd = p.update(upsert=[plain_article("rockets", changed)])
    assert upd.updated == ["rockets"] and upd.embedded_chunks >= 1
    ans = p.answer("How many astronauts did the rocket carry?")
    assert "six astronauts" in ans.answer and "four" not in ans.answer
    assert p.snapshot.documents["rockets"].text == changed

    gone = p.update(remove=["bread"])
    assert gone.removed == ["bread"] and "bread" not in p.snapshot.documents
    assert all(c.doc_id != "bread" for c in p.snapshot.chunks.values())
    assert all(h.chunk.doc_id != "bread" for h in p.search("When does the dough rise?", 5))
    with pytest.raises(DocumentNotFound):
        p.update(remove=["bread"])
    assert gone.total_chunks == len(p.snapshot.chunks)


def test_old_versions_leave_no_rows(milvus: Settings) -> None:
    p = Pipeline(milvus, HashEmbedder())
    p.update(upsert=[plain_article("rockets", ROCKETS), plain_article("cats", CATS)])
    p.update(upsert=[plain_article("rockets", ROCKETS + " It landed in the sea.")])
    p.update(remove=["cats"])
    store = p.index.store
    assert isinstance(store, MilvusStore)
    reader = store.reader()
    for coll in (reader.names.chunks, reader.names.sentences, reader.names.doc_parts):
        rows = reader.all_rows(coll, "", ["doc_id", "doc_sha"])
        assert {r["doc_id"] for r in rows} == {"rockets"}
        assert {r["doc_sha"] for r in rows} == {p.snapshot.documents["rockets"].sha256}


def test_a_version_no_document_row_names_is_never_read(milvus: Settings) -> None:
    """Rows a stopped writer left behind (a new version whose document row was never switched) stay unseen."""
    p = Pipeline(milvus, HashEmbedder())
    p.update(upsert=[plain_article("rockets", ROCKETS)])
    store = p.index.store
    assert isinstance(store, MilvusStore)
    names = store.reader().names
    stray = store.client.query(names.chunks, filter='doc_id == "rockets"', output_fields=["*"])[0]
    stray = {**stray, "chunk_id": 12345, "doc_sha": "0" * 64, "text": "The rocket carried ninety giraffes."}
    stray.pop("sparse", None)
    stray["search_text"] = stray["text"]
    store.client.insert(names.chunks, [stray])
    hits = p.search("How many giraffes did the rocket carry?", 5)
    assert hits and all(h.chunk.chunk_id != 12345 for h in hits)
    p.reload()
    assert 12345 not in p.snapshot.chunks


def test_hybrid_bm25_runs_in_milvus(milvus: Settings) -> None:
    p = Pipeline(milvus, HashEmbedder())
    p.update(upsert=[plain_article(d, t) for d, t in ARTICLES.items()])
    assert not p.loaded.notices  # Milvus Lite 2.5 runs BM25 itself
    hits = p.search("Sourdough starter culture", 5)
    assert hits[0].chunk.doc_id == "bread" and hits[0].bm25 is not None and hits[0].bm25 > 0
    assert all(h.bm25 == 0 for h in hits if h.chunk.doc_id in ("harbour", "orchard"))


def test_another_model_is_refused_with_the_fix(milvus: Settings) -> None:
    Pipeline(milvus, HashEmbedder(model_id="one")).update(upsert=[plain_article("cats", CATS)])
    other = Pipeline(milvus, HashEmbedder(model_id="two"))
    with pytest.raises(IndexMismatch, match="rag index --rebuild"):
        other.answer("How long do cats sleep?")
    with pytest.raises(IndexMismatch):
        other.update(upsert=[plain_article("bread", BREAD)])
    rebuilt = other.update(upsert=[plain_article("bread", BREAD)], rebuild=True)
    assert rebuilt.added == ["bread"] and sorted(other.snapshot.documents) == ["bread"]


def test_no_index_says_how_to_build_one(milvus: Settings) -> None:
    with pytest.raises(IndexNotFound, match="RAG_STORE=milvus"):
        Pipeline(milvus, HashEmbedder()).answer("How long do cats sleep?")


def test_answers_match_the_faiss_store(settings: Settings, milvus: Settings) -> None:
    """Same articles, same embedder: the same answer and cited sentence from either store."""
    faiss, mil = Pipeline(settings, HashTokenEmbedder()), Pipeline(milvus, HashTokenEmbedder())
    for p in (faiss, mil):
        p.update(upsert=[plain_article(d, t) for d, t in ARTICLES.items()])
    for question in QUESTIONS:
        a, b = faiss.answer(question), mil.answer(question)
        assert a.answer == b.answer and a.abstained == b.abstained, question
        assert [(c.doc_id, c.start, c.end) for c in a.citations] == [(c.doc_id, c.start, c.end) for c in b.citations]


def test_a_server_without_bm25_runs_dense_only_and_says_so(milvus: Settings, monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    """A BM25 function the client cannot build stands in for an older server that refuses one (Milvus 2.3 refuses
    the sparse index: tests/integration/test_milvus.py runs one)."""
    import pymilvus
    from fastapi.testclient import TestClient

    from api.app import create_app
    from rag.store.milvus import collections

    def refused(*args: object, **kwargs: object) -> None:
        raise pymilvus.MilvusException(message="function not supported")

    monkeypatch.setattr(pymilvus, "Function", refused)
    p = Pipeline(milvus, HashEmbedder())
    p.update(upsert=[plain_article(d, t) for d, t in ARTICLES.items()])
    assert p.loaded.notices == (collections.NO_BM25,)
    hits = p.search("How many astronauts did the rocket carry?", 3)
    assert hits[0].chunk.doc_id == "rockets"
    with TestClient(create_app(pipeline=p)) as client:
        deadline = 0
        while (ready := client.get("/readyz").json())["status"] != "ready" and deadline < 100:
            deadline += 1
        assert ready["store"] == "milvus" and ready["warnings"] == [collections.NO_BM25]


def test_sentence_statistics_follow_every_write(milvus: Settings) -> None:
    """The stored corpus statistics equal those counted afresh over the live sentences after adds, an update and a
    delete; and a question's candidates are scored with them, as the FAISS store scores the same sentences."""
    from rag.store.milvus import terms

    p = Pipeline(milvus, HashTokenEmbedder())
    p.update(upsert=[plain_article(d, t) for d, t in ARTICLES.items()])
    p.update(upsert=[plain_article("rockets", ROCKETS + " The crew returned safely to the harbour.")])
    p.update(remove=["bread"])
    store = p.index.store
    assert isinstance(store, MilvusStore)
    reader = store.reader()
    texts = [r["text"] for r in reader.all_rows(reader.names.sentences, "", ["text"])]
    rows, length, df = terms.count(texts)
    stored = terms.read(store.client, reader.names, sorted(df))
    assert (stored.rows, stored.length) == (rows, length) and rows > 0
    assert stored.df == dict(df)
    assert "dough" not in stored.df  # only the deleted article held it

    faiss = Pipeline(milvus.replace(store="faiss"), HashTokenEmbedder())
    faiss.update(upsert=[plain_article(d, t) for d, t in ARTICLES.items() if d not in ("bread", "rockets")]
                 + [plain_article("rockets", ROCKETS + " The crew returned safely to the harbour.")])
    question = "Who was the first pilot of the harbour?"
    ours, theirs = p.answer(question), faiss.answer(question)
    assert [(c.doc_id, c.start, c.end) for c in ours.citations] == [(c.doc_id, c.start, c.end)
                                                                      for c in theirs.citations]

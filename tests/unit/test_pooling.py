"""Chunk vectors pooled from sentence vectors (rag/store/pooling.py) and how indexing uses them (fake embedder)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rag.pipeline import Pipeline
from rag.settings import Settings
from rag.store.generations import Manifest, all_vectors, read_manifest
from rag.store.pooling import pool
from tests.fakes import HashEmbedder, HashTokenEmbedder
from tests.texts import plain_article

TEXT = ("The lighthouse at Brastow was built in 1874 by the harbour board. Its lamp burned whale oil until 1902. "
        "Keepers lived in the cottage beside it with their families. The tower is 31 metres tall. "
        "Visitors may climb its 212 steps on Saturdays in summer. A small museum shows the old lens.")


class RecordingEmbedder(HashEmbedder):
    """The fake embedder, remembering every text it was asked to embed."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        self.texts.extend(texts)
        return super().embed(texts, progress=progress)


def test_pool_is_the_unit_length_weighted_sum() -> None:
    vecs = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]], dtype=np.float32)
    weights = np.array([3.0, 1.0, 2.0])
    got = pool([[0, 1], [2], [0, 2]], weights, vecs)
    want = np.array([3.0, 1.0]) / np.linalg.norm([3.0, 1.0])
    assert got[0] is not None and np.allclose(got[0], want, atol=1e-6)
    assert got[1] is not None and np.allclose(got[1], [0.6, 0.8], atol=1e-6)
    assert got[2] is not None and abs(float(np.linalg.norm(got[2])) - 1.0) < 1e-6
    # A longer sentence pulls the chunk vector towards itself.
    assert got[0] is not None and float(got[0][0]) > float(got[0][1])


def test_pool_leaves_empty_and_cancelling_groups_to_the_caller() -> None:
    vecs = np.array([[1.0, 0.0], [-1.0, 0.0]], dtype=np.float32)
    got = pool([[], [0, 1]], np.array([1.0, 1.0]), vecs)
    assert got == [None, None]


def _index(settings: Settings, emb: HashEmbedder, text: str = TEXT) -> Pipeline:
    p = Pipeline(settings, emb)
    p.update(upsert=[plain_article("lighthouse", text)])
    return p


def test_pooled_index_embeds_sentences_only_and_pools_them(settings: Settings) -> None:
    emb = RecordingEmbedder()
    p = _index(settings, emb)
    snap = p.snapshot
    chunks = sorted(snap.chunks.values(), key=lambda c: c.chunk_id)
    assert len(chunks) >= 2  # the settings' 60-token chunks split the article
    assert not any(c.text in emb.texts for c in chunks)  # no chunk went through the model
    sentences = {(x.start, x.end): i for i, x in enumerate(snap.sentences[s] for s in sorted(snap.sentences))}
    vectors = all_vectors(snap.vectors)
    for c in chunks:
        rows = [i for (s, e), i in sentences.items() if s >= c.start and e <= c.end]
        lengths = np.array([e - s for (s, e), i in sentences.items() if i in rows], dtype=np.float64)
        want = (lengths[:, None] * snap.sentence_vectors[rows]).sum(axis=0)
        assert np.allclose(vectors[c.chunk_id], want / np.linalg.norm(want), atol=1e-5)
    assert read_manifest(settings.index.index_dir).chunk_vectors == "pooled"


def test_encoded_index_embeds_each_chunk_text(settings: Settings) -> None:
    encoded = settings.replace(**{"chunk_vectors": "encoded"})
    emb = RecordingEmbedder()
    p = _index(encoded, emb)
    chunks = sorted(p.snapshot.chunks.values(), key=lambda c: c.chunk_id)
    assert all(c.text in emb.texts for c in chunks)
    vectors = all_vectors(p.snapshot.vectors)
    fresh = HashEmbedder().embed([c.text for c in chunks])
    for c, v in zip(chunks, fresh, strict=True):
        assert np.allclose(vectors[c.chunk_id], v, atol=1e-6)
    assert read_manifest(encoded.index.index_dir).chunk_vectors == "encoded"


def test_pooled_chunks_carry_their_title_when_chunks_have_a_title_header(settings: Settings) -> None:
    titled = settings.replace(**{"title_header": True})
    emb = RecordingEmbedder()
    p = _index(titled, emb)
    title = p.snapshot.documents["lighthouse"].title
    assert emb.texts.count(title) == 1  # embedded once for all the article's chunks
    plain = _index(settings.replace(**{"index_dir": settings.index.index_dir.parent / "plain"}), HashEmbedder())
    t = HashEmbedder().embed([title])[0]
    with_title, without = all_vectors(p.snapshot.vectors), all_vectors(plain.snapshot.vectors)
    assert with_title.keys() == without.keys()
    for cid in with_title:
        assert float(with_title[cid] @ t) > float(without[cid] @ t)


def _vectors_by_text(p: Pipeline) -> dict[tuple[str, str], np.ndarray]:
    snap = p.snapshot
    vecs = all_vectors(snap.vectors)
    return {(c.doc_id, c.text): vecs[c.chunk_id] for c in snap.chunks.values()}


def test_an_index_of_the_other_kind_is_queried_as_it_is_and_converted_by_the_next_write(settings: Settings) -> None:
    encoded = settings.replace(**{"chunk_vectors": "encoded"})
    old = Pipeline(encoded, HashTokenEmbedder())
    old.update(upsert=[plain_article("lighthouse", TEXT, "/docs/lighthouse.txt"),
                       plain_article("uploaded", "An uploaded note about glass harps in Tallinn.", "upload")])
    # A server on the new default answers from the old index without a rebuild.
    served = Pipeline(settings, HashTokenEmbedder())
    assert served.search("lighthouse steps", 1)[0].chunk.doc_id == "lighthouse"
    # The next write re-embeds every document from the stored text (the upload is not lost) as pooled vectors.
    report = served.update(upsert=[plain_article("extra", "A short new article about mills.")])
    assert report.added == ["extra"] and sorted(report.converted) == ["lighthouse", "uploaded"]
    assert report.removed == [] and "re-embedded 2" in report.summary()
    assert read_manifest(settings.index.index_dir).chunk_vectors == "pooled"
    assert set(served.snapshot.documents) == {"lighthouse", "uploaded", "extra"}
    fresh = Pipeline(settings.replace(**{"index_dir": settings.index.index_dir.parent / "fresh"}),
                     HashTokenEmbedder())
    fresh.update(upsert=[plain_article("lighthouse", TEXT), plain_article("uploaded",
                         "An uploaded note about glass harps in Tallinn."), plain_article("extra",
                         "A short new article about mills.")])
    got, want = _vectors_by_text(served), _vectors_by_text(fresh)
    assert got.keys() == want.keys()
    assert all(np.allclose(got[k], want[k], atol=1e-6) for k in got)
    # Converted once: the same write again changes nothing.
    assert not served.update(upsert=[plain_article("extra", "A short new article about mills.")]).changed


def test_incremental_updates_give_the_vectors_of_a_fresh_build(settings: Settings) -> None:
    other = "The mill on the river ground wheat for the village. It closed in 1950. The wheel still turns."
    p = Pipeline(settings, HashTokenEmbedder())
    p.update(upsert=[plain_article("lighthouse", TEXT), plain_article("mill", other),
                     plain_article("gone", "This article will be removed before long.")])
    edited = TEXT.replace("31 metres", "32 metres") + " The keeper's log survives."
    report = p.update(upsert=[plain_article("lighthouse", edited), plain_article("mill", other)],
                      remove=["gone"])
    assert report.updated == ["lighthouse"] and report.unchanged == ["mill"] and report.removed == ["gone"]
    fresh = Pipeline(settings.replace(**{"index_dir": settings.index.index_dir.parent / "fresh"}),
                     HashTokenEmbedder())
    fresh.update(upsert=[plain_article("lighthouse", edited), plain_article("mill", other)])
    got, want = _vectors_by_text(p), _vectors_by_text(fresh)
    assert got.keys() == want.keys() and len(got) >= 3
    assert all(np.allclose(got[k], want[k], atol=1e-6) for k in got)


def test_a_manifest_written_before_pooling_reads_as_encoded(tmp_path: Path) -> None:
    legacy = Manifest("m", None, 8, "tok", 256, 64, False).to_json().replace('"chunk_vectors": "encoded",', "")
    assert "chunk_vectors" not in legacy
    assert Manifest.from_json(legacy).chunk_vectors == "encoded"

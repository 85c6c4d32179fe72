"""Writes as segments: one new segment per write, tombstones, merges, garbage collection, HNSW, old formats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.errors import IndexMismatch
from rag.pipeline import Pipeline
from rag.settings import Settings
from rag.store.generations import current_generation, read_manifest
from tests.fakes import HashTokenEmbedder
from tests.texts import BREAD, CATS, HARBOUR, ORCHARD, ROCKETS, plain_article

DOCS = {"cats": CATS, "rockets": ROCKETS, "bread": BREAD, "harbour": HARBOUR, "orchard": ORCHARD}


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def segments(settings: Settings) -> list[dict[str, object]]:
    return read_manifest(settings.index.index_dir).segments


def hits_of(p: Pipeline, question: str) -> list[tuple[int, float]]:
    return [(h.chunk.chunk_id, round(h.score, 6)) for h in p.search(question)]


def test_a_write_adds_one_segment_and_never_changes_an_earlier_one(settings: Settings) -> None:
    p = Pipeline(settings, HashTokenEmbedder())
    p.update(upsert=[plain_article("cats", CATS), plain_article("rockets", ROCKETS)])
    first = settings.index.index_dir / "segments" / str(segments(settings)[0]["name"])
    before = files_of(first)
    p.update(upsert=[plain_article("bread", BREAD)])
    assert [s["deleted"] for s in segments(settings)] == [[], []]
    p.update(upsert=[plain_article("cats", CATS + " Kittens are born blind.")])  # an update tombstones the old one
    assert [s["deleted"] for s in segments(settings)] == [["cats"], [], []]
    p.update(remove=["rockets"])  # the segment is all deleted now: it leaves the manifest
    assert len(segments(settings)) == 2
    assert files_of(first) == before or not first.exists()
    assert set(p.snapshot.documents) == {"cats", "bread"}
    assert "Kittens are born blind." in p.answer("Are kittens born blind?").answer


def test_a_mostly_deleted_segment_is_rewritten(settings: Settings) -> None:
    p = Pipeline(settings, HashTokenEmbedder())
    p.update(upsert=[plain_article(k, v) for k, v in DOCS.items()])
    p.update(remove=["cats", "rockets", "bread"])
    (seg,) = segments(settings)
    assert seg["deleted"] == [] and set(p.snapshot.documents) == {"harbour", "orchard"}


def test_merged_segments_answer_as_the_segments_they_replace(settings: Settings) -> None:
    s = settings.replace(merge_factor=3, merge_floor_chunks=1000)
    p = Pipeline(s, HashTokenEmbedder())
    unmerged = Pipeline(settings.replace(index_dir=settings.index.index_dir.parent / "other", merge_factor=100),
                        HashTokenEmbedder())
    for k, v in list(DOCS.items())[:2]:
        p.update(upsert=[plain_article(k, v)])
        unmerged.update(upsert=[plain_article(k, v)])
    assert len(segments(s)) == 2
    p.update(upsert=[plain_article("bread", BREAD)])
    unmerged.update(upsert=[plain_article("bread", BREAD)])
    assert len(segments(s)) == 1  # three segments of the lowest tier became one
    for q in ("When did the rocket launch?", "How long do cats sleep?", "What does sourdough need?"):
        assert hits_of(p, q) == hits_of(unmerged, q)
        assert p.answer(q).answer == unmerged.answer(q).answer
    listed = {str(x["name"]) for g in (s.index.index_dir / "generations").iterdir()
              for x in json.loads((g / "manifest.json").read_text())["segments"]}
    assert {d.name for d in (s.index.index_dir / "segments").iterdir()} == listed  # the rest collected


def test_a_large_segment_gets_an_hnsw_graph_recorded_in_the_manifest(settings: Settings) -> None:
    exact = Pipeline(settings, HashTokenEmbedder())
    exact.update(upsert=[plain_article(k, v) for k, v in DOCS.items()])
    s = settings.replace(index_dir=settings.index.index_dir.parent / "hnsw", hnsw_threshold=2)
    p = Pipeline(s, HashTokenEmbedder())
    p.update(upsert=[plain_article(k, v) for k, v in DOCS.items()])
    assert [x["dense"] for x in segments(s)] == ["hnsw"] and [x["dense"] for x in segments(settings)] == ["flat"]
    assert (s.index.index_dir / "segments" / str(segments(s)[0]["name"]) / "vectors.faiss").is_file()
    p.update(remove=["cats"])  # deleted rows are filtered out of the graph's results
    exact.update(remove=["cats"])
    for q in ("When did the rocket launch?", "Who was the harbour's first pilot?", "How long do cats sleep?"):
        assert hits_of(p, q) == hits_of(exact, q)


def test_an_index_of_an_older_format_is_refused_with_the_rebuild_command(settings: Settings) -> None:
    p = Pipeline(settings, HashTokenEmbedder())
    p.update(upsert=[plain_article("cats", CATS)])
    gen = current_generation(settings.index.index_dir)
    assert gen is not None
    manifest = json.loads((gen / "manifest.json").read_text())
    (gen / "manifest.json").write_text(json.dumps({**manifest, "format_version": 3}))
    with pytest.raises(IndexMismatch, match="rag index --rebuild"):
        Pipeline(settings, HashTokenEmbedder()).answer("How long do cats sleep?")
    with pytest.raises(IndexMismatch, match="rag index --rebuild"):
        Pipeline(settings, HashTokenEmbedder()).update(upsert=[plain_article("bread", BREAD)])
    Pipeline(settings, HashTokenEmbedder()).update(upsert=[plain_article("bread", BREAD)], rebuild=True)
    assert read_manifest(settings.index.index_dir).format_version == 4


class Killed(BaseException):
    """Stands for SIGKILL at a crash point: nothing after it runs."""


@pytest.mark.parametrize("step", ["chunks-written", "vectors-written", "before-rename", "after-rename",
                                  "before-current", "after-current"])
def test_a_write_killed_at_any_step_leaves_one_whole_generation_live(settings: Settings, step: str,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import rag.store.generations as generations
    import rag.store.segments as segs

    p = Pipeline(settings, HashTokenEmbedder())
    p.update(upsert=[plain_article("cats", CATS)])

    def crash(at: str) -> None:
        if at == step:
            raise Killed

    monkeypatch.setattr(generations, "crash_point", crash)
    with pytest.raises(Killed):
        p.update(upsert=[plain_article("rockets", ROCKETS)], remove=["cats"])
    monkeypatch.undo()
    segs.forget_open_segments()
    fresh = Pipeline(settings, HashTokenEmbedder())
    expected = {"rockets"} if step == "after-current" else {"cats"}
    assert set(fresh.snapshot.documents) == expected  # the old generation, or the new one, whole
    assert fresh.search("How long do cats sleep?" if expected == {"cats"} else "When did the rocket launch?")
    fresh.update(upsert=[plain_article("bread", BREAD)])  # the next write completes and cleans up
    index = settings.index.index_dir
    assert not [x for d in ("generations", "segments") for x in (index / d).iterdir() if x.name.startswith(".tmp")]
    assert set(fresh.snapshot.documents) == expected | {"bread"}

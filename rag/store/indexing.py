"""Build and incrementally update the on-disk index: open, plan, embed the new documents, publish one segment.

A write costs the documents it adds or removes: their rows go into one new segment, the documents they replace are
tombstoned in the new manifest, and nothing else is read or rewritten. Merges (``rag.store.merging``) run after the
write is published, each published on its own.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from rag.errors import IndexNotFound
from rag.protocols import TokenEmbedder
from rag.store.compat import check_compatible, converts, expected_manifest
from rag.store.contents import IndexContents
from rag.store.encoding import add_articles
from rag.store.generations import Manifest, collect_garbage, load_snapshot, publish, read_manifest, write_lock
from rag.store.merging import MergePolicy
from rag.store.plan import IndexReport, plan_changes
from rag.store.segment_writing import DenseLayout
from rag.types import Article

if TYPE_CHECKING:
    from rag.protocols import Embedder
    from rag.settings import Settings
    from rag.store.docstore import DocRecord
    from rag.store.snapshot import Snapshot

log = logging.getLogger(__name__)

__all__ = ["IndexReport", "dense_layout", "merge_segments", "update_index"]


@dataclass(frozen=True)
class StoredDocument:
    """What a write plans against: a stored document's id, content hash and source."""

    doc_id: str
    sha256: str
    source: str


class StoredDocuments(Mapping[str, StoredDocument]):
    """The live documents' hashes and sources (no text is read)."""

    def __init__(self, snap: Snapshot | None) -> None:
        self._heads = {} if snap is None else snap.headers()

    def __getitem__(self, doc_id: str) -> StoredDocument:
        sha, source = self._heads[doc_id]
        return StoredDocument(doc_id, sha, source)

    def __iter__(self) -> Iterator[str]:
        return iter(self._heads)

    def __len__(self) -> int:
        return len(self._heads)


def dense_layout(settings: Settings) -> DenseLayout:
    i = settings.index
    return DenseLayout(i.hnsw_threshold, i.hnsw_m, i.hnsw_ef_construction, i.sentence_vectors_float16)


def update_index(
    settings: Settings,
    embedder: Embedder,
    *,
    upsert: Sequence[Article] = (),
    remove: Iterable[str] = (),
    prune_sources: Sequence[Path] = (),
    spare: Sequence[Path] = (),
    rebuild: bool = False,
    progress: bool = False,
) -> IndexReport:
    """Upsert articles, remove doc ids, and drop documents that vanished from ``prune_sources`` (``plan_changes``).

    Only new or changed documents are chunked and embedded; everything else keeps its rows, unless the index
    holds the other kind of chunk vectors (``chunk_vectors``): then every document is re-embedded from its stored
    text, so no document is lost to a setting change. The result is published atomically; a crash leaves the
    previous index live.
    """
    index_dir = settings.index.index_dir
    tokens = isinstance(embedder, TokenEmbedder)
    wanted = expected_manifest(settings, embedder.model_id, embedder.weights_sha256, embedder.dimension, tokens)
    with write_lock(index_dir):
        collect_garbage(index_dir)  # what a killed writer left behind
        snap, convert = (None, False) if rebuild else _open(index_dir, wanted)
        stored = StoredDocuments(snap)
        plan = plan_changes(stored, upsert=upsert, remove=remove, prune_sources=prune_sources, spare=spare,
                            convert=convert, load=lambda d: _record(snap, d))
        old = snap.manifest if snap is not None else None
        contents = IndexContents(sentence_tokens={} if tokens else None,
                                 first_chunk_id=old.next_chunk_id if old else 0,
                                 first_sentence_id=old.next_sentence_id if old else 0)
        report = plan.report
        report.embedded_chunks = len(add_articles(contents, plan.todo, settings, embedder, progress))
        removed_chunks = sum(snap.document_chunks(d) for d in plan.doomed) if snap is not None else 0
        report.total_chunks = (old.chunks if old else 0) - removed_chunks + len(contents.chunks)
        if not report.changed and not rebuild and (index_dir / "CURRENT").exists():
            return report
        manifest = replace(wanted, segments=_tombstoned(snap, plan.doomed) if snap is not None else [])
        kept = {d: s.sha256 for d, s in stored.items() if d not in plan.doomed} if snap is not None else {}
        manifest.documents = dict(sorted((kept | {d: r.sha256 for d, r in contents.documents.items()}).items()))
        manifest.chunks = report.total_chunks
        manifest.next_chunk_id = contents.next_chunk_id()
        manifest.next_sentence_id = contents.next_sentence_id()
        report.generation = publish(index_dir, manifest, contents, dense_layout(settings)).name
        merged = merge_segments(settings)
        report.generation = merged or report.generation
        if rebuild:  # the index was discarded, maybe for being damaged: keep nothing of it
            collect_garbage(index_dir, keep={report.generation}, newest=0)
        return report


def merge_segments(settings: Settings, policy: MergePolicy | None = None) -> str | None:
    """Merge segments while the policy asks for it, publishing each merge; the last generation published (None:
    no merge). Call under ``write_lock``."""
    index_dir = settings.index.index_dir
    policy = policy or MergePolicy.of(settings)
    name = None
    while True:
        snap = load_snapshot(index_dir)
        chunks = [len(s.chunk_ids) for s in snap.segments]
        live = [c - int(d.size) for c, d in zip(chunks, snap.chunk_rows.deleted, strict=True)]
        todo = policy.next_merge(chunks, live)
        if todo is None:
            return name
        start, end = todo
        contents = live_contents(snap, range(start, end))
        manifest = replace(snap.manifest, segments=snap.manifest.segments[:start] + snap.manifest.segments[end:])
        log.info("merging segments %d..%d (%d live chunks)", start, end - 1, len(contents.chunks))
        name = publish(index_dir, manifest, contents, dense_layout(settings), position=start).name


def live_contents(snap: Snapshot, which: range) -> IndexContents:
    """The live rows of some of a generation's segments (vectors are views of the mapped files: not copied)."""
    import numpy as np

    out = IndexContents(sentence_tokens={} if snap.manifest.token_vectors else None)
    for k in which:
        seg, gone = snap.segments[k], snap.deleted_docs[k]
        for doc_id in seg.doc_ids:
            if doc_id in gone:
                continue
            rec = seg.document(doc_id)
            assert rec is not None
            out.documents[doc_id] = rec
        dead_c, dead_s = snap.chunk_rows.deleted[k], snap.sentence_rows.deleted[k]
        for row in np.setdiff1d(np.arange(len(seg.chunk_ids)), dead_c).tolist():
            c = seg.chunk(row)
            out.chunks[c.chunk_id] = c
            out.vectors[c.chunk_id] = seg.chunk_vectors[row]
        for row in np.setdiff1d(np.arange(len(seg.sentence_ids)), dead_s).tolist():
            x = seg.sentence(row)
            out.sentences[x.sent_id] = x
            out.sentence_vectors[x.sent_id] = seg.sentence_vectors[row]
            if out.sentence_tokens is not None and seg.tokens is not None:
                out.sentence_tokens[x.sent_id] = seg.tokens.row(row)
    return out


def _record(snap: Snapshot | None, doc_id: str) -> DocRecord:
    assert snap is not None
    return snap.documents[doc_id]


def _tombstoned(snap: Snapshot, doomed: set[str]) -> list[dict[str, object]]:
    """The live manifest's segments with the doomed documents added to the deletions of the segment holding each."""
    out = [dict(s, deleted=list(s.get("deleted", ()))) for s in snap.manifest.segments]
    for doc_id in sorted(doomed):
        k = snap.segment_of(doc_id)
        if k is not None:
            deleted = out[k]["deleted"]
            assert isinstance(deleted, list)
            deleted.append(doc_id)
    return out


def _open(index_dir: Path, wanted: Manifest) -> tuple[Snapshot | None, bool]:
    """The live generation (None when there is none), and whether this write converts it."""
    try:
        found = read_manifest(index_dir)
    except IndexNotFound:
        return None, False
    check_compatible(found, wanted)
    convert = converts(found, wanted)
    if convert:
        log.warning("the index holds %s chunk vectors and the settings want %s: this write re-embeds every "
                    "document (RAG_CHUNK_VECTORS)", found.chunk_vectors, wanted.chunk_vectors)
    return load_snapshot(index_dir), convert

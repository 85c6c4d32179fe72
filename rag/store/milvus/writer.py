"""Writes to the Milvus index: plan against the stored hashes, embed only what changed, switch each document.

Each document changes visibility at one row: its ``documents`` row names the content hash whose chunks and
sentences are live. An update writes the new version's parts, sentences and chunks first (under new ids), then
switches the ``documents`` row, then deletes the old version's rows; a delete removes the ``documents`` row first.
Readers keep only chunks whose hash matches their document's row, so a question never mixes two versions of a
document, and a writer stopped half-way leaves rows no reader uses (the next write of that document removes them).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.ingest.chunking import with_header
from rag.protocols import TokenEmbedder
from rag.store.compat import check_compatible, converts, expected_manifest
from rag.store.contents import IndexContents
from rag.store.docstore import DocRecord
from rag.store.encoding import add_articles
from rag.store.milvus import records, terms
from rag.store.milvus.collections import Names, create_all, exists, in_list, quote
from rag.store.milvus.reader import MilvusReader
from rag.store.plan import IndexReport, plan_changes
from rag.types import Article, Chunk, Sentence

if TYPE_CHECKING:
    from pymilvus import MilvusClient

    from rag.protocols import Embedder
    from rag.settings import Settings
    from rag.store.manifest import Manifest

log = logging.getLogger(__name__)

#: Rows per insert call (sentence rows carry their token vectors: up to ~300 KB each).
_BATCH = 128


def update_milvus(
    settings: Settings,
    client: MilvusClient,
    embedder: Embedder,
    *,
    upsert: Sequence[Article] = (),
    remove: Iterable[str] = (),
    prune_sources: Sequence[Path] = (),
    spare: Sequence[Path] = (),
    rebuild: bool = False,
    progress: bool = False,
) -> IndexReport:
    """``rag.store.indexing.update_index`` for Milvus: the same plan and encoding, written row by row."""
    names = Names.of(settings.storage.milvus_prefix)
    tokens = isinstance(embedder, TokenEmbedder)
    wanted = expected_manifest(settings, embedder.model_id, embedder.weights_sha256, embedder.dimension, tokens)
    reader = MilvusReader(settings, client)
    fresh = rebuild or not exists(client, names)
    convert = False
    if fresh:
        create_all(client, names, settings, embedder.dimension)
        _put_meta(client, names, "manifest", wanted.to_json())
        documents: dict[str, DocRecord] = {}
    else:
        found = reader.manifest()
        check_compatible(found, wanted)
        convert = converts(found, wanted)
        if convert:
            log.warning("the Milvus index holds %s chunk vectors and the settings want %s: this write re-embeds every "
                        "document (RAG_CHUNK_VECTORS)", found.chunk_vectors, wanted.chunk_vectors)
        documents = reader.document_heads() if not convert else reader.documents()
    plan = plan_changes(documents, upsert=upsert, remove=remove, prune_sources=prune_sources, spare=spare,
                        convert=convert)
    report = plan.report
    contents = IndexContents(sentence_tokens={} if tokens else None)
    report.embedded_chunks = len(add_articles(contents, plan.todo, settings, embedder, progress))
    if report.changed or fresh:
        replaced = {a.doc_id for a in plan.todo}
        _hide(client, names, sorted(plan.doomed - replaced))
        _write(client, names, contents, settings.chunking.title_header)
        live = {d: r.sha256 for d, r in contents.documents.items()}
        added = [contents.documents[s.doc_id].text[s.start : s.end] for s in contents.sentences.values()]
        removed = [r["text"] for r in _stale_sentences(reader, names, live, sorted(plan.doomed))]
        terms.update(client, names, added, removed, consistency_level=settings.storage.milvus_consistency)
        _drop_stale(client, names, live, sorted(plan.doomed))
        if convert:
            _put_meta(client, names, "manifest", _stamped(wanted).to_json())
        report.generation = new_generation()
        _put_meta(client, names, "generation", report.generation)
    report.total_chunks = reader.count_chunks()
    return report


def new_generation() -> str:
    """A fresh generation name, sortable by time as the FAISS store's are."""
    return f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"


def _stamped(m: Manifest) -> Manifest:
    m.created_at = time.time()
    return m


def _put_meta(client: MilvusClient, names: Names, key: str, value: str) -> None:
    client.upsert(names.meta, [{"key": key, "value": value, "placeholder": records.PLACEHOLDER}])


def _hide(client: MilvusClient, names: Names, doc_ids: Sequence[str]) -> None:
    """Removed documents disappear at once (their rows are deleted after)."""
    for batch in _batches(doc_ids, 200):
        client.delete(names.documents, filter=in_list("doc_id", batch))


def _write(client: MilvusClient, names: Names, contents: IndexContents, title_header: bool) -> None:
    """Insert the new versions' parts, sentences and chunks (new ids), then switch their ``documents`` rows."""
    if not contents.documents:
        return
    docs = contents.documents
    _insert(client, names.doc_parts, [p for rec in docs.values() for p in records.document_parts(rec)])
    sentences_by_doc: dict[str, list[Sentence]] = {}
    for s in contents.sentences.values():
        sentences_by_doc.setdefault(s.doc_id, []).append(s)
    sent_rows: list[dict[str, Any]] = []
    position: dict[int, int] = {}
    new_sid: dict[int, int] = {}
    for doc_id, sents in sentences_by_doc.items():
        rec = docs[doc_id]
        for pos, s in enumerate(sorted(sents, key=lambda x: (x.start, x.end))):
            sid = records.stable_id(doc_id, rec.sha256, "s", s.start, s.end, bits=62)
            position[s.sent_id], new_sid[s.sent_id] = pos, sid
            toks = None if contents.sentence_tokens is None else contents.sentence_tokens[s.sent_id]
            sent_rows.append(records.sentence_row(Sentence(sid, doc_id, s.start, s.end), rec.sha256, pos,
                                                  rec.text[s.start : s.end], contents.sentence_vectors[s.sent_id],
                                                  toks))
    _insert(client, names.sentences, sent_rows)
    chunk_rows = []
    for c in contents.chunks.values():
        rec = docs[c.doc_id]
        inside = [position[s.sent_id] for s in sentences_by_doc.get(c.doc_id, [])
                  if c.start <= s.start < c.end and s.end <= c.end]
        cid = records.stable_id(c.doc_id, rec.sha256, "c", c.ordinal, c.kind)
        chunk = Chunk(cid, c.doc_id, c.ordinal, c.kind, c.text, c.start, c.end, c.n_tokens)
        chunk_rows.append(records.chunk_row(chunk, rec.sha256, with_header(rec.title if title_header else None,
                                                                            c.text), contents.vectors[c.chunk_id],
                                            min(inside, default=-1), max(inside, default=-1)))
    _insert(client, names.chunks, chunk_rows)
    heads = [records.document_row(rec, len(records.document_parts(rec))) for rec in docs.values()]
    _insert(client, names.documents, heads)


def _stale(live: dict[str, str], doomed: Sequence[str]) -> Iterable[str]:
    """Filters matching the rows of versions no ``documents`` row names: removed documents, and the old version of
    each updated one."""
    gone = [d for d in doomed if d not in live]
    for batch in _batches(gone, 200):
        yield in_list("doc_id", batch)
    for pairs in _batches(sorted(live.items()), 100):
        yield " or ".join(f"(doc_id == {quote(d)} and doc_sha != {quote(sha)})" for d, sha in pairs)


def _stale_sentences(reader: MilvusReader, names: Names, live: dict[str, str], doomed: Sequence[str]
                     ) -> list[dict[str, Any]]:
    return [r for where in _stale(live, doomed) for r in reader.all_rows(names.sentences, where, ["text"])]


def _drop_stale(client: MilvusClient, names: Names, live: dict[str, str], doomed: Sequence[str]) -> None:
    """Delete the rows of versions no ``documents`` row names."""
    for where in _stale(live, doomed):
        for coll in (names.chunks, names.sentences, names.doc_parts):
            client.delete(coll, filter=where)


def _insert(client: MilvusClient, collection: str, rows: list[dict[str, Any]]) -> None:
    """Upsert in batches: ids are stable, so writing a row again (a retried write) replaces it."""
    for batch in _batches(rows, _BATCH):
        client.upsert(collection, batch)


def _batches(items: Sequence[Any], n: int) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]


"""Reads from the Milvus index: the manifest and generation, the document catalog, and per question the candidate
chunks with their sentences, as a small in-memory snapshot the existing fusion, rerank and answerer run over."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.errors import IndexCorrupt, IndexNotFound
from rag.retrieval.lexical import query_terms
from rag.store.contents import IndexContents
from rag.store.docstore import DocRecord
from rag.store.manifest import Manifest
from rag.store.milvus import records, terms
from rag.store.milvus.collections import TOKEN_FIELDS, Names, exists, has_bm25, in_list, quote
from rag.store.milvus.terms import SentenceStats
from rag.types import Chunk, Sentence

if TYPE_CHECKING:
    import numpy as np
    from pymilvus import MilvusClient

    from rag.settings import Settings
    from rag.store.snapshot import Snapshot

_CHUNK_FIELDS = ["chunk_id", "doc_id", "doc_sha", "ordinal", "kind", "text", "start", "end", "n_tokens",
                 "first_sentence", "last_sentence"]
_SENTENCE_FIELDS = ["sent_id", "doc_id", "doc_sha", "position", "start", "end", "text", "sentence_vector",
                    *[f"tokens{i}" for i in range(TOKEN_FIELDS)]]
#: Rows per page when reading a whole collection.
_PAGE = 1000


@dataclass(frozen=True)
class Candidates:
    """One question's candidate chunks as a snapshot, with Milvus's BM25 score of each (in chunk-id order; None
    when the server has no BM25)."""

    snapshot: Snapshot
    bm25: np.ndarray | None
    #: The corpus's sentence statistics for the question's terms (``rag.store.milvus.terms``).
    sentence_stats: SentenceStats | None = None


class MilvusReader:
    """Reads one index (a collection prefix) at the configured consistency level."""

    def __init__(self, settings: Settings, client: MilvusClient) -> None:
        self.settings = settings
        self.client = client
        self.names = Names.of(settings.storage.milvus_prefix)
        self._read: dict[str, Any] = {"consistency_level": settings.storage.milvus_consistency}

    # -- index-wide facts ---------------------------------------------------------------------------------------

    def manifest(self) -> Manifest:
        """The stored manifest; ``IndexNotFound`` when there is no index under this prefix."""
        if not exists(self.client, self.names):
            s = self.settings.storage
            raise IndexNotFound(f"no index in Milvus at {s.milvus_uri} (collections {s.milvus_prefix}*): build one "
                                "with `rag index seeds/` and RAG_STORE=milvus")
        raw = self._meta("manifest")
        if raw is None:
            raise IndexCorrupt("the Milvus index has no manifest: rebuild it with `rag index --rebuild`")
        return Manifest.from_json(raw)

    def generation(self) -> str:
        """The name of the last write (empty before the first one finished)."""
        return self._meta("generation") or ""

    def bm25(self) -> bool:
        return has_bm25(self.client, self.names)

    def count_chunks(self) -> int:
        """Chunks stored (after a write: those of the live document versions)."""
        rows = self.client.query(self.names.chunks, filter="", output_fields=["count(*)"], **self._read)
        return int(rows[0]["count(*)"]) if rows else 0

    def _meta(self, key: str) -> str | None:
        rows = self.client.query(self.names.meta, filter=f"key == {quote(key)}", output_fields=["value"],
                                 **self._read)
        return str(rows[0]["value"]) if rows else None

    # -- documents ------------------------------------------------------------------------------------------------

    def heads(self) -> dict[str, dict[str, Any]]:
        """Every document row (id, hash, source, title, size), by id."""
        rows = self.all_rows(self.names.documents, "", ["doc_id", "sha256", "source", "title", "chars"])
        return {r["doc_id"]: r for r in rows}

    def document_heads(self) -> dict[str, DocRecord]:
        """Every document without its text: what a write plans by (hash and source)."""
        return {d: DocRecord(d, h["title"], h["sha256"], h["source"], None, "", 0, 0) for d, h in self.heads().items()}

    def documents(self, doc_ids: list[str] | None = None) -> dict[str, DocRecord]:
        """Full records of the live version of every document (or of these)."""
        heads = self.heads()
        wanted = sorted(heads if doc_ids is None else [d for d in doc_ids if d in heads])
        parts: dict[str, list[dict[str, Any]]] = {}
        for i in range(0, len(wanted), 200):
            batch = wanted[i : i + 200]
            fields = ["doc_id", "doc_sha", "part", "body"]
            for p in self.all_rows(self.names.doc_parts, in_list("doc_id", batch), fields):
                if p["doc_sha"] == heads[p["doc_id"]]["sha256"]:
                    parts.setdefault(p["doc_id"], []).append(p)
        return {d: records.record_of(d, heads[d]["sha256"], parts[d]) for d in wanted if d in parts}

    # -- snapshots ------------------------------------------------------------------------------------------------

    def catalog(self, manifest: Manifest, generation: str) -> Snapshot:
        """Documents (with their text) and chunks (without vectors) of the live versions: what the document routes
        list and read. No vectors, sentences or BM25 statistics: questions go to Milvus."""
        docs = self.documents()
        chunks = {c.chunk_id: c for c in self._live_chunks(docs)}
        manifest.documents = {d: r.sha256 for d, r in docs.items()}
        return view(manifest, generation, IndexContents(documents=docs, chunks=chunks), lexical=False)

    def candidates(self, question: str, qvec: np.ndarray, manifest: Manifest, generation: str) -> Candidates:
        """The top ``candidates`` chunks by cosine and by Milvus's BM25 (each pool member with both scores), their
        sentences and the sentence before each chunk's first, as a snapshot."""
        import numpy as np

        s = self.settings
        n = s.search.candidates
        bm25 = self.bm25_available
        rows: dict[int, dict[str, Any]] = {}
        lexical: dict[int, float] = {}
        params = {"metric_type": "IP", "params": dict(s.storage.milvus_search_params)}
        if s.search.retrieval != "bm25" or not bm25:
            hits = self.client.search(self.names.chunks, data=[[float(x) for x in qvec]], anns_field="vector",
                                      limit=n, search_params=params, output_fields=[*_CHUNK_FIELDS, "vector"],
                                      **self._read)[0]
            rows.update((int(h["id"]), h["entity"]) for h in hits)
        if bm25 and s.search.retrieval == "hybrid" and not rows:
            bm25 = False  # an empty collection (BM25 over no rows is undefined in Milvus: it fails)
        if bm25 and s.search.retrieval != "dense":
            hits = self._bm25(question, n, None)
            for h in hits:
                rows.setdefault(int(h["id"]), h["entity"])
                lexical[int(h["id"])] = abs(float(h["distance"]))  # a similarity; Milvus Lite 3 returns it negated
        if bm25 and s.search.retrieval == "hybrid":
            unscored = sorted(set(rows) - set(lexical))
            if unscored:
                for h in self._bm25(question, len(unscored), in_list("chunk_id", unscored)):
                    lexical[int(h["id"])] = abs(float(h["distance"]))
        missing = [cid for cid, r in rows.items() if "vector" not in r]
        if missing:  # BM25 hits do not carry vectors: fetch them
            for r in self.client.query(self.names.chunks, filter=in_list("chunk_id", missing),
                                       output_fields=["chunk_id", "vector"], **self._read):
                rows[int(r["chunk_id"])]["vector"] = r["vector"]
        for cid, r in rows.items():
            r["chunk_id"] = cid
        snap = self._snapshot(list(rows.values()), manifest, generation)
        scores = None
        if self.bm25_available:
            scores = np.array([lexical.get(cid, 0.0) for cid in sorted(snap.chunks)], dtype=np.float32)
        return Candidates(snap, scores, terms.read(self.client, self.names, query_terms(question), **self._read))

    def whole(self, manifest: Manifest, generation: str) -> Snapshot:
        """Every chunk and sentence of the live versions as one snapshot (the evaluation's citation judge reads the
        whole index; answering never does)."""
        rows = self.all_rows(self.names.chunks, "", [*_CHUNK_FIELDS, "vector"])
        return self._snapshot(rows, manifest, generation, every_sentence=True)

    @property
    def bm25_available(self) -> bool:
        cached = getattr(self, "_bm25_cached", None)
        if cached is None:
            cached = self.bm25()
            self._bm25_cached = cached
        return bool(cached)

    def _bm25(self, question: str, limit: int, where: str | None) -> list[Any]:
        kw: dict[str, Any] = {"filter": where} if where else {}
        return list(self.client.search(self.names.chunks, data=[question], anns_field="sparse", limit=limit,
                                       search_params={"metric_type": "BM25"}, output_fields=_CHUNK_FIELDS,
                                       **kw, **self._read)[0])

    def _live_chunks(self, docs: dict[str, DocRecord] | None = None) -> list[Chunk]:
        heads = {d: h["sha256"] for d, h in self.heads().items()} if docs is None else {
            d: r.sha256 for d, r in docs.items()}
        rows = self.all_rows(self.names.chunks, "", _CHUNK_FIELDS)
        return sorted((records.chunk_of(r) for r in rows if heads.get(r["doc_id"]) == r["doc_sha"]),
                      key=lambda c: c.chunk_id)

    def _snapshot(self, rows: list[dict[str, Any]], manifest: Manifest, generation: str, *,
                  every_sentence: bool = False) -> Snapshot:
        """Chunk rows of live document versions, with their documents' titles and their sentences, as a snapshot."""
        import numpy as np

        doc_ids = sorted({r["doc_id"] for r in rows})
        heads = {r["doc_id"]: r for r in self.client.query(
            self.names.documents, filter=in_list("doc_id", doc_ids), output_fields=["doc_id", "sha256", "title"],
            **self._read)} if doc_ids else {}
        rows = [r for r in rows if r["doc_id"] in heads and heads[r["doc_id"]]["sha256"] == r["doc_sha"]]
        chunks = {int(r["chunk_id"]): records.chunk_of(r) for r in rows}
        vectors = {int(r["chunk_id"]): np.asarray(r["vector"], dtype=np.float32) for r in rows}
        sent_rows = self._sentences(rows, heads, every_sentence)
        dim = manifest.dimension
        contents = IndexContents(chunks=chunks, vectors=vectors,
                                 sentence_tokens={} if manifest.token_vectors else None)
        for r in sent_rows:
            sid = int(r["sent_id"])
            contents.sentences[sid] = Sentence(sid, r["doc_id"], int(r["start"]), int(r["end"]))
            contents.sentence_vectors[sid] = np.asarray(r["sentence_vector"], dtype=np.float32)
            if contents.sentence_tokens is not None:
                contents.sentence_tokens[sid] = records.decode_tokens(r, dim)
        contents.documents = {
            d: DocRecord(d, h["title"], h["sha256"], "", None,
                         _sparse_text([(c.start, c.text) for c in chunks.values() if c.doc_id == d]
                                      + [(int(r["start"]), r["text"]) for r in sent_rows if r["doc_id"] == d]), 0, 0)
            for d, h in heads.items() if any(c.doc_id == d for c in chunks.values())}
        return view(manifest, generation, contents)

    def _sentences(self, rows: list[dict[str, Any]], heads: dict[str, dict[str, Any]], every: bool
                   ) -> list[dict[str, Any]]:
        """The sentences inside the chunks, and the one before each chunk's first (the rerank reads a sentence
        with the one before it)."""
        if every:
            found = self.all_rows(self.names.sentences, "", _SENTENCE_FIELDS)
            return [r for r in found if r["doc_id"] in heads and heads[r["doc_id"]]["sha256"] == r["doc_sha"]]
        spans: dict[str, list[tuple[int, int]]] = {}
        for r in rows:
            if int(r["first_sentence"]) >= 0:
                spans.setdefault(r["doc_id"], []).append((max(int(r["first_sentence"]) - 1, 0),
                                                          int(r["last_sentence"])))
        if not spans:
            return []
        clauses = []
        for doc_id, ranges in sorted(spans.items()):
            merged = _merge(ranges)
            inside = " or ".join(f"(position >= {a} and position <= {b})" for a, b in merged)
            clauses.append(f"(doc_id == {quote(doc_id)} and doc_sha == {quote(heads[doc_id]['sha256'])} "
                           f"and ({inside}))")
        return list(self.client.query(self.names.sentences, filter=" or ".join(clauses),
                                      output_fields=_SENTENCE_FIELDS, **self._read))

    def all_rows(self, collection: str, where: str, fields: list[str]) -> list[dict[str, Any]]:
        """Every row matching ``where`` (paged, so no result limit applies)."""
        it = self.client.query_iterator(collection, batch_size=_PAGE, filter=where, output_fields=fields,
                                        **self._read)
        out: list[dict[str, Any]] = []
        try:
            while True:
                page = it.next()
                if not page:
                    break
                out.extend(page)
        finally:
            it.close()
        return out


def view(manifest: Manifest, generation: str, contents: IndexContents, *, lexical: bool = True) -> Snapshot:
    """Rows read from Milvus as a snapshot of one in-memory segment (what the retrievers and answerers read)."""
    from dataclasses import replace

    from rag.store.segments import MemorySegment
    from rag.store.snapshot import Snapshot

    name = generation or "empty"
    seg = MemorySegment(contents, manifest.dimension, manifest.title_header, name, lexical=lexical)
    m = replace(manifest, generation=generation, chunks=len(contents.chunks),
                segments=[{"name": name, "chunks": len(contents.chunks), "sentences": len(contents.sentences),
                           "dense": "flat", "deleted": []}])
    return Snapshot(m, Path(name), [seg], [set()])


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping or touching integer ranges merged."""
    out: list[tuple[int, int]] = []
    for a, b in sorted(ranges):
        if out and a <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _sparse_text(spans: list[tuple[int, str]]) -> str:
    """A stand-in for a document's text that holds these spans at their offsets (spaces elsewhere): the candidate
    view reads sentence and chunk text by offset, and every span is a slice of the same text, so overlaps agree."""
    out: list[str] = []
    at = 0
    for start, text in sorted(spans):
        end = start + len(text)
        if start >= at:
            out.append(" " * (start - at))
            out.append(text)
            at = end
        elif end > at:
            out.append(text[at - start :])
            at = end
    return "".join(out)

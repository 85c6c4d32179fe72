"""Build and incrementally update the on-disk index."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rag.alignment import TokenStore
from rag.chunking import TokenChunker, with_header
from rag.compat import check_compatible, converts, expected_manifest
from rag.docstore import DocRecord
from rag.errors import DocumentNotFound, DuplicateDocument, IndexNotFound
from rag.pooling import pooled_chunk_vectors
from rag.protocols import TokenEmbedder
from rag.sentences import sentence_spans, skip_dateline
from rag.store import (
    all_vectors,
    collect_garbage,
    empty_vectors,
    load_snapshot,
    publish,
    read_manifest,
    write_lock,
)
from rag.types import Article, Chunk, Sentence

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    import faiss
    import numpy as np

    from rag.protocols import Embedder
    from rag.settings import Settings


@dataclass
class IndexReport:
    """What an indexing run did."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    converted: list[str] = field(default_factory=list)  # unchanged, re-embedded for another kind of chunk vectors
    embedded_chunks: int = 0
    total_chunks: int = 0
    generation: str = ""

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed or self.converted)

    def summary(self) -> str:
        converted = (f" (re-embedded {len(self.converted)} of them for the chunk_vectors setting)" if self.converted
                     else "")
        return (
            f"added {len(self.added)}, updated {len(self.updated)}, removed {len(self.removed)}, "
            f"unchanged {len(self.unchanged) + len(self.converted)}{converted}; {self.embedded_chunks} new chunks "
            f"embedded; index holds {self.total_chunks} chunks"
        )


def make_chunker(settings: Settings, embedder: Embedder) -> TokenChunker:
    """The chunker for these settings, bounded by the embedder's own window."""
    return TokenChunker(
        settings.chunk_tokens,
        settings.chunk_overlap,
        window=embedder.max_tokens,
        window_counter=embedder.count_tokens,
        index_faq=settings.index_faq,
        title_header=settings.title_header,
    )


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
    """Upsert articles, remove doc ids, and drop documents that vanished from ``prune_sources``.

    Vanished: under one of those folders and not upserted now, unless its source file is in ``spare`` (a file
    that is still there but could not be read this time keeps its earlier version).

    Only new or changed documents are chunked and embedded; everything else keeps its vectors, unless the index
    holds the other kind of chunk vectors (``chunk_vectors``): then every document is re-embedded from its stored
    text, so no document is lost to a setting change. The result is published atomically; a crash leaves the
    previous index live.
    """
    index_dir = settings.index_dir
    wanted = expected_manifest(settings, embedder.model_id, embedder.weights_sha256, embedder.dimension,
                               isinstance(embedder, TokenEmbedder))
    with write_lock(index_dir):
        collect_garbage(index_dir)  # what a killed writer left behind
        docs: dict[str, DocRecord] = {}
        chunks: dict[int, Chunk] = {}
        vectors: dict[int, np.ndarray] = {}
        sents: dict[int, Sentence] = {}
        sent_vecs: dict[int, np.ndarray] = {}
        sent_toks: dict[int, np.ndarray] | None = {} if isinstance(embedder, TokenEmbedder) else None
        convert = False
        if not rebuild:
            try:
                found = read_manifest(index_dir)
                check_compatible(found, wanted)
                convert = converts(found, wanted)
                if convert:
                    log.warning("the index holds %s chunk vectors and the settings want %s: this write re-embeds "
                                "every document (RAG_CHUNK_VECTORS)", found.chunk_vectors, wanted.chunk_vectors)
                snap = load_snapshot(index_dir)
                docs, chunks, vectors = dict(snap.documents), dict(snap.chunks), dict(all_vectors(snap.vectors))
                sents = dict(snap.sentences)
                sent_vecs = dict(zip(sorted(sents), snap.sentence_vectors, strict=True))
                if snap.sentence_tokens is not None:  # present exactly when this embedder gives token vectors
                    sent_toks = dict(zip(sorted(sents), snap.sentence_tokens.rows(), strict=True))
            except IndexNotFound:
                pass
        report = IndexReport()
        doomed = set(remove)
        missing = [d for d in doomed if d not in docs]
        if missing:
            raise DocumentNotFound(f"no document with id {missing[0]!r} in the index")
        incoming = {a.doc_id: a for a in upsert}
        roots = [p.resolve() for p in prune_sources]
        spared = {p.resolve() for p in spare}
        for doc_id, rec in docs.items():
            if (doc_id not in incoming and rec.source and _under(Path(rec.source), roots)
                    and Path(rec.source).resolve() not in spared):
                doomed.add(doc_id)
        todo: list[Article] = []
        for doc_id, art in incoming.items():
            old = docs.get(doc_id)
            if old is not None and _other_file(old.source, art.source):
                raise DuplicateDocument(
                    f"document id {doc_id!r} of {art.source} is already taken by {old.source}: the id is the path "
                    f"inside the folder indexed, so rename one of them or index the other folder into its own "
                    f"--index-dir")
            same = old is not None and old.sha256 == art.sha256
            if same and not convert:
                report.unchanged.append(doc_id)
                continue
            if same:
                report.converted.append(doc_id)
                doomed.add(doc_id)
            elif old is None:
                report.added.append(doc_id)
            else:
                report.updated.append(doc_id)
                doomed.add(doc_id)
            todo.append(art)
        if convert:  # documents kept as they are still need the new kind of vectors: re-read from the store
            for doc_id, rec in sorted(docs.items()):
                if doc_id not in incoming and doc_id not in doomed:
                    report.converted.append(doc_id)
                    doomed.add(doc_id)
                    todo.append(_article(rec))
        converting = set(report.converted)
        for doc_id in sorted(doomed):
            if doc_id not in incoming and doc_id not in converting:
                report.removed.append(doc_id)
            docs.pop(doc_id, None)
        for cid in [cid for cid, c in chunks.items() if c.doc_id in doomed]:
            chunks.pop(cid)
            vectors.pop(cid, None)
        for sid in [sid for sid, x in sents.items() if x.doc_id in doomed]:
            sents.pop(sid)
            sent_vecs.pop(sid, None)
            if sent_toks is not None:
                sent_toks.pop(sid, None)
        report.unchanged.extend(d for d in docs if d not in incoming and d not in report.unchanged)
        new_chunks = _chunk_all(make_chunker(settings, embedder), todo, start_id=max(chunks, default=-1) + 1)
        texts = {a.doc_id: a.text for a in todo}
        new_sents, members = _sentences_of(new_chunks, texts, max(sents, default=-1) + 1)
        if new_chunks:
            sent_texts = [texts[x.doc_id][x.start : x.end] for x in new_sents]
            if sent_toks is not None:
                assert isinstance(embedder, TokenEmbedder)
                fresh, toks = embedder.embed_with_tokens(sent_texts, progress=progress)
                sent_toks.update((x.sent_id, t) for x, t in zip(new_sents, toks, strict=True))
            else:
                fresh = embedder.embed(sent_texts, progress=progress)
            for x, v in zip(new_sents, fresh, strict=True):
                sents[x.sent_id] = x
                sent_vecs[x.sent_id] = v
            titles = {a.doc_id: a.title if settings.title_header else None for a in todo}
            pooled = settings.chunk_vectors == "pooled"
            made = (pooled_chunk_vectors(embedder, new_chunks, members, sent_texts, fresh, titles) if pooled
                    else embedder.embed([with_header(titles[c.doc_id], c.text) for c in new_chunks], progress=progress))
            for c, v in zip(new_chunks, made, strict=True):
                chunks[c.chunk_id] = c
                vectors[c.chunk_id] = v
        for art in todo:
            docs[art.doc_id] = _record(art)
        report.embedded_chunks = len(new_chunks)
        report.total_chunks = len(chunks)
        if not report.changed and not rebuild and (index_dir / "CURRENT").exists():
            return report
        wanted.documents = {d: r.sha256 for d, r in sorted(docs.items())}
        sent_matrix = _stack([sent_vecs[i] for i in sorted(sents)], embedder.dimension)
        # The manifest check guarantees token vectors for every kept sentence when the embedder gives them.
        tokens = (None if sent_toks is None
                  else TokenStore.from_rows([sent_toks[i] for i in sorted(sents)], embedder.dimension))
        final = publish(index_dir, wanted, docs, chunks, _to_faiss(embedder.dimension, vectors), sents, sent_matrix,
                        tokens)
        report.generation = final.name
        return report


def _chunk_all(chunker: TokenChunker, articles: Sequence[Article], start_id: int) -> list[Chunk]:
    from dataclasses import replace

    out: list[Chunk] = []
    for art in articles:
        for c in chunker.chunk(art):
            out.append(replace(c, chunk_id=start_id + len(out)))
    return out


def _sentences_of(chunks: Sequence[Chunk], texts: dict[str, str], start_id: int
                  ) -> tuple[list[Sentence], list[list[int]]]:
    """Unique sentence spans inside the chunks (overlapping chunks share sentences), datelines left out, and per
    chunk the positions of its sentences in that list."""
    seen: dict[tuple[str, int, int], int] = {}
    out: list[Sentence] = []
    members: list[list[int]] = []
    for c in chunks:
        text = texts[c.doc_id]
        mine: list[int] = []
        for s, e in sentence_spans(text, c.start, c.end):
            s = skip_dateline(text, s, e)
            if (c.doc_id, s, e) not in seen:
                seen[(c.doc_id, s, e)] = len(out)
                out.append(Sentence(start_id + len(out), c.doc_id, s, e))
            mine.append(seen[(c.doc_id, s, e)])
        members.append(mine)
    return out, members


def _stack(rows: list[np.ndarray], dimension: int) -> np.ndarray:
    import numpy as np

    if not rows:
        return np.zeros((0, dimension), dtype=np.float32)
    return np.ascontiguousarray(np.stack(rows), dtype=np.float32)


def _article(r: DocRecord) -> Article:
    return Article(doc_id=r.doc_id, title=r.title, text=r.text, body_start=r.body_start, body_end=r.body_end,
                   sha256=r.sha256, source=r.source, date=r.date, faq=r.faq, disclaimer=r.disclaimer)


def _record(a: Article) -> DocRecord:
    return DocRecord(a.doc_id, a.title, a.sha256, a.source, a.date, a.text, a.body_start, a.body_end,
                     a.faq, a.disclaimer)


def _to_faiss(dimension: int, vectors: dict[int, np.ndarray]) -> faiss.Index:
    import numpy as np

    index = empty_vectors(dimension)
    if vectors:
        ids = np.fromiter(vectors.keys(), dtype=np.int64)
        mat = np.ascontiguousarray(np.stack([vectors[int(i)] for i in ids]), dtype=np.float32)
        index.add_with_ids(mat, ids)
    return index


def _other_file(old: str, new: str) -> bool:
    """Whether two sources are two different files that both exist (not one file moved, renamed or re-read)."""
    if not old or not new:
        return False
    a, b = Path(old), Path(new)
    try:
        return a.is_file() and b.is_file() and not a.samefile(b)
    except OSError:
        return False


def _under(path: Path, roots: Sequence[Path]) -> bool:
    path = path.resolve()
    return any(path == r or r in path.parents for r in roots)

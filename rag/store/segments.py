"""Immutable index segments read memory-mapped: the rows of the documents one write added
(``rag.store.segment_writing`` writes them and gives the layout).

Everything of a document sits in one segment. A segment never changes: deleting a document tombstones it in the
generation's manifest, and merging writes a new segment.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.errors import DamagedFile, guarded
from rag.retrieval.alignment import TokenStore
from rag.retrieval.postings import Terms
from rag.store.docstore import DocRecord, document_of
from rag.store.segment_writing import DOCSTORE, HNSW, META, segment_rows
from rag.types import Chunk, Sentence

if TYPE_CHECKING:
    import numpy as np

    from rag.store.contents import IndexContents

_RECENT = 4096  # rows a segment keeps after reading them


class Segment:
    """One segment opened for reading: arrays memory-mapped, rows' text and records read from SQLite on demand."""

    def __init__(self, folder: Path) -> None:
        import numpy as np

        self.path = folder
        self.name = folder.name
        self.meta: dict[str, Any] = guarded(META, lambda: _meta(folder / META))

        def arr(name: str) -> np.ndarray:
            file = f"{name}.npy"
            return guarded(file, lambda: np.load(folder / file, mmap_mode="r", allow_pickle=False))

        self.chunk_ids, self.sentence_ids = arr("chunk_ids"), arr("sentence_ids")
        self.chunk_vectors, self.sentence_vectors = arr("chunk_vectors"), arr("sentence_vectors")
        self.chunk_sentence_offsets, self.chunk_sentences = arr("chunk_sentence_offsets"), arr("chunk_sentences")
        self.previous, self.adjacent = arr("sentence_previous"), arr("sentence_adjacent")
        self.question = arr("sentence_question")
        self.tokens: TokenStore | None = None
        if self.meta["token_vectors"]:
            self.tokens = TokenStore(arr("sentence_tokens"), arr("sentence_token_offsets"))
        self.chunk_terms = Terms.load(folder, "chunk", by_term=True)
        self.sentence_terms = Terms.load(folder, "sentence", by_term=False)
        self.hnsw: Any = None
        if self.meta["dense"] == "hnsw":
            import faiss

            # Memory-mapped like the arrays: the graph's vectors stay file-backed pages, not a copy per process.
            flags = getattr(faiss, "IO_FLAG_MMAP_IFC", 0)
            self.hnsw = guarded(HNSW, lambda: faiss.read_index(str(folder / HNSW), flags))
        self._db = guarded(DOCSTORE, lambda: _open_docstore(folder / DOCSTORE))
        self._lock = threading.Lock()
        #: Rows read lately (an answer reads a sentence's text several times; rows never change).
        self._recent: OrderedDict[tuple[str, int], Any] = OrderedDict()
        self.doc_ids: list[str] = guarded(DOCSTORE, lambda: [
            r[0] for r in self._query("SELECT doc_id FROM documents ORDER BY doc_id")])
        self._check()

    def _check(self) -> None:
        m = self.meta
        ok = (len(self.chunk_ids) == m["chunks"] == len(self.chunk_vectors) == len(self.chunk_terms.lengths)
              and len(self.sentence_ids) == m["sentences"] == len(self.sentence_vectors) == len(self.previous)
              and len(self.chunk_sentence_offsets) == m["chunks"] + 1
              and (self.chunk_vectors.ndim == 2 and self.chunk_vectors.shape[1] == m["dimension"])
              and (self.tokens is None or _tokens_consistent(self.tokens, m["sentences"], m["dimension"])))
        if not ok:
            raise DamagedFile("", f"its files do not fit together ({m['chunks']} chunks, {m['sentences']} "
                              f"sentences in {META})")

    def _query(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def _row(self, kind: str, row: int, sql: str, key: int) -> Any:
        with self._lock:
            got = self._recent.get((kind, row))
            if got is not None:
                self._recent.move_to_end((kind, row))
                return got
            got = self._db.execute(sql, (key,)).fetchone()
            self._recent[(kind, row)] = got
            if len(self._recent) > _RECENT:
                self._recent.popitem(last=False)
            return got

    def close(self) -> None:
        self._db.close()

    def chunk(self, row: int) -> Chunk:
        return Chunk(*self._row("c", row, "SELECT * FROM chunks WHERE chunk_id = ?", int(self.chunk_ids[row])))

    def sentence(self, row: int) -> Sentence:
        return Sentence(*self._row("s", row, "SELECT * FROM sentences WHERE sent_id = ?",
                                   int(self.sentence_ids[row])))

    def sentence_text(self, row: int) -> str:
        got = self._row("t", row, 'SELECT substr(d.text, s.start + 1, s."end" - s.start) FROM sentences s '
                        "JOIN documents d ON d.doc_id = s.doc_id WHERE s.sent_id = ?", int(self.sentence_ids[row]))
        return str(got[0])

    def document(self, doc_id: str) -> DocRecord | None:
        got = self._query("SELECT * FROM documents WHERE doc_id = ?", (doc_id,))
        return document_of(got[0]) if got else None

    def title(self, doc_id: str) -> str | None:
        got = self._query("SELECT title FROM documents WHERE doc_id = ?", (doc_id,))
        return str(got[0][0]) if got else None

    def headers(self) -> Iterator[tuple[str, str, str]]:
        """(doc id, content hash, source) of every document."""
        for row in self._query("SELECT doc_id, sha256, source FROM documents"):
            yield row[0], row[1], row[2]

    def rows_of(self, doc_ids: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """The chunk rows and sentence rows of these documents."""
        import numpy as np

        chunk_ids: list[int] = []
        sent_ids: list[int] = []
        for at in range(0, len(doc_ids), 500):
            part = doc_ids[at : at + 500]
            marks = ",".join("?" * len(part))
            chunk_ids += [r[0] for r in self._query(f"SELECT chunk_id FROM chunks WHERE doc_id IN ({marks})",
                                                    tuple(part))]
            sent_ids += [r[0] for r in self._query(f"SELECT sent_id FROM sentences WHERE doc_id IN ({marks})",
                                                   tuple(part))]
        return (np.searchsorted(self.chunk_ids, np.sort(np.array(chunk_ids, dtype=np.int64))),
                np.searchsorted(self.sentence_ids, np.sort(np.array(sent_ids, dtype=np.int64))))

    def chunk_count(self, doc_id: str) -> int:
        return int(self._query("SELECT count(*) FROM chunks WHERE doc_id = ?", (doc_id,))[0][0])


class MemorySegment(Segment):
    """A segment held in memory, never written: the same rows and reads as ``Segment`` (the Milvus store answers
    each question from such a segment of its candidate chunks)."""

    def __init__(self, contents: IndexContents, dimension: int, title_header: bool, name: str, *,
                 lexical: bool = True) -> None:
        rows = segment_rows(contents, dimension, title_header, lexical=lexical)
        self.path, self.name, self.meta = Path(name), name, rows.meta
        a = rows.arrays
        self.chunk_ids, self.sentence_ids = a["chunk_ids"], a["sentence_ids"]
        self.chunk_vectors, self.sentence_vectors = a["chunk_vectors"], a["sentence_vectors"]
        self.chunk_sentence_offsets, self.chunk_sentences = a["chunk_sentence_offsets"], a["chunk_sentences"]
        self.previous, self.adjacent = a["sentence_previous"], a["sentence_adjacent"]
        self.question = a["sentence_question"]
        tokens = contents.sentence_tokens
        self.tokens = (None if tokens is None
                       else TokenStore.from_rows([tokens[s.sent_id] for s in rows.sentences], dimension))
        self.chunk_terms, self.sentence_terms = rows.chunk_terms, rows.sentence_terms
        self.hnsw = None
        self._documents = contents.documents
        self._chunks, self._sentences = rows.chunks, rows.sentences
        self.doc_ids = sorted(contents.documents)

    def close(self) -> None:
        pass

    def chunk(self, row: int) -> Chunk:
        return self._chunks[row]

    def sentence(self, row: int) -> Sentence:
        return self._sentences[row]

    def sentence_text(self, row: int) -> str:
        s = self._sentences[row]
        return self._documents[s.doc_id].text[s.start : s.end]

    def document(self, doc_id: str) -> DocRecord | None:
        return self._documents.get(doc_id)

    def title(self, doc_id: str) -> str | None:
        doc = self._documents.get(doc_id)
        return None if doc is None else doc.title

    def headers(self) -> Iterator[tuple[str, str, str]]:
        for doc_id, doc in self._documents.items():
            yield doc_id, doc.sha256, doc.source

    def rows_of(self, doc_ids: list[str]) -> tuple[np.ndarray, np.ndarray]:
        import numpy as np

        wanted = set(doc_ids)
        return (np.flatnonzero([c.doc_id in wanted for c in self._chunks]).astype(np.int64),
                np.flatnonzero([s.doc_id in wanted for s in self._sentences]).astype(np.int64))

    def chunk_count(self, doc_id: str) -> int:
        return sum(c.doc_id == doc_id for c in self._chunks)


def _tokens_consistent(tokens: TokenStore, sentences: int, dimension: int) -> bool:
    """Offsets start at 0 and end at the vector count; one slice per sentence; right width."""
    off, vec = tokens.offsets, tokens.vectors
    import numpy as np

    return (off.ndim == 1 and len(off) == sentences + 1 and int(off[0]) == 0 and bool(np.all(np.diff(off) >= 0))
            and int(off[-1]) == len(vec) and vec.ndim == 2 and vec.shape[1] == dimension)


def _meta(path: Path) -> dict[str, Any]:
    meta = json.loads(path.read_text())
    needed = {"chunks": int, "sentences": int, "documents": int, "dimension": int, "dense": str, "token_vectors": bool}
    if not isinstance(meta, dict) or any(not isinstance(meta.get(k), t) for k, t in needed.items()):
        raise ValueError("not a segment description")
    return meta


#: Document stores up to this size are checked page by page when opened; larger ones by their size alone.
QUICK_CHECK_BYTES = 64 * 2**20


def _open_docstore(path: Path) -> sqlite3.Connection:
    """The segment's document store, read-only and checked: page by page (SQLite's ``quick_check``) up to
    ``QUICK_CHECK_BYTES``, so a damaged page fails here and not mid-answer; a larger one (reading it whole would cost
    seconds at every start) must be as long as its header says, which catches a cut file."""
    size = path.stat().st_size
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    try:
        if size <= QUICK_CHECK_BYTES:
            verdict = db.execute("PRAGMA quick_check(1)").fetchone()
            if not verdict or verdict[0] != "ok":
                raise sqlite3.DatabaseError(f"quick_check: {verdict[0] if verdict else 'no answer'}")
        else:
            pages, page = db.execute("PRAGMA page_count").fetchone()[0], db.execute("PRAGMA page_size").fetchone()[0]
            if pages * page != size:
                raise sqlite3.DatabaseError(f"{size} bytes where its header says {pages * page}")
    except BaseException:
        db.close()
        raise
    return db


_OPEN: weakref.WeakValueDictionary[tuple[object, ...], Segment] = weakref.WeakValueDictionary()
_OPEN_LOCK = threading.Lock()


def open_segment(folder: Path) -> Segment:
    """The segment in ``folder``, opened once per process while something holds it (segments never change; files
    changed in place all the same, by hand or by a damaged disk, make it open afresh and be checked again)."""
    import os

    try:
        files = tuple(sorted((e.name, e.stat().st_ino, e.stat().st_size, e.stat().st_mtime_ns)
                             for e in os.scandir(folder)))
    except OSError:
        files = ()
    key = (str(folder.resolve()), files)
    with _OPEN_LOCK:
        seg = _OPEN.get(key)
        if seg is None:
            seg = Segment(folder)
            _OPEN[key] = seg
        return seg


def forget_open_segments() -> None:
    """Open every segment afresh on the next load."""
    with _OPEN_LOCK:
        _OPEN.clear()

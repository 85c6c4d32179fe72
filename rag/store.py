"""The index on disk: FAISS vectors, a SQLite document store and a manifest, swapped atomically.

Layout::

    index/
      CURRENT                 name of the live generation (replaced atomically)
      generations/<name>/     manifest.json, vectors.faiss, docstore.sqlite
      .lock                   held while writing

A new generation is written in full under a temporary name, fsynced, renamed into place, and only
then published by replacing ``CURRENT``. A crash at any point leaves the previous generation live.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import sqlite3
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.errors import IndexCorrupt, IndexNotFound
from rag.types import Chunk, FaqPair

if TYPE_CHECKING:
    import faiss
    import numpy as np

FORMAT_VERSION = 1
_MANIFEST, _VECTORS, _DOCSTORE = "manifest.json", "vectors.faiss", "docstore.sqlite"


@dataclass(frozen=True)
class DocRecord:
    """A document as stored: enough to show, cite and re-index it."""

    doc_id: str
    title: str
    sha256: str
    source: str
    date: str | None
    text: str
    body_start: int
    body_end: int
    faq: tuple[FaqPair, ...] = ()
    disclaimer: str | None = None


@dataclass
class Manifest:
    """Everything needed to refuse a wrong index and to update it incrementally."""

    model_id: str
    weights_sha256: str | None
    dimension: int
    tokenizer: str
    chunk_tokens: int
    chunk_overlap: int
    index_faq: bool
    normalized: bool = True
    metric: str = "inner_product"
    format_version: int = FORMAT_VERSION
    documents: dict[str, str] = field(default_factory=dict)
    chunks: int = 0
    created_at: float = 0.0
    generation: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, raw: str) -> Manifest:
        data = json.loads(raw)
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


@dataclass
class Snapshot:
    """One loaded, immutable generation of the index."""

    manifest: Manifest
    documents: dict[str, DocRecord]
    chunks: dict[int, Chunk]
    vectors: faiss.Index
    path: Path

    def chunk_order(self) -> list[Chunk]:
        """Chunks sorted by document and position (stable order for BM25 and listings)."""
        return sorted(self.chunks.values(), key=lambda c: (c.doc_id, c.kind != "body", c.ordinal))


def current_generation(index_dir: Path) -> Path | None:
    """The live generation's folder, or None when no index was published."""
    pointer = index_dir / "CURRENT"
    if not pointer.is_file():
        return None
    name = pointer.read_text().strip()
    path = index_dir / "generations" / name
    return path if path.is_dir() else None


def read_manifest(index_dir: Path) -> Manifest:
    """The live manifest; raises ``IndexNotFound`` when there is none."""
    gen = current_generation(index_dir)
    if gen is None:
        raise IndexNotFound(f"no index in {index_dir}: build one with `rag index seeds/`")
    try:
        return Manifest.from_json((gen / _MANIFEST).read_text())
    except (OSError, ValueError, TypeError) as e:
        raise IndexCorrupt(f"unreadable manifest in {gen}: {e}; rebuild with `rag index --rebuild`") from e


def load_snapshot(index_dir: Path) -> Snapshot:
    """Load the live generation fully into memory (later swaps never affect it)."""
    import faiss

    manifest = read_manifest(index_dir)
    gen = current_generation(index_dir)
    assert gen is not None
    try:
        vectors = faiss.read_index(str(gen / _VECTORS))
        documents, chunks = _read_docstore(gen / _DOCSTORE)
    except (RuntimeError, sqlite3.Error, OSError) as e:
        raise IndexCorrupt(f"unreadable index in {gen}: {e}; rebuild with `rag index --rebuild`") from e
    if vectors.ntotal != len(chunks) or manifest.chunks != len(chunks):
        raise IndexCorrupt(
            f"index in {gen} is inconsistent ({vectors.ntotal} vectors, {len(chunks)} chunks); "
            "rebuild with `rag index --rebuild`"
        )
    return Snapshot(manifest, documents, chunks, vectors, gen)


def empty_vectors(dimension: int) -> faiss.Index:
    """An exact inner-product index addressed by chunk id."""
    import faiss

    return faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))


def all_vectors(index: Any) -> dict[int, np.ndarray]:
    """Every stored vector keyed by its chunk id (``index`` is an ``IndexIDMap2``)."""
    import faiss

    if index.ntotal == 0:
        return {}
    ids = faiss.vector_to_array(index.id_map)
    mat = index.index.reconstruct_n(0, index.ntotal)
    return {int(i): mat[row] for row, i in enumerate(ids)}


@contextlib.contextmanager
def write_lock(index_dir: Path) -> Iterator[None]:
    """Serialise writers across processes (readers never wait)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".lock", "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def publish(
    index_dir: Path,
    manifest: Manifest,
    documents: dict[str, DocRecord],
    chunks: dict[int, Chunk],
    vectors: faiss.Index,
) -> Path:
    """Write a complete new generation and make it live atomically; call under ``write_lock``."""
    import faiss

    gens = index_dir / "generations"
    gens.mkdir(parents=True, exist_ok=True)
    name = f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
    tmp = gens / f".tmp-{name}"
    tmp.mkdir()
    manifest.generation = name
    manifest.chunks = len(chunks)
    manifest.created_at = time.time()
    faiss.write_index(vectors, str(tmp / _VECTORS))
    _write_docstore(tmp / _DOCSTORE, documents, chunks)
    (tmp / _MANIFEST).write_text(manifest.to_json())
    for f in tmp.iterdir():
        _fsync(f)
    final = gens / name
    os.replace(tmp, final)
    _fsync(gens)
    pointer_tmp = index_dir / f".CURRENT.{name}"
    pointer_tmp.write_text(name + "\n")
    _fsync(pointer_tmp)
    os.replace(pointer_tmp, index_dir / "CURRENT")
    _fsync(index_dir)
    collect_garbage(index_dir, keep={name})
    return final


def collect_garbage(index_dir: Path, keep: set[str] | None = None) -> None:
    """Drop unfinished writes and all but the newest two generations (readers hold theirs in memory)."""
    gens = index_dir / "generations"
    if not gens.is_dir():
        return
    live = current_generation(index_dir)
    keep = (keep or set()) | ({live.name} if live else set())
    for stale in gens.glob(".tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)
    for stale in index_dir.glob(".CURRENT.*"):
        stale.unlink(missing_ok=True)
    done = sorted((p for p in gens.iterdir() if not p.name.startswith(".")), key=lambda p: p.name)
    for old in done[:-2]:
        if old.name not in keep:
            shutil.rmtree(old, ignore_errors=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_SCHEMA = """
CREATE TABLE documents (
    doc_id TEXT PRIMARY KEY, title TEXT NOT NULL, sha256 TEXT NOT NULL, source TEXT NOT NULL,
    date TEXT, text TEXT NOT NULL, body_start INTEGER NOT NULL, body_end INTEGER NOT NULL,
    faq TEXT NOT NULL, disclaimer TEXT
);
CREATE TABLE chunks (
    chunk_id INTEGER PRIMARY KEY, doc_id TEXT NOT NULL REFERENCES documents(doc_id),
    ordinal INTEGER NOT NULL, kind TEXT NOT NULL, text TEXT NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, n_tokens INTEGER NOT NULL
);
CREATE INDEX chunks_doc ON chunks(doc_id);
"""


def _write_docstore(path: Path, documents: dict[str, DocRecord], chunks: dict[int, Chunk]) -> None:
    con = sqlite3.connect(path)
    try:
        con.executescript(_SCHEMA)
        con.executemany(
            "INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?,?)",
            [
                (d.doc_id, d.title, d.sha256, d.source, d.date, d.text, d.body_start, d.body_end,
                 json.dumps([[p.question, p.answer] for p in d.faq]), d.disclaimer)
                for d in documents.values()
            ],
        )
        con.executemany(
            "INSERT INTO chunks VALUES (?,?,?,?,?,?,?,?)",
            [(c.chunk_id, c.doc_id, c.ordinal, c.kind, c.text, c.start, c.end, c.n_tokens) for c in chunks.values()],
        )
        con.commit()
    finally:
        con.close()


def _read_docstore(path: Path) -> tuple[dict[str, DocRecord], dict[int, Chunk]]:
    if not path.is_file():
        raise OSError(f"missing {path.name}")
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        docs: dict[str, DocRecord] = {}
        for row in con.execute("SELECT * FROM documents"):
            faq: Any = tuple(FaqPair(q, a) for q, a in json.loads(row[8]))
            docs[row[0]] = DocRecord(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], faq, row[9])
        chunks = {
            row[0]: Chunk(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7])
            for row in con.execute("SELECT * FROM chunks ORDER BY chunk_id")
        }
    finally:
        con.close()
    return docs, chunks

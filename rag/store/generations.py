"""The index on disk: FAISS vectors, a SQLite document store and a manifest, swapped atomically.

Layout::

    index/
      CURRENT                 name of the live generation (replaced atomically)
      generations/<name>/     manifest.json, vectors.faiss, docstore.sqlite, sentence_vectors.npy,
                              sentence_tokens.npy + sentence_token_offsets.npy (token vectors)
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
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.errors import IndexCorrupt, IndexNotFound
from rag.retrieval.alignment import TokenStore
from rag.store.docstore import DocRecord, read_docstore, write_docstore
from rag.store.faults import crash_point
from rag.types import Chunk, Sentence

if TYPE_CHECKING:
    import faiss
    import numpy as np

FORMAT_VERSION = 3
_MANIFEST, _VECTORS, _DOCSTORE = "manifest.json", "vectors.faiss", "docstore.sqlite"
_SENTENCE_VECTORS = "sentence_vectors.npy"
# Content-token vectors of every sentence (float16) and each sentence's slice of them; absent when the
# embedder gives no token vectors.
_SENTENCE_TOKENS, _SENTENCE_TOKEN_OFFSETS = "sentence_tokens.npy", "sentence_token_offsets.npy"


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
    title_header: bool = False
    token_vectors: bool = False  # sentence token vectors stored (the embedder gives them)
    chunk_vectors: str = "encoded"  # "pooled" from the sentence vectors (rag.store.pooling); indexes before it encoded
    embedding_precision: str = "float32"  # the model's linear layers: "float32" or "int8" (RAG_EMBEDDING_PRECISION)
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
    sentences: dict[int, Sentence]
    sentence_vectors: np.ndarray  # row i belongs to the i-th smallest sentence id
    path: Path
    sentence_tokens: TokenStore | None = None  # rows as sentence_vectors


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
        where = "" if index_dir == Path("index") else f" --index-dir {index_dir}"
        raise IndexNotFound(f"no index in {index_dir}: build one with `rag index seeds/{where}`")
    try:
        return Manifest.from_json((gen / _MANIFEST).read_text())
    except (OSError, ValueError, TypeError) as e:
        raise IndexCorrupt(f"unreadable manifest in {gen}: {e}; rebuild with `rag index --rebuild`") from e


def load_snapshot(index_dir: Path) -> Snapshot:
    """Load the live generation fully into memory (later swaps never affect it)."""
    import sqlite3

    import faiss
    import numpy as np

    manifest = read_manifest(index_dir)
    gen = current_generation(index_dir)
    assert gen is not None
    try:
        vectors = faiss.read_index(str(gen / _VECTORS))
        documents, chunks, sentences = read_docstore(gen / _DOCSTORE)
        sentence_vectors = np.load(gen / _SENTENCE_VECTORS, allow_pickle=False)
        tokens = None
        if (gen / _SENTENCE_TOKENS).exists():
            tokens = TokenStore(np.load(gen / _SENTENCE_TOKENS, allow_pickle=False),
                                np.load(gen / _SENTENCE_TOKEN_OFFSETS, allow_pickle=False))
    except (RuntimeError, sqlite3.Error, OSError, ValueError) as e:
        raise IndexCorrupt(f"unreadable index in {gen}: {e}; rebuild with `rag index --rebuild`") from e
    if (vectors.ntotal != len(chunks) or manifest.chunks != len(chunks) or len(sentence_vectors) != len(sentences)
            or manifest.token_vectors != (tokens is not None)
            or (tokens is not None and not _tokens_consistent(tokens, len(sentences), manifest.dimension))):
        raise IndexCorrupt(
            f"index in {gen} is inconsistent ({vectors.ntotal} vectors, {len(chunks)} chunks, "
            f"{len(sentences)} sentences); rebuild with `rag index --rebuild`"
        )
    return Snapshot(manifest, documents, chunks, vectors, sentences, sentence_vectors, gen, tokens)


def _tokens_consistent(tokens: TokenStore, sentences: int, dimension: int) -> bool:
    """Offsets start at 0, never decrease and end at the vector count; one slice per sentence; right width."""
    import numpy as np

    off, vec = tokens.offsets, tokens.vectors
    return (off.ndim == 1 and len(off) == sentences + 1 and int(off[0]) == 0 and bool(np.all(np.diff(off) >= 0))
            and int(off[-1]) == len(vec) and vec.ndim == 2 and vec.shape[1] == dimension)


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
    sentences: dict[int, Sentence],
    sentence_vectors: np.ndarray,
    sentence_tokens: TokenStore | None = None,
) -> Path:
    """Write a complete new generation and make it live atomically; call under ``write_lock``."""
    import faiss
    import numpy as np

    gens = index_dir / "generations"
    gens.mkdir(parents=True, exist_ok=True)
    name = f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
    tmp = gens / f".tmp-{name}"
    tmp.mkdir()
    manifest.generation = name
    manifest.chunks = len(chunks)
    manifest.created_at = time.time()
    write_docstore(tmp / _DOCSTORE, documents, chunks, sentences)
    crash_point("chunks-written")
    faiss.write_index(vectors, str(tmp / _VECTORS))
    arrays = {_SENTENCE_VECTORS: np.ascontiguousarray(sentence_vectors, dtype=np.float32)}
    if sentence_tokens is not None:
        arrays |= {_SENTENCE_TOKENS: sentence_tokens.vectors, _SENTENCE_TOKEN_OFFSETS: sentence_tokens.offsets}
    for fname, arr in arrays.items():
        with open(tmp / fname, "wb") as fh:
            np.save(fh, arr, allow_pickle=False)
    (tmp / _MANIFEST).write_text(manifest.to_json())
    for f in tmp.iterdir():
        _fsync(f)
    crash_point("vectors-written")
    final = gens / name
    crash_point("before-rename")
    os.replace(tmp, final)
    _fsync(gens)
    crash_point("after-rename")
    pointer_tmp = index_dir / f".CURRENT.{name}"
    pointer_tmp.write_text(name + "\n")
    _fsync(pointer_tmp)
    crash_point("before-current")
    os.replace(pointer_tmp, index_dir / "CURRENT")
    _fsync(index_dir)
    crash_point("after-current")
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

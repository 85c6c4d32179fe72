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
from collections.abc import Callable, Iterator
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
    def from_json(cls, raw: str | bytes) -> Manifest:
        """Parse and type-check a manifest (unknown keys are ignored); raises ``pydantic.ValidationError``."""
        from pydantic import TypeAdapter

        return TypeAdapter(cls).validate_json(raw, strict=True)


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


def current_name(index_dir: Path) -> str | None:
    """The generation name ``CURRENT`` holds (not checked), or None when no index was published."""
    try:
        return (index_dir / "CURRENT").read_text(encoding="utf-8", errors="replace").strip()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None


def current_generation(index_dir: Path) -> Path | None:
    """The live generation's folder, or None when no index was published (or ``CURRENT`` names no generation)."""
    name = current_name(index_dir)
    if not name or not _is_generation_name(name):
        return None
    path = index_dir / "generations" / name
    return path if path.is_dir() else None


def _is_generation_name(name: str) -> bool:
    return not name.startswith(".") and "/" not in name and "\\" not in name and name.isprintable()


def rebuild_hint(index_dir: Path) -> str:
    """How to replace a damaged index (the folders it was built from are the user's to name)."""
    where = "" if index_dir == Path("index") else f" --index-dir {index_dir}"
    return f"rebuild it with `rag index --rebuild <your folders>{where}`"


def _damaged(index_dir: Path, what: str) -> IndexCorrupt:
    """The one-line error for a damaged index: what is wrong, and the fix."""
    return IndexCorrupt(" ".join(f"the index in {index_dir} is damaged: {what}; {rebuild_hint(index_dir)}".split()))


def live_generation(index_dir: Path) -> Path:
    """The live generation's folder; raises ``IndexNotFound`` when none was published and ``IndexCorrupt`` when
    ``CURRENT`` names a generation that is not there."""
    name = current_name(index_dir)
    if name is None:
        where = "" if index_dir == Path("index") else f" --index-dir {index_dir}"
        raise IndexNotFound(f"no index in {index_dir}: build one with `rag index seeds/{where}`")
    gen = current_generation(index_dir)
    if gen is None:
        shown = name[:80] + ("..." if len(name) > 80 else "")
        raise _damaged(index_dir, f"CURRENT names generation {shown!r}, which is not in generations/")
    return gen


def read_manifest(index_dir: Path) -> Manifest:
    """The live manifest; raises ``IndexNotFound`` when there is none, ``IndexCorrupt`` when it is unreadable."""
    from pydantic import ValidationError

    gen = live_generation(index_dir)
    path = gen / _MANIFEST
    try:
        return Manifest.from_json(path.read_bytes())
    except FileNotFoundError:
        raise _damaged(index_dir, f"generations/{gen.name} has no {_MANIFEST}") from None
    except OSError as e:
        raise _damaged(index_dir, f"generations/{gen.name}/{_MANIFEST} cannot be read ({e.strerror or e})") from None
    except ValidationError as e:
        first = e.errors()[0]
        field = ".".join(str(x) for x in first["loc"]) or "the file"
        raise _damaged(index_dir, f"generations/{gen.name}/{_MANIFEST} is garbled ({field}: {first['msg']})"
                       ) from None


def load_snapshot(index_dir: Path) -> Snapshot:
    """Load the live generation fully into memory (later swaps never affect it); raises ``IndexCorrupt`` naming the
    file that is missing, unreadable or inconsistent with the others."""
    import faiss
    import numpy as np

    manifest = read_manifest(index_dir)
    gen = live_generation(index_dir)

    def read(name: str, reader: Callable[[Path], Any]) -> Any:
        path = gen / name
        if not path.is_file():
            raise _damaged(index_dir, f"generations/{gen.name}/{name} is missing")
        try:
            return reader(path)
        except Exception as e:  # any failure to parse a file means the file is damaged: never a traceback
            # FAISS prefixes its reason with the C++ function and source line: keep the reason.
            why = " ".join(str(e).rsplit("Error: ", 1)[-1].split())[:160] or type(e).__name__
            raise _damaged(index_dir, f"generations/{gen.name}/{name} cannot be read ({why})") from e

    def array(path: Path) -> np.ndarray:
        return np.load(path, allow_pickle=False)

    vectors = read(_VECTORS, lambda path: faiss.read_index(str(path)))
    documents, chunks, sentences = read(_DOCSTORE, read_docstore)
    sentence_vectors = read(_SENTENCE_VECTORS, array)
    tokens = None
    if manifest.token_vectors or (gen / _SENTENCE_TOKENS).exists():
        tokens = TokenStore(read(_SENTENCE_TOKENS, array), read(_SENTENCE_TOKEN_OFFSETS, array))
    problem = _inconsistency(manifest, documents, chunks, vectors, sentences, sentence_vectors, tokens)
    if problem:
        raise _damaged(index_dir, f"generations/{gen.name} is inconsistent ({problem})")
    return Snapshot(manifest, documents, chunks, vectors, sentences, sentence_vectors, gen, tokens)


def _inconsistency(manifest: Manifest, documents: dict[str, DocRecord], chunks: dict[int, Chunk], vectors: Any,
                   sentences: dict[int, Sentence], sentence_vectors: Any, tokens: TokenStore | None) -> str:
    """What does not fit between a generation's files, or ``""``."""
    import faiss

    dim = manifest.dimension
    if manifest.chunks != len(chunks):
        return f"the manifest counts {manifest.chunks} chunks, {_DOCSTORE} holds {len(chunks)}"
    if getattr(vectors, "d", None) != dim or not hasattr(vectors, "id_map"):
        return f"{_VECTORS} is not an index of {dim}-dimensional vectors by chunk id"
    if vectors.ntotal != len(chunks) or set(faiss.vector_to_array(vectors.id_map).tolist()) != set(chunks):
        return f"{_VECTORS} holds {vectors.ntotal} vectors for other chunks than the {len(chunks)} in {_DOCSTORE}"
    if any(c.doc_id not in documents for c in chunks.values()) or any(
            s.doc_id not in documents for s in sentences.values()):
        return f"{_DOCSTORE} has chunks or sentences of documents it does not hold"
    if sentence_vectors.ndim != 2 or sentence_vectors.shape != (len(sentences), dim):
        return f"{_SENTENCE_VECTORS} has shape {sentence_vectors.shape}, not ({len(sentences)}, {dim})"
    if manifest.token_vectors != (tokens is not None):
        return f"the manifest says token_vectors={manifest.token_vectors}, the files say otherwise"
    if tokens is not None and not _tokens_consistent(tokens, len(sentences), dim):
        return f"{_SENTENCE_TOKENS} and {_SENTENCE_TOKEN_OFFSETS} do not fit the {len(sentences)} sentences"
    return ""


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


def collect_garbage(index_dir: Path, keep: set[str] | None = None, newest: int = 2) -> None:
    """Drop unfinished writes and all but the ``newest`` generations and ``keep`` (readers hold theirs in memory);
    call under ``write_lock``."""
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
    if live is not None:
        # Written after the live one yet not live: renamed into place by a writer killed before it replaced CURRENT
        # (writers hold the lock, so no write is under way), hence never published.
        born = live.stat().st_mtime_ns
        for unpublished in [p for p in done if p.name not in keep and p.stat().st_mtime_ns > born]:
            shutil.rmtree(unpublished, ignore_errors=True)
            done.remove(unpublished)
    for old in done[:-newest] if newest else done:
        if old.name not in keep:
            shutil.rmtree(old, ignore_errors=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

"""One published generation opened for reading: its segments memory-mapped, its rows addressed globally.

A global row is a segment's first row plus the row inside it; segments are listed oldest first and ids only grow,
so global rows follow chunk (and sentence) ids, as a single index of the same rows would. Rows of deleted documents
stay in their segment and are never returned. Nothing here copies a vector or a text into memory up front: readers
fetch the rows they need (``RowSpace.gather``) and the records they show (SQLite, per segment).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from rag.store.docstore import DocRecord
from rag.types import Chunk, Sentence

T = TypeVar("T")

if TYPE_CHECKING:
    import numpy as np

    from rag.store.manifest import Manifest
    from rag.store.segments import Segment


class RowSpace:
    """Global rows over segments of ``counts`` rows each, with some local rows deleted."""

    def __init__(self, counts: Sequence[int], deleted: Sequence[np.ndarray]) -> None:
        import numpy as np

        self.bases = np.concatenate([[0], np.cumsum(np.asarray(counts, dtype=np.int64))]).astype(np.int64)
        self.deleted = list(deleted)
        self.size = int(self.bases[-1])
        self.live = self.size - sum(int(d.size) for d in self.deleted)

    def locate(self, row: int) -> tuple[int, int]:
        import numpy as np

        k = int(np.searchsorted(self.bases, row, side="right")) - 1
        return k, row - int(self.bases[k])

    def split(self, rows: np.ndarray) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        """Per segment holding some of ``rows``: its index, the positions in ``rows``, and the local rows."""
        import numpy as np

        rows = np.asarray(rows, dtype=np.int64)
        if len(self.bases) == 2:  # one segment: no grouping needed
            if rows.size:
                yield 0, np.arange(rows.size), rows
            return
        which = np.searchsorted(self.bases, rows, side="right") - 1
        for k in np.unique(which).tolist():
            pos = np.flatnonzero(which == k)
            yield k, pos, rows[pos] - self.bases[k]

    def gather(self, rows: np.ndarray, parts: Sequence[Any]) -> np.ndarray:
        """The rows of per-segment arrays ``parts`` (memory-mapped), stacked in the order asked."""
        import numpy as np

        rows = np.asarray(rows, dtype=np.int64)
        if len(parts) == 1:
            return np.asarray(parts[0][rows])
        first = parts[0]
        out = np.zeros((rows.size, *first.shape[1:]), dtype=first.dtype)
        for k, pos, local in self.split(rows):
            out[pos] = parts[k][local]
        return out

    def live_mask(self) -> np.ndarray | None:
        """Which global rows are live (None: all)."""
        import numpy as np

        if self.live == self.size:
            return None
        mask = np.ones(self.size, dtype=bool)
        for base, gone in zip(self.bases[:-1], self.deleted, strict=True):
            mask[base + gone] = False
        return mask


class RowView:
    """``view[row]`` or ``view[rows]`` read through a function of the global rows."""

    def __init__(self, size: int, many: Callable[[np.ndarray], np.ndarray]) -> None:
        self._size = size
        self._many = many

    def __len__(self) -> int:
        return self._size

    def __getitem__(self, rows: Any) -> Any:
        import numpy as np

        if isinstance(rows, int | np.integer):
            return self._many(np.array([int(rows)], dtype=np.int64))[0]
        return self._many(np.asarray(rows, dtype=np.int64))


class ItemView:
    """``view[row]`` of one Python object per global row, each read on demand (texts, records)."""

    def __init__(self, size: int, one: Callable[[int], Any]) -> None:
        self._size = size
        self._one = one

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[Any]:
        return (self._one(i) for i in range(self._size))

    def __getitem__(self, row: int) -> Any:
        if not 0 <= row < self._size:
            raise IndexError(row)
        return self._one(int(row))


@dataclass
class Snapshot:
    """One loaded, immutable generation of the index (later swaps never affect it)."""

    manifest: Manifest
    path: Path
    segments: list[Segment]
    deleted_docs: list[set[str]]  # per segment
    chunk_rows: RowSpace = field(init=False)
    sentence_rows: RowSpace = field(init=False)

    def __post_init__(self) -> None:
        import numpy as np

        dc, ds = [], []
        for seg, gone in zip(self.segments, self.deleted_docs, strict=True):
            c, s = seg.rows_of(sorted(gone)) if gone else (np.zeros(0, np.int64), np.zeros(0, np.int64))
            dc.append(c)
            ds.append(s)
        self.chunk_rows = RowSpace([len(s.chunk_ids) for s in self.segments], dc)
        self.sentence_rows = RowSpace([len(s.sentence_ids) for s in self.segments], ds)
        self._doc_segment: dict[str, int] = {}
        for k, (seg, gone) in enumerate(zip(self.segments, self.deleted_docs, strict=True)):
            for d in seg.doc_ids:
                if d not in gone:
                    self._doc_segment[d] = k
        self._chunk_ids = _joined([s.chunk_ids for s in self.segments])
        self._sentence_ids = _joined([s.sentence_ids for s in self.segments])
        self.documents: PerDocument[DocRecord] = PerDocument(self, lambda seg, d: seg.document(d))
        self.chunks = ChunkMap(self)
        self.sentences = SentenceMap(self)
        self.titles: PerDocument[str] = PerDocument(self, lambda seg, d: seg.title(d))

    # --- chunks -------------------------------------------------------------------------------------------------
    def chunk(self, row: int) -> Chunk:
        k, local = self.chunk_rows.locate(row)
        return self.segments[k].chunk(local)

    def chunk_row(self, chunk_id: int) -> int:
        """The global row of a chunk id (-1: not in this generation)."""
        return _row_of(self._chunk_ids, chunk_id)

    def chunk_vectors(self, rows: np.ndarray) -> np.ndarray:
        return self.chunk_rows.gather(rows, [s.chunk_vectors for s in self.segments])

    def chunk_sentences(self, row: int) -> np.ndarray:
        """The global sentence rows of a chunk."""
        import numpy as np

        k, local = self.chunk_rows.locate(row)
        seg = self.segments[k]
        lo, hi = int(seg.chunk_sentence_offsets[local]), int(seg.chunk_sentence_offsets[local + 1])
        return np.asarray(seg.chunk_sentences[lo:hi], dtype=np.int64) + self.sentence_rows.bases[k]

    # --- sentences ----------------------------------------------------------------------------------------------
    def sentence(self, row: int) -> Sentence:
        k, local = self.sentence_rows.locate(row)
        return self.segments[k].sentence(local)

    def sentence_text(self, row: int) -> str:
        k, local = self.sentence_rows.locate(row)
        return self.segments[k].sentence_text(local)

    def sentence_row(self, sent_id: int) -> int:
        return _row_of(self._sentence_ids, sent_id)

    def sentence_vectors_of(self, rows: np.ndarray) -> np.ndarray:
        import numpy as np

        return self.sentence_rows.gather(rows, [s.sentence_vectors for s in self.segments]).astype(np.float32,
                                                                                                  copy=False)

    def previous(self, rows: np.ndarray) -> np.ndarray:
        """The global row of the sentence before each (-1: a document's first)."""
        import numpy as np

        rows = np.asarray(rows, dtype=np.int64)
        out = np.full(rows.size, -1, dtype=np.int64)
        for k, pos, local in self.sentence_rows.split(rows):
            p = np.asarray(self.segments[k].previous[local], dtype=np.int64)
            out[pos] = np.where(p >= 0, p + self.sentence_rows.bases[k], -1)
        return out

    def adjacent(self, rows: np.ndarray) -> np.ndarray:
        import numpy as np

        return self.sentence_rows.gather(rows, [s.adjacent for s in self.segments]).astype(np.float64)

    def is_question(self, rows: np.ndarray) -> np.ndarray:
        return self.sentence_rows.gather(rows, [s.question for s in self.segments])

    @property
    def token_vectors(self) -> bool:
        return bool(self.manifest.token_vectors)

    @property
    def sentence_tokens(self) -> SegmentedTokens | None:
        if not self.manifest.token_vectors:
            return None
        return SegmentedTokens(self)

    @property
    def sentence_vectors(self) -> RowView:
        return RowView(self.sentence_rows.size, self.sentence_vectors_of)

    @property
    def vectors(self) -> ChunkVectors:
        return ChunkVectors(self)

    def segment_of(self, doc_id: str) -> int | None:
        """The index of the segment holding a live document."""
        return self._doc_segment.get(doc_id)

    def document_chunks(self, doc_id: str) -> int:
        k = self._doc_segment.get(doc_id)
        return 0 if k is None else self.segments[k].chunk_count(doc_id)

    def headers(self) -> dict[str, tuple[str, str]]:
        """Every live document's content hash and source."""
        out: dict[str, tuple[str, str]] = {}
        for seg, gone in zip(self.segments, self.deleted_docs, strict=True):
            for doc_id, sha, source in seg.headers():
                if doc_id not in gone:
                    out[doc_id] = (sha, source)
        return out


def _joined(parts: list[np.ndarray]) -> np.ndarray:
    """The segments' id arrays end to end (a single one as it is: memory-mapped, not copied)."""
    import numpy as np

    if len(parts) == 1:
        return parts[0]
    return np.concatenate(parts) if parts else np.zeros(0, np.int64)


def _row_of(ids: np.ndarray, wanted: int) -> int:
    """The row of ``wanted`` in the ascending ``ids`` (-1: absent)."""
    import numpy as np

    i = int(np.searchsorted(ids, wanted))
    return i if i < len(ids) and int(ids[i]) == wanted else -1


class SegmentedTokens:
    """The content-token vectors of every sentence row (``rag.retrieval.alignment.TokenStore``'s reads)."""

    def __init__(self, snap: Snapshot) -> None:
        self._snap = snap

    def __len__(self) -> int:
        return self._snap.sentence_rows.size

    def row(self, i: int) -> np.ndarray:
        import numpy as np

        k, local = self._snap.sentence_rows.locate(i)
        store = self._snap.segments[k].tokens
        assert store is not None
        return np.asarray(store.row(local))

    @property
    def vectors(self) -> np.ndarray:  # the stored dtype, for inspection
        store = self._snap.segments[0].tokens if self._snap.segments else None
        assert store is not None
        return store.vectors

    def best(self, question: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """(pieces, rows): each question token's best cosine with each row's tokens (0 for a row without)."""
        import numpy as np

        rows = np.asarray(rows, dtype=np.int64)
        out = np.zeros((len(question), rows.size), dtype=np.float64)
        for k, pos, local in self._snap.sentence_rows.split(rows):
            store = self._snap.segments[k].tokens
            assert store is not None
            out[:, pos] = store.best(question, local)
        return out

    def coverage(self, question: np.ndarray, rows: Sequence[int] | np.ndarray) -> np.ndarray:
        import numpy as np

        rows = np.asarray(rows, dtype=np.int64)
        if not rows.size or not len(question):
            return np.zeros(rows.size, dtype=np.float64)
        return self.best(question, rows).mean(axis=0)


class ChunkVectors:
    """The live chunk vectors (``ntotal`` of them), read by id."""

    def __init__(self, snap: Snapshot) -> None:
        self._snap = snap
        self.ntotal = snap.chunk_rows.live

    def items(self) -> Iterator[tuple[int, np.ndarray]]:
        import numpy as np

        for cid in self._snap.chunks:
            yield cid, self._snap.chunk_vectors(np.array([self._snap.chunk_row(cid)]))[0]


class PerDocument(Mapping[str, T]):
    """One value per live document by id (its record, its title), read on demand from the segment holding it."""

    def __init__(self, snap: Snapshot, read: Callable[[Segment, str], T | None]) -> None:
        self._snap = snap
        self._read = read

    def __getitem__(self, doc_id: str) -> T:
        k = self._snap._doc_segment.get(doc_id)
        got = None if k is None else self._read(self._snap.segments[k], doc_id)
        if got is None:
            raise KeyError(doc_id)
        return got

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._snap._doc_segment

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._snap._doc_segment))

    def __len__(self) -> int:
        return len(self._snap._doc_segment)


class ChunkMap(Mapping[int, Chunk]):
    """The live chunks by id, ascending, each read on demand."""

    def __init__(self, snap: Snapshot) -> None:
        self._snap = snap

    def __getitem__(self, chunk_id: int) -> Chunk:
        row = self._snap.chunk_row(int(chunk_id))
        if row < 0 or not self._live(row):
            raise KeyError(chunk_id)
        return self._snap.chunk(row)

    def _live(self, row: int) -> bool:
        k, local = self._snap.chunk_rows.locate(row)
        gone = self._snap.chunk_rows.deleted[k]
        return not gone.size or local not in set(gone.tolist())

    def __iter__(self) -> Iterator[int]:
        mask = self._snap.chunk_rows.live_mask()
        ids = self._snap._chunk_ids
        return iter((ids if mask is None else ids[mask]).tolist())

    def __len__(self) -> int:
        return self._snap.chunk_rows.live


class SentenceMap(Mapping[int, Sentence]):
    """The live sentences by id, ascending, each read on demand."""

    def __init__(self, snap: Snapshot) -> None:
        self._snap = snap

    def __getitem__(self, sent_id: int) -> Sentence:
        row = self._snap.sentence_row(int(sent_id))
        if row < 0:
            raise KeyError(sent_id)
        return self._snap.sentence(row)

    def __iter__(self) -> Iterator[int]:
        mask = self._snap.sentence_rows.live_mask()
        ids = self._snap._sentence_ids
        return iter((ids if mask is None else ids[mask]).tolist())

    def __len__(self) -> int:
        return self._snap.sentence_rows.live

"""Per-sentence vectors and BM25, used to rerank chunks and to pick answer sentences."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rag.retrieval.alignment import TokenStore
from rag.retrieval.lexical import BM25Index

if TYPE_CHECKING:
    import numpy as np

    from rag.store.generations import Snapshot
    from rag.types import Chunk, Sentence


class SentenceIndex:
    """The sentences of an index generation, addressable by row and by the chunk holding them."""

    def __init__(self, snapshot: Snapshot) -> None:
        import numpy as np

        self.rows: list[Sentence] = [snapshot.sentences[i] for i in sorted(snapshot.sentences)]
        self.vectors: np.ndarray = snapshot.sentence_vectors
        #: Content-token vectors per row, for ``alignment`` (None when the index has none).
        tokens = snapshot.sentence_tokens
        self.tokens = None if tokens is None else TokenStore(tokens.vectors.astype(np.float32), tokens.offsets)
        docs = snapshot.documents
        self.texts = [docs[s.doc_id].text[s.start : s.end] for s in self.rows]
        self.is_question = np.array([t.rstrip("\"'”’) ").endswith("?") for t in self.texts], dtype=bool)
        self.lexical = BM25Index(self.texts, keep_terms=True)
        self._by_doc: dict[str, tuple[list[int], list[int]]] = {}
        #: The row of the sentence before each one in its document (-1 for a document's first).
        self.previous = np.full(len(self.rows), -1, dtype=np.int64)
        for row, s in sorted(enumerate(self.rows), key=lambda rs: (rs[1].doc_id, rs[1].start)):
            starts, rows = self._by_doc.setdefault(s.doc_id, ([], []))
            if rows:
                self.previous[row] = rows[-1]
            starts.append(s.start)
            rows.append(row)
        #: The cosine of each sentence's vector with the one before it's (0 for a document's first).
        has = self.previous >= 0
        self._adjacent = np.zeros(len(self.rows), dtype=np.float64)
        if has.any():
            v = self.vectors
            self._adjacent[has] = np.einsum("ij,ij->i", v[has], v[self.previous[has]])

    def rows_in(self, chunk: Chunk) -> list[int]:
        """Rows of the sentences lying inside a chunk's span."""
        starts, rows = self._by_doc.get(chunk.doc_id, ([], []))
        i = bisect.bisect_left(starts, chunk.start)
        out: list[int] = []
        while i < len(starts) and starts[i] < chunk.end:
            if self.rows[rows[i]].end <= chunk.end:
                out.append(rows[i])
            i += 1
        return out

    def coverage(self, question: str, rows: Sequence[int] | None = None) -> np.ndarray:
        """Per row (all rows by default), the share of the question's IDF mass the sentence holds with the
        sentence before it."""
        import numpy as np

        r = np.arange(len(self.rows)) if rows is None else np.asarray(rows, dtype=np.int64)
        return self.lexical.coverage(question, r, self.previous[r])

    def alignment(self, question_tokens: np.ndarray | None, rows: Sequence[int] | np.ndarray, *,
                  with_previous: bool = False) -> np.ndarray | None:
        """Per row, the soft coverage of the question's token vectors (``alignment``); None without tokens.

        ``with_previous``: each question token may be matched in the sentence or the one before it (the pair
        read as one passage, as ``coverage`` reads it).
        """
        if self.tokens is None or question_tokens is None:
            return None
        if not with_previous:
            return self.tokens.coverage(question_tokens, rows)
        import numpy as np

        rows = np.asarray(rows, dtype=np.int64)
        prev = self.previous[rows]
        both = np.unique(np.concatenate([rows, prev[prev >= 0]]))
        best = self.tokens.best(question_tokens, both)
        own = best[:, np.searchsorted(both, rows)]
        before = own.copy()  # a document's first sentence is read alone
        has = prev >= 0
        before[:, has] = best[:, np.searchsorted(both, prev[has])]
        return np.maximum(own, before).mean(axis=0) if len(own) else np.zeros(rows.size)

    def cosine_with_previous(self, cos: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Per row, the larger of its cosine (``cos``: the question's cosine with every row) and the cosine of the
        pair it forms with the sentence before it, read as the normalised sum of the two vectors: exact from the
        two cosines and the pair's own, so no vector is read at query time."""
        import numpy as np

        prev = self.previous[rows]
        has = prev >= 0
        out = cos[rows].astype(np.float64)
        pair = (cos[prev[has]] + out[has]) / np.sqrt(np.maximum(2.0 + 2.0 * self._adjacent[rows[has]], 1e-12))
        out[has] = np.maximum(out[has], pair)
        return out

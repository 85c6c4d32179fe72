"""Per-sentence vectors and BM25, used to rerank chunks and to pick answer sentences: read per row, on demand.

Nothing is scored over every sentence: a question's cosine, BM25 and term coverage are computed for the sentences
of its candidate chunks only (``rag.retrieval.hybrid.QueryScores``), from the generation's memory-mapped segments.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rag.retrieval.dense import row_products
from rag.retrieval.postings import SegmentedBM25, TermPart
from rag.store.snapshot import ItemView, RowView

if TYPE_CHECKING:
    import numpy as np

    from rag.store.snapshot import SegmentedTokens, Snapshot


class SentenceIndex:
    """The sentences of an index generation, addressable by global row."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        size = snapshot.sentence_rows.size
        #: Content-token vectors per row, for ``alignment`` (None when the index has none).
        self.tokens: SegmentedTokens | None = snapshot.sentence_tokens
        self.texts = ItemView(size, snapshot.sentence_text)
        self.rows = ItemView(size, snapshot.sentence)
        self.is_question = RowView(size, snapshot.is_question)
        #: The row of the sentence before each one in its document (-1 for a document's first).
        self.previous = RowView(size, snapshot.previous)
        self.vectors = RowView(size, snapshot.sentence_vectors_of)
        rs = snapshot.sentence_rows
        self.lexical = SegmentedBM25([TermPart(seg.sentence_terms, int(rs.bases[k]), rs.deleted[k])
                                      for k, seg in enumerate(snapshot.segments)])

    def cosines(self, qvec: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """The question's cosine with each row's vector."""
        import numpy as np

        rows = np.asarray(rows, dtype=np.int64)
        out = np.zeros(rows.size, dtype=np.float32)
        for k, pos, local in self.snapshot.sentence_rows.split(rows):
            out[pos] = row_products(self.snapshot.segments[k].sentence_vectors, local, qvec)
        return out

    def coverage(self, question: str | Sequence[str], rows: Sequence[int] | np.ndarray) -> np.ndarray:
        """Per row, the share of the question's IDF mass the sentence holds with the sentence before it
        (``question``: its text, or its BM25 terms)."""
        import numpy as np

        from rag.retrieval.lexical import query_terms

        terms = query_terms(question) if isinstance(question, str) else list(question)
        r = np.asarray(rows, dtype=np.int64)
        return self.lexical.coverage(terms, r, self.previous[r])

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

    def cosine_with_previous(self, cos: Any, rows: np.ndarray) -> np.ndarray:
        """Per row, the larger of its cosine (``cos``: the question's cosine by row) and the cosine of the pair it
        forms with the sentence before it, read as the normalised sum of the two vectors: exact from the two
        cosines and the pair's own, so no vector is read for the pair."""
        import numpy as np

        prev = self.previous[rows]
        has = prev >= 0
        out = cos[rows].astype(np.float64)
        adjacent = self.snapshot.adjacent(rows[has])
        pair = (cos[prev[has]] + out[has]) / np.sqrt(np.maximum(2.0 + 2.0 * adjacent, 1e-12))
        out[has] = np.maximum(out[has], pair)
        return out

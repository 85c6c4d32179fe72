"""BM25 over index segments: each segment keeps its own term counts; scores use the statistics of every live row.

A segment stores, per row, which terms it holds and how often (``Terms``: a CSR matrix, and for chunks the same
counts by term, CSC, to find the rows of a question's terms). Nothing in a segment depends on the rest of the index:
the IDF and average length are summed over the live rows of all segments when a question is scored, so a score
equals the score of one BM25 index built over the same rows (``rag.retrieval.lexical.BM25Index``: the Lucene IDF
and length normalisation of ``bm25s``, computed in the same precision and order).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

K1, B = 1.5, 0.75  # bm25s's defaults, as BM25Index uses them


def tokenize(texts: Sequence[str]) -> tuple[list[list[int]], dict[str, int]]:
    """Each text's term ids and the vocabulary, exactly as ``BM25Index`` tokenizes them."""
    import bm25s
    import Stemmer

    from rag.vocabulary import BM25_STOP_WORDS

    if not texts:
        return [], {}
    tokens = bm25s.tokenize(list(texts), stopwords=list(BM25_STOP_WORDS), stemmer=Stemmer.Stemmer("english"),
                            show_progress=False)
    return [list(r) for r in tokens.ids], dict(tokens.vocab)


@dataclass(frozen=True)
class Terms:
    """One segment's term counts: row ``i`` holds terms ``indices[indptr[i]:indptr[i+1]]`` with counts ``data``.

    ``by_term`` is the same matrix by term (offsets, rows, counts), kept for the rows a question's terms occur in.
    """

    vocab: dict[str, int]
    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray  # float32 term counts
    lengths: np.ndarray  # int32 terms per row, repeats included (BM25's document length)
    df: np.ndarray  # int32 rows holding each term
    by_term: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    @classmethod
    def build(cls, texts: Sequence[str], *, by_term: bool) -> Terms:
        import numpy as np

        ids, vocab = tokenize(texts)
        counts = [Counter(r) for r in ids]
        indptr = np.zeros(len(ids) + 1, dtype=np.int64)
        indptr[1:] = np.cumsum([len(c) for c in counts])
        indices = np.fromiter((t for c in counts for t in c), dtype=np.int32, count=int(indptr[-1]))
        data = np.fromiter((n for c in counts for n in c.values()), dtype=np.float32, count=int(indptr[-1]))
        lengths = np.array([len(r) for r in ids], dtype=np.int32)
        df = np.bincount(indices, minlength=len(vocab)).astype(np.int32)
        csc = None
        if by_term:
            import scipy.sparse as sp

            m = sp.csr_matrix((data, indices, indptr), shape=(len(ids), len(vocab))).tocsc()
            m.sort_indices()
            csc = (m.indptr.astype(np.int64), m.indices.astype(np.int32), m.data.astype(np.float32))
        return cls(vocab, indptr, indices, data, lengths, df, csc)

    def save(self, folder: Path, prefix: str) -> None:
        import numpy as np

        (folder / f"{prefix}_vocab.json").write_text(json.dumps(sorted(self.vocab, key=self.vocab.__getitem__)))
        arrays = {"indptr": self.indptr, "indices": self.indices, "data": self.data, "lengths": self.lengths,
                  "df": self.df}
        if self.by_term is not None:
            arrays |= dict(zip(("term_indptr", "term_rows", "term_data"), self.by_term, strict=True))
        for name, arr in arrays.items():
            np.save(folder / f"{prefix}_{name}.npy", arr, allow_pickle=False)

    @classmethod
    def load(cls, folder: Path, prefix: str, *, by_term: bool) -> Terms:
        import numpy as np

        from rag.errors import guarded

        def arr(name: str) -> np.ndarray:
            file = f"{prefix}_{name}.npy"
            return guarded(file, lambda: np.load(folder / file, mmap_mode="r", allow_pickle=False))

        words = guarded(f"{prefix}_vocab.json", lambda: json.loads((folder / f"{prefix}_vocab.json").read_text()))
        csc = None
        if by_term:
            csc = (arr("term_indptr"), arr("term_rows"), arr("term_data"))
        return cls({w: i for i, w in enumerate(words)}, arr("indptr"), arr("indices"), arr("data"), arr("lengths"),
                   arr("df"), csc)

    def row_terms(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(position in ``rows``, term id, count) of every term the rows hold."""
        import numpy as np

        starts, ends = self.indptr[rows], self.indptr[rows + 1]
        n = (ends - starts).astype(np.int64)
        owner = np.repeat(np.arange(rows.size), n)
        at = np.repeat(starts - np.concatenate([[0], np.cumsum(n)[:-1]]), n) + np.arange(int(n.sum()))
        return owner, np.asarray(self.indices[at]), np.asarray(self.data[at])


@dataclass
class TermPart:
    """One segment's ``Terms`` as part of the whole: its first global row and its deleted rows."""

    terms: Terms
    base: int
    deleted: np.ndarray  # local rows, ascending

    def __post_init__(self) -> None:
        import numpy as np

        self.deleted_df = np.zeros(0, dtype=np.int64)
        self.live = len(self.terms.lengths) - self.deleted.size
        self.live_length = int(np.asarray(self.terms.lengths, dtype=np.int64).sum())
        if self.deleted.size:
            _, ids, _ = self.terms.row_terms(self.deleted)
            self.deleted_df = np.bincount(ids, minlength=len(self.terms.vocab))
            self.live_length -= int(np.asarray(self.terms.lengths[self.deleted], dtype=np.int64).sum())

    def df(self, term: int) -> int:
        gone = int(self.deleted_df[term]) if self.deleted_df.size else 0
        return int(self.terms.df[term]) - gone


class SegmentedBM25:
    """BM25 scores of the rows of several segments (global row = part base + local row), with global statistics."""

    def __init__(self, parts: Sequence[TermPart]) -> None:
        import numpy as np

        self.parts = list(parts)
        self.rows = sum(len(p.terms.lengths) for p in self.parts)
        self.live = sum(p.live for p in self.parts)
        total = sum(p.live_length for p in self.parts)
        #: The average row length as ``bm25s`` computes it (a float64 mean of the lengths).
        self.avg_length = np.float64(total) / np.float64(self.live) if self.live else np.float64(0.0)

    def df(self, term: str) -> int:
        return sum(p.df(p.terms.vocab[term]) for p in self.parts if term in p.terms.vocab)

    def _idf32(self, df: int) -> np.float32:
        import numpy as np

        return np.float32(math.log(1 + (self.live - df + 0.5) / (df + 0.5)))

    def _tfc(self, tf: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        import numpy as np

        length = np.asarray(lengths, dtype=np.int64)
        return tf / (K1 * ((1 - B) + B * length / self.avg_length) + tf)

    def scores_all(self, terms: Sequence[str]) -> np.ndarray:
        """Every global row's score (deleted rows 0), summing the terms in order as ``bm25s`` does."""
        import numpy as np

        out = np.zeros(self.rows, dtype=np.float32)
        if not self.live:
            return out
        dfs = {t: self.df(t) for t in set(terms)}
        for t in terms:
            if not dfs[t]:
                continue
            idf = self._idf32(dfs[t])
            for p in self.parts:
                local = p.terms.vocab.get(t)
                if local is None or p.terms.by_term is None:
                    continue
                indptr, rows, data = p.terms.by_term
                lo, hi = int(indptr[local]), int(indptr[local + 1])
                r = np.asarray(rows[lo:hi], dtype=np.int64)
                tf = np.asarray(data[lo:hi], dtype=np.float32)
                contrib = (idf * self._tfc(tf, p.terms.lengths[r])).astype(np.float32)
                out[p.base + r] += contrib
        for p in self.parts:
            if p.deleted.size:
                out[p.base + p.deleted] = 0.0
        return out

    def _located(self, rows: np.ndarray) -> list[tuple[TermPart, np.ndarray, np.ndarray]]:
        """Per part: the part, the positions in ``rows`` it holds, and their local rows."""
        import numpy as np

        bases = np.array([p.base for p in self.parts], dtype=np.int64)
        which = np.searchsorted(bases, rows, side="right") - 1
        out = []
        for k in np.unique(which).tolist():
            pos = np.flatnonzero(which == k)
            out.append((self.parts[k], pos, rows[pos] - self.parts[k].base))
        return out

    def _counts(self, terms: Sequence[str], rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(rows x distinct terms) counts, and each row's length."""
        import numpy as np

        distinct = list(dict.fromkeys(terms))
        tf = np.zeros((rows.size, len(distinct)), dtype=np.float32)
        lengths = np.zeros(rows.size, dtype=np.int64)
        col = {t: j for j, t in enumerate(distinct)}
        for p, pos, local in self._located(rows):
            lengths[pos] = p.terms.lengths[local]
            owner, ids, counts = p.terms.row_terms(local)
            lookup = np.full(len(p.terms.vocab), -1, dtype=np.int64)
            for t, j in col.items():
                if t in p.terms.vocab:
                    lookup[p.terms.vocab[t]] = j
            if ids.size:
                j = lookup[ids]
                keep = j >= 0
                tf[pos[owner[keep]], j[keep]] = counts[keep]
        return tf, lengths

    def scores_rows(self, terms: Sequence[str], rows: np.ndarray) -> np.ndarray:
        """The scores of these global rows only (as ``scores_all(terms)[rows]``)."""
        import numpy as np

        rows = np.asarray(rows, dtype=np.int64)
        out = np.zeros(rows.size, dtype=np.float32)
        if not rows.size or not terms or not self.live:
            return out
        tf, lengths = self._counts(terms, rows)
        col = {t: j for j, t in enumerate(dict.fromkeys(terms))}
        dfs = {t: self.df(t) for t in col}
        for t in terms:
            if not dfs[t]:
                continue
            c = tf[:, col[t]]
            has = c > 0
            out[has] += (self._idf32(dfs[t]) * self._tfc(c[has], lengths[has])).astype(np.float32)
        return out

    def coverage(self, terms: Sequence[str], rows: np.ndarray, context: np.ndarray) -> np.ndarray:
        """Share of the terms' IDF mass each row holds, with the terms of its context row (-1: none); the terms
        counted once each, in vocabulary order (``BM25Index.coverage``)."""
        import numpy as np

        rows = np.asarray(rows, dtype=np.int64)
        out = np.zeros(rows.size, dtype=np.float64)
        if not rows.size or not self.live:
            return out
        present = [t for t in dict.fromkeys(terms) if self.df(t) > 0]
        if not present:
            return out
        present.sort(key=self._vocab_order)
        df = np.array([self.df(t) for t in present], dtype=np.int64)
        idf = np.log1p((self.live - df + 0.5) / (df + 0.5))
        c = np.asarray(context, dtype=np.int64)
        both = np.unique(np.concatenate([rows, c[c >= 0]]))
        tf, _ = self._counts(present, both)
        held_all = tf > 0
        held = held_all[np.searchsorted(both, rows)]
        has_ctx = c >= 0
        held[has_ctx] |= held_all[np.searchsorted(both, c[has_ctx])]
        return (held @ idf) / float(idf.sum())

    def _vocab_order(self, term: str) -> tuple[int, int]:
        for k, p in enumerate(self.parts):
            if term in p.terms.vocab:
                return k, p.terms.vocab[term]
        return len(self.parts), 0


class CorpusBM25(SegmentedBM25):
    """``SegmentedBM25`` over a few rows of a larger corpus, scored with the corpus's statistics: its row count,
    summed length and the document frequency of the terms in ``df`` (a term absent from ``df`` falls back to the
    rows' own)."""

    def __init__(self, parts: Sequence[TermPart], rows: int, length: int, df: dict[str, int]) -> None:
        import numpy as np

        super().__init__(parts)
        self._corpus_df = df
        if rows > 0:
            self.live = rows
            self.avg_length = np.float64(length) / np.float64(rows)

    def df(self, term: str) -> int:
        got = self._corpus_df.get(term)
        return super().df(term) if got is None else got

"""Hybrid retrieval: a dense and a BM25 candidate pool, fused, reranked by sentences, diversified."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rag.retrieval.dense import DenseIndex
from rag.retrieval.fusion import rrf_fusion, zscore_fusion
from rag.retrieval.lexical import query_terms
from rag.retrieval.mmr import mmr_order
from rag.retrieval.postings import SegmentedBM25, TermPart
from rag.store.snapshot import ItemView
from rag.types import Hit

if TYPE_CHECKING:
    import numpy as np

    from rag.retrieval.sentence_index import SentenceIndex
    from rag.settings import Settings
    from rag.store.snapshot import Snapshot


#: Scores passages against the current question (a cross-encoder bound to it).
CrossScorer = Callable[[list[str]], "np.ndarray"]


class LazyScores:
    """One question's score per sentence row, computed for the rows asked for (and remembered), never for all."""

    def __init__(self, compute: Callable[[np.ndarray], np.ndarray], dtype: str) -> None:
        self._compute = compute
        self._dtype = dtype
        self._known: dict[int, float] = {}

    def __getitem__(self, rows: Any) -> Any:
        import numpy as np

        one = isinstance(rows, int | np.integer)
        wanted = np.atleast_1d(np.asarray(rows, dtype=np.int64)).tolist()
        missing = [r for r in dict.fromkeys(wanted) if r not in self._known]
        if missing:
            self._known.update(zip(missing, self._compute(np.array(missing, dtype=np.int64)).tolist(), strict=True))
        out = np.array([self._known[r] for r in wanted], dtype=self._dtype)
        return out[0] if one else out


@dataclass(frozen=True)
class QueryScores:
    """Everything scored once per question and shared by retrieval and answering."""

    qvec: np.ndarray
    chunk_bm25: np.ndarray  # per chunk row
    sentence_bm25: LazyScores  # per sentence row, computed for the rows read
    sentence_cos: LazyScores
    sentence_coverage: LazyScores  # share of the question's IDF mass, with the sentence before
    qtokens: np.ndarray | None = None  # the question's content-token vectors (None: no token alignment)


class HybridRetriever:
    """Ranks chunks of one index generation for a question."""

    def __init__(self, snapshot: Snapshot, sentences: SentenceIndex, ef_search: int = 128) -> None:
        self.snapshot = snapshot
        rs = snapshot.chunk_rows
        #: Chunk by global row, read on demand.
        self.chunks = ItemView(rs.size, snapshot.chunk)
        self.live = rs.live
        self.lexical = SegmentedBM25([TermPart(seg.chunk_terms, int(rs.bases[k]), rs.deleted[k])
                                      for k, seg in enumerate(snapshot.segments)])
        self.dense = DenseIndex(snapshot, ef_search)
        self.sentences = sentences

    def row_of(self, chunk_id: int) -> int:
        """The row of a chunk of this generation."""
        return self.snapshot.chunk_row(chunk_id)

    def score(self, question: str, qvec: np.ndarray, qtokens: np.ndarray | None = None) -> QueryScores:
        """The question's chunk BM25 scores, and its sentence scores as rows are read (dense scores come from the
        pool)."""
        import numpy as np

        s = self.sentences
        terms = query_terms(question)
        chunk_bm25 = (self.lexical.scores_all(terms) if terms and self.live
                      else np.zeros(len(self.chunks), dtype=np.float32))
        return QueryScores(qvec, chunk_bm25,
                           LazyScores(lambda rows: s.lexical.scores_rows(terms, rows), "float32"),
                           LazyScores(lambda rows: s.cosines(qvec, rows), "float32"),
                           LazyScores(lambda rows: s.coverage(terms, rows), "float64"), qtokens)

    def search(self, qs: QueryScores, k: int, settings: Settings, cross: CrossScorer | None = None) -> list[Hit]:
        """Top-k hits with every signal's raw score and the fused/reranked score.

        ``cross`` (a cross-encoder, when configured) scores (question, chunk) pairs of the pool and joins
        the rerank fusion as one more standardised signal.
        """
        import numpy as np

        sr, rk = settings.search, settings.ranking
        n = self.live
        if n == 0:
            return []
        pool_n = min(sr.candidates, n)
        use_dense = sr.retrieval in ("hybrid", "dense")
        use_bm25 = sr.retrieval in ("hybrid", "bm25")
        pool: set[int] = set()
        dense_all = None
        if use_dense:
            top, dense_all = self.dense.search(qs.qvec, pool_n)
            pool.update(top.tolist())
        if use_bm25:
            lex = qs.chunk_bm25
            top = np.argpartition(-lex, pool_n - 1)[:pool_n]
            pool.update(int(i) for i in top if lex[i] > 0)
        rows = np.array(sorted(pool), dtype=np.int64)
        if rows.size == 0:
            return []
        dense, bm25 = self.dense.scores(qs.qvec, rows, dense_all), qs.chunk_bm25[rows]
        signals = [dense, bm25]
        weights = [sr.dense_weight if use_dense else 0.0, sr.bm25_weight if use_bm25 else 0.0]
        fused = zscore_fusion(signals, weights) if sr.fusion == "zscore" else rrf_fusion(signals, weights, sr.rrf_k)
        rerank = None
        final = fused
        if rk.rerank:
            window = rk.rerank_with_previous
            best_cos, best_lex, best_cover = self._best_sentence(rows, qs, with_previous=window)
            signals = [fused, best_cos, best_lex, best_cover]
            weights = [1.0, rk.rerank_dense_weight, rk.rerank_bm25_weight, rk.rerank_coverage_weight]
            if rk.rerank_alignment_weight > 0 and qs.qtokens is not None and self.sentences.tokens is not None:
                # Token vectors are the costliest signal to read, so (a cascade) only the best few chunks by the
                # other signals get it; the rest get the lowest value found, so it cannot lift them.
                top = np.argsort(-zscore_fusion(signals, weights), kind="stable")[
                    : max(rk.rerank_alignment_depth, k)]
                got = self._best_alignment(rows[top], qs, with_previous=window)
                aligned = np.full(rows.size, got.min() if got.size else 0.0)
                aligned[top] = got
                signals.append(aligned)
                weights.append(rk.rerank_alignment_weight)
            if cross is not None:
                signals.append(cross([self.chunks[r].text for r in rows]))
                weights.append(rk.cross_encoder_weight)
            rerank = zscore_fusion(signals, weights)
            final = rerank
        order = mmr_order(final, self.snapshot.chunk_vectors(rows), min(k, rows.size), sr.mmr_lambda)
        return [
            Hit(self.chunks[rows[i]], score=float(final[i]), dense=float(dense[i]),
                bm25=float(bm25[i]), fused=float(fused[i]),
                rerank=None if rerank is None else float(rerank[i]), rank=r)
            for r, i in enumerate(order, start=1)
        ]

    def sentence_rows(self, chunk_row: int) -> np.ndarray:
        """The sentence rows of the chunk in a row."""
        return self.snapshot.chunk_sentences(chunk_row)

    def _best_sentence(self, rows: np.ndarray, qs: QueryScores, *, with_previous: bool = False
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per chunk, its best sentence's cosine, BM25 and term coverage (each maximised on its own).

        ``with_previous``: a sentence's cosine is also read for the pair it forms with the sentence before it
        (the larger counts), as its term coverage always is: evidence often spans two sentences ("The king had
        three daughters. The youngest ...").
        """
        import numpy as np

        best = np.zeros((3, rows.size))
        per_chunk = [self.sentence_rows(int(r)) for r in rows]
        srows = np.concatenate(per_chunk) if per_chunk else np.zeros(0, dtype=np.int64)
        cos = (self.sentences.cosine_with_previous(qs.sentence_cos, srows) if with_previous
               else qs.sentence_cos[srows])
        per_sentence = np.stack([cos, qs.sentence_bm25[srows], qs.sentence_coverage[srows]])
        at = 0
        for j, chunk_rows in enumerate(per_chunk):
            if chunk_rows.size:
                best[:, j] = per_sentence[:, at : at + chunk_rows.size].max(axis=1)
            at += chunk_rows.size
        return best[0], best[1], best[2]

    def _best_alignment(self, rows: np.ndarray, qs: QueryScores, *, with_previous: bool = False) -> np.ndarray:
        """Per chunk, its best sentence's soft token coverage of the question (``rag.retrieval.alignment``); with the
        sentence before it when ``with_previous``."""
        import numpy as np

        per_chunk = [self.sentence_rows(int(r)) for r in rows]
        srows = np.unique(np.concatenate(per_chunk)) if per_chunk else np.zeros(0, dtype=np.int64)
        aligned = self.sentences.alignment(qs.qtokens, srows, with_previous=with_previous)
        at = dict(zip(srows.tolist(), (aligned if aligned is not None else np.zeros(srows.size)).tolist(),
                      strict=True))
        return np.array([max((at[s] for s in c.tolist()), default=0.0) for c in per_chunk])

"""Dense (FAISS) and lexical (BM25) retrievers and their fusion."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rag.types import Chunk, Hit

if TYPE_CHECKING:
    import numpy as np

    from rag.protocols import Embedder
    from rag.store import Snapshot


@dataclass(frozen=True)
class Scored:
    """A chunk id with one retriever's score."""

    chunk_id: int
    score: float


class DenseRetriever:
    """Exact inner-product search over normalised embeddings."""

    def __init__(self, snapshot: Snapshot, embedder: Embedder) -> None:
        self.snapshot = snapshot
        self.embedder = embedder

    def scores(self, question: str, n: int, qvec: np.ndarray | None = None) -> list[Scored]:
        """Top-n chunk ids by cosine similarity."""
        index = self.snapshot.vectors
        if index.ntotal == 0:
            return []
        q = self.embedder.embed([question]) if qvec is None else qvec.reshape(1, -1)
        dist, ids = index.search(q, min(n, index.ntotal))
        return [Scored(int(i), float(d)) for d, i in zip(dist[0], ids[0], strict=True) if i >= 0]


class BM25Retriever:
    """Okapi BM25 (``bm25s``) over stemmed, stopword-filtered chunk text."""

    def __init__(self, chunks: Sequence[Chunk]) -> None:
        import bm25s
        import Stemmer

        self._stemmer = Stemmer.Stemmer("english")
        self._ids = [c.chunk_id for c in chunks]
        self._bm25: Any = bm25s.BM25()
        if chunks:
            tokens = bm25s.tokenize([c.text for c in chunks], stopwords="en", stemmer=self._stemmer,
                                    show_progress=False)
            self._bm25.index(tokens, show_progress=False)

    def scores(self, question: str, n: int) -> list[Scored]:
        """Top-n chunk ids by BM25 score (only chunks sharing a term with the question)."""
        import bm25s

        if not self._ids:
            return []
        tokens = bm25s.tokenize([question], stopwords="en", stemmer=self._stemmer, show_progress=False,
                                return_ids=False)
        if not tokens or not tokens[0]:
            return []
        docs, scores = self._bm25.retrieve([tokens[0]], k=min(n, len(self._ids)), show_progress=False,
                                           n_threads=1)
        return [Scored(self._ids[int(d)], float(s)) for d, s in zip(docs[0], scores[0], strict=True) if s > 0]


def reciprocal_rank_fusion(
    runs: Sequence[Sequence[Scored]], weights: Sequence[float], k: int = 60
) -> dict[int, float]:
    """Weighted RRF: sum over runs of weight / (k + rank)."""
    fused: dict[int, float] = {}
    for run, w in zip(runs, weights, strict=True):
        for rank, s in enumerate(run, start=1):
            fused[s.chunk_id] = fused.get(s.chunk_id, 0.0) + w / (k + rank)
    return fused


def zscore_fusion(runs: Sequence[Sequence[Scored]], weights: Sequence[float]) -> dict[int, float]:
    """Weighted sum of per-run z-normalised scores; a chunk a run did not return gets that run's minimum."""
    import numpy as np

    fused: dict[int, float] = {}
    normed: list[dict[int, float]] = []
    floors: list[float] = []
    for run in runs:
        if not run:
            normed.append({})
            floors.append(0.0)
            continue
        vals = np.array([s.score for s in run], dtype=np.float64)
        mu, sd = float(vals.mean()), float(vals.std()) or 1.0
        normed.append({s.chunk_id: (s.score - mu) / sd for s in run})
        floors.append(float((vals.min() - mu) / sd))
    ids = {cid for n in normed for cid in n}
    for cid in ids:
        fused[cid] = sum(w * n.get(cid, f) for n, w, f in zip(normed, weights, floors, strict=True))
    return fused


def make_hits(
    snapshot: Snapshot,
    fused: dict[int, float],
    dense: Sequence[Scored],
    bm25: Sequence[Scored],
    k: int,
) -> list[Hit]:
    """Top-k hits carrying every retriever's score."""
    d = {s.chunk_id: s.score for s in dense}
    b = {s.chunk_id: s.score for s in bm25}
    order = sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
    return [
        Hit(snapshot.chunks[cid], score=f, dense=d.get(cid), bm25=b.get(cid), fused=f, rank=r)
        for r, (cid, f) in enumerate(order, start=1)
    ]

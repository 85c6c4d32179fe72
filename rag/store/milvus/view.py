"""A question's candidate chunks as a ``LoadedIndex``: the existing fusion, sentence rerank and answerers run over
it unchanged, with Milvus's own BM25 as the chunks' lexical score."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from rag.retrieval.hybrid import CrossScorer, HybridRetriever, QueryScores

if TYPE_CHECKING:
    import numpy as np

    from rag.retrieval.sentence_index import SentenceIndex
    from rag.settings import Settings
    from rag.store.snapshot import Snapshot
    from rag.types import Hit


class CandidateRetriever(HybridRetriever):
    """``HybridRetriever`` over one question's candidates.

    ``engine_bm25``: Milvus's BM25 score of each chunk (chunk-id order), which replaces the BM25 computed over
    the candidates alone (whose statistics would be the pool's, not the corpus's). None when the server has no
    BM25: the pool is then ranked dense-only (``dense_only``: the settings to rank with).
    """

    def __init__(self, snapshot: Snapshot, sentences: SentenceIndex, engine_bm25: np.ndarray | None,
                 dense_only: Settings | None = None) -> None:
        super().__init__(snapshot, sentences)
        self.engine_bm25 = engine_bm25
        self.dense_only = dense_only

    def score(self, question: str, qvec: np.ndarray, qtokens: np.ndarray | None = None) -> QueryScores:
        qs = super().score(question, qvec, qtokens)
        return qs if self.engine_bm25 is None else replace(qs, chunk_bm25=self.engine_bm25)

    def search(self, qs: QueryScores, k: int, settings: Settings, cross: CrossScorer | None = None) -> list[Hit]:
        if self.engine_bm25 is None and self.dense_only is not None and settings.search.retrieval != "dense":
            settings = self.dense_only
        return super().search(qs, k, settings, cross)

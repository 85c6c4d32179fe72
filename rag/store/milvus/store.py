"""The Milvus index store: ``IndexStore`` over ``RAG_MILVUS_URI``, connected on first use."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rag.store.compat import check_compatible

if TYPE_CHECKING:
    import numpy as np
    from pymilvus import MilvusClient

    from rag.protocols import Embedder
    from rag.retrieval.loaded import LoadedIndex
    from rag.settings import Settings
    from rag.store.manifest import Manifest
    from rag.store.milvus.reader import MilvusReader
    from rag.store.milvus.terms import SentenceStats
    from rag.store.milvus.view import CandidateRetriever
    from rag.store.plan import IndexReport
    from rag.store.snapshot import Snapshot
    from rag.types import Article

log = logging.getLogger(__name__)


class MilvusStore:
    """Writes go to Milvus row by row (``rag.store.milvus.writer``); a loaded index holds the document catalog, and
    each question reads its candidates from Milvus (``MilvusReader.candidates``)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._client: MilvusClient | None = None
        self._lock = threading.Lock()

    @property
    def client(self) -> MilvusClient:
        with self._lock:
            if self._client is None:
                from rag.store.milvus.collections import connect

                self._client = connect(self.settings)
            return self._client

    def reader(self) -> MilvusReader:
        from rag.store.milvus.reader import MilvusReader

        return MilvusReader(self.settings, self.client)

    def update(self, embedder: Embedder, *, upsert: Sequence[Article] = (), remove: Sequence[str] = (),
               prune_sources: Sequence[Path] = (), spare: Sequence[Path] = (), rebuild: bool = False,
               progress: bool = False) -> IndexReport:
        from rag.store.milvus.writer import update_milvus

        return update_milvus(self.settings, self.client, embedder, upsert=upsert, remove=remove,
                             prune_sources=prune_sources, spare=spare, rebuild=rebuild, progress=progress)

    def generation(self) -> str | None:
        from rag.store.milvus.collections import Names, exists

        if not exists(self.client, Names.of(self.settings.storage.milvus_prefix)):
            return None
        return self.reader().generation()

    def load(self, wanted: Callable[[], Manifest]) -> LoadedIndex:
        """The catalog of the live documents, with the hooks that read each question's candidates."""
        from rag.retrieval.loaded import LoadedIndex
        from rag.store.milvus.collections import NO_BM25

        reader = self.reader()
        manifest = reader.manifest()
        check_compatible(manifest, wanted())
        generation = reader.generation()
        catalog = reader.catalog(manifest, generation)
        notices = () if reader.bm25_available else (NO_BM25,)
        if notices:
            log.warning("%s", NO_BM25)
        dense_only = None if reader.bm25_available else self.settings.replace(retrieval="dense")

        def narrow(question: str, qvec: np.ndarray) -> LoadedIndex:
            found = reader.candidates(question, qvec, manifest, reader.generation())
            # A view narrows again for another question (a follow-up's second reading reads its own candidates).
            return _loaded(found.snapshot, found.bm25, dense_only, notices, narrow, found.sentence_stats)

        def whole() -> LoadedIndex:
            return _loaded(reader.whole(manifest, reader.generation()), None, dense_only, notices)

        return LoadedIndex(catalog, _retriever(_empty(manifest, generation), None, dense_only), catalog.titles,
                           narrow=narrow, whole=whole, notices=notices)

    def check(self) -> None:
        self.reader().manifest()

    def drop(self) -> None:
        """Delete every collection of this index (tests and evaluation runs clean up with it)."""
        from rag.store.milvus.collections import Names

        for name in Names.of(self.settings.storage.milvus_prefix).all():
            if self.client.has_collection(name):
                self.client.drop_collection(name)

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None


def _loaded(snap: Snapshot, bm25: np.ndarray | None, dense_only: Settings | None, notices: tuple[str, ...],
            narrow: Callable[[str, np.ndarray], LoadedIndex] | None = None, stats: SentenceStats | None = None
            ) -> LoadedIndex:
    from rag.retrieval.loaded import LoadedIndex

    return LoadedIndex(snap, _retriever(snap, bm25, dense_only, stats), snap.titles, narrow=narrow,
                       notices=notices)


def _retriever(snap: Snapshot, bm25: np.ndarray | None, dense_only: Settings | None,
               stats: SentenceStats | None = None) -> CandidateRetriever:
    from rag.retrieval.postings import CorpusBM25
    from rag.retrieval.sentence_index import SentenceIndex
    from rag.store.milvus.view import CandidateRetriever

    sentences = SentenceIndex(snap)
    if stats is not None:  # the candidates' sentences scored with the whole corpus's statistics
        sentences.lexical = CorpusBM25(sentences.lexical.parts, stats.rows, stats.length, stats.df)
    return CandidateRetriever(snap, sentences, bm25, dense_only)


def _empty(manifest: Manifest, generation: str) -> Snapshot:
    """A snapshot with nothing in it (the catalog's retriever: questions are answered from candidate views)."""
    from rag.store.contents import IndexContents
    from rag.store.milvus.reader import view

    return view(manifest, generation, IndexContents(), lexical=False)

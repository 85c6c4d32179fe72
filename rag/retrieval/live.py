"""The live index generation with the retrievers built over it: loaded once, checked against the settings, and
swapped whole when a newer generation is published (by this process or another)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rag.errors import RagError
from rag.retrieval.hybrid import HybridRetriever

if TYPE_CHECKING:
    from rag.settings import Settings
    from rag.store.manifest import Manifest
    from rag.store.snapshot import Snapshot

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadedIndex:
    """An index generation with the retrievers built over it (swapped as a whole)."""

    snapshot: Snapshot
    retriever: HybridRetriever
    titles: Mapping[str, str]


class LiveIndex:
    """The generation a pipeline answers from; safe to share between threads.

    ``expected``: the manifest an index must match (built from the embedder, so it loads the model).
    """

    def __init__(self, settings: Settings, expected: Callable[[], Manifest]) -> None:
        self.settings = settings
        self._expected = expected
        self._loaded: LoadedIndex | None = None
        self._lock = threading.RLock()
        self._checked = time.monotonic()  # when the index folder was last looked at for a newer generation
        self._refused = ""  # a generation that could not be loaded (built with other settings): not retried

    @property
    def loaded(self) -> LoadedIndex:
        """The live generation, loaded (and checked against the settings) on first use."""
        cur = self._loaded
        if cur is None:
            with self._lock:
                if self._loaded is None:
                    self._loaded = self._load()
                cur = self._loaded
        return cur

    @property
    def current(self) -> LoadedIndex | None:
        """The live generation if it is loaded already, without loading it."""
        return self._loaded

    def reload(self) -> None:
        """Swap in the newest published generation; requests in flight keep the old one."""
        fresh = self._load()
        with self._lock:
            self._loaded = fresh

    def refresh(self) -> None:
        """Swap in a generation another process published (``rag index`` beside a running server), looking at the
        index folder at most every ``index_watch_seconds``. It may load an index: call it from a worker thread."""
        cur = self._loaded
        live = None if cur is None else self._published_elsewhere(cur)
        if live is None:
            return
        with self._lock:
            if self._loaded is not cur:
                return
            try:
                self._loaded = self._load()
            except RagError as e:  # e.g. rebuilt with other settings: keep answering from what we have
                self._refused = live
                log.warning("not switching to index generation %s: %s", live, e.message)

    def _published_elsewhere(self, cur: LoadedIndex) -> str | None:
        """The name of the index folder's live generation when it is not the one loaded (nor one refused before)."""
        every, now = self.settings.index.index_watch_seconds, time.monotonic()
        if every <= 0 or now - self._checked < every:
            return None
        self._checked = now
        from rag.store.generations import current_generation

        live = current_generation(self.settings.index.index_dir)
        if live is None or live.name in (cur.snapshot.path.name, self._refused):
            return None
        return live.name

    def _load(self) -> LoadedIndex:
        from rag.retrieval.sentence_index import SentenceIndex
        from rag.store.compat import check_compatible
        from rag.store.generations import load_snapshot, read_manifest

        index_dir = self.settings.index.index_dir
        wanted = self._expected()  # loads the model first: its identity is part of what an index must match
        check_compatible(read_manifest(index_dir), wanted)
        snap = load_snapshot(index_dir)
        limit_blas_threads(self.settings.embedding.blas_threads)
        retriever = HybridRetriever(snap, SentenceIndex(snap), self.settings.index.hnsw_ef_search)
        return LoadedIndex(snap, retriever, snap.titles)


def limit_blas_threads(n: int) -> None:
    """Cap the BLAS pools loaded so far (numpy's, faiss's) for the rest of the process.

    Retrieval does small matrix-vector products; OpenBLAS's idle threads keep spinning afterwards and hold
    the cores the next query embedding needs (~100 ms per query on 2 cores, docs/performance.md).
    torch's own OpenMP pool is untouched, so batch embedding keeps its threads.
    """
    if n <= 0:
        return
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=n, user_api="blas")

"""The live index generation with the retrievers built over it: loaded once, checked against the settings, and
swapped whole when a newer generation is published (by this process or another)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from rag.errors import RagError
from rag.retrieval.loaded import LoadedIndex

if TYPE_CHECKING:
    from rag.settings import Settings
    from rag.store.generations import Manifest

log = logging.getLogger(__name__)


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
        from rag.store.backend import open_store

        self.store = open_store(settings)

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
        live = self.store.generation()
        if live is None or live in (cur.snapshot.path.name, self._refused):
            return None
        return live

    def _load(self) -> LoadedIndex:
        wanted = self._expected()  # loads the model first: its identity is part of what an index must match
        loaded = self.store.load(wanted)
        limit_blas_threads(self.settings.embedding.blas_threads)
        return loaded


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

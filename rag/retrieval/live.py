"""The live index generation with the retrievers built over it: loaded once, checked against the settings, and
swapped whole when a newer generation is published (by this process or another)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from rag.errors import RagError
from rag.retrieval.loaded import LoadedIndex

if TYPE_CHECKING:
    from rag.settings import Settings
    from rag.store.manifest import Manifest

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Failure:
    """A first load that failed: of which generation (``CURRENT``'s text), when, and why."""

    name: str | None
    at: float
    error: RagError


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
        # What CURRENT held when it could not be loaded (damaged, other settings), not retried; () for nothing
        self._refused: tuple[str | None, ...] = ()
        self._failed: _Failure | None = None  # the last failed first load, not retried for index_watch_seconds
        #: Why the index folder's live generation is not the one answered from (it failed to load), else None.
        self.problem: str | None = None
        from rag.store.backend import open_store

        self.store = open_store(settings)

    @property
    def loaded(self) -> LoadedIndex:
        """The live generation, loaded (and checked against the settings) on first use.

        While none could be loaded, the same error is raised again without reading the files until ``CURRENT``
        changes or ``index_watch_seconds`` pass, so that requests to a server over a damaged index stay cheap."""
        cur = self._loaded
        if cur is None:
            with self._lock:
                if self._loaded is None:
                    self._loaded = self._first_load()
                cur = self._loaded
        return cur

    def _first_load(self) -> LoadedIndex:
        name, now, failed = self.store.generation(), time.monotonic(), self._failed
        if failed is not None and failed.name == name and now - failed.at < self.settings.index.index_watch_seconds:
            raise failed.error
        try:
            loaded = self._load()
        except RagError as e:
            self._failed = _Failure(name, now, e)
            raise
        self._failed = None
        return loaded

    @property
    def current(self) -> LoadedIndex | None:
        """The live generation if it is loaded already, without loading it."""
        return self._loaded

    def reload(self) -> None:
        """Swap in the newest published generation; requests in flight keep the old one."""
        fresh = self._load()
        with self._lock:
            self._loaded, self.problem, self._failed = fresh, None, None

    def refresh(self) -> None:
        """Swap in a generation another process published (``rag index`` beside a running server), looking at the
        index folder at most every ``index_watch_seconds``. It may load an index: call it from a worker thread.

        A generation that cannot be loaded (damaged, ``CURRENT`` naming nothing, built with other settings) is not
        retried; the loaded one keeps answering and ``problem`` says why until another generation is published."""
        cur = self._loaded
        live = False if cur is None else self._published_elsewhere(cur)
        if live is False or cur is None:
            return
        with self._lock:
            if self._loaded is not cur:
                return
            try:
                self._loaded, self.problem = self._load(), None
            except Exception as e:  # keep answering from what we have, whatever went wrong
                message = e.message if isinstance(e, RagError) else f"{type(e).__name__}: {e}"
                self._refused = (live,)
                self.problem = (f"answering from generation {cur.snapshot.path.name}: the index folder's newest "
                                f"one cannot be used: {message}")
                log.warning("not switching to the index folder's newest generation: %s", message)

    def _published_elsewhere(self, cur: LoadedIndex) -> str | Literal[False] | None:
        """What ``CURRENT`` holds (None: no ``CURRENT``) when it is not the loaded generation nor one refused
        before; ``False`` when there is nothing to load."""
        every, now = self.settings.index.index_watch_seconds, time.monotonic()
        if every <= 0 or now - self._checked < every:
            return False
        self._checked = now
        live = self.store.generation()
        if live == cur.snapshot.path.name:
            self.problem, self._refused = None, ()  # CURRENT names the loaded generation again
            return False
        if (live,) == self._refused:
            return False
        return live

    def _load(self) -> LoadedIndex:
        loaded = self.store.load(self._expected)  # a missing or damaged index is reported before the model loads
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

"""Questions that arrive together are embedded together: one forward pass for several concurrent callers.

A question's embedding is one short forward pass whose cost is mostly fixed overhead, so eight questions in one
pass cost little more than one. Under concurrent requests, ``BatchingEmbedder`` hands small calls to one worker
thread, which runs them as one batch and gives each caller its own rows. While a batch runs, the next one
gathers; when the last batch held several callers (requests are arriving together), the worker also waits up to
``wait_s`` for more before it starts. A lone client never waits. Large calls (indexing) bypass the worker.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rag.protocols import TokenEmbedder

if TYPE_CHECKING:
    import numpy as np

    from rag.protocols import Embedder

#: How long after a batch of several callers the worker keeps waiting for company (seconds).
_BUSY_MEMORY_S = 0.25


@dataclass
class _Call:
    """One caller's texts, waiting for their rows."""

    texts: list[str]
    tokens: bool
    done: threading.Event = field(default_factory=threading.Event)
    vectors: np.ndarray | None = None
    token_vectors: list[np.ndarray] | None = None
    error: BaseException | None = None


class BatchingEmbedder:
    """An ``Embedder`` that runs concurrent small calls as one batch on a worker thread; thread-safe."""

    def __init__(self, inner: Embedder, wait_s: float, *, max_texts: int = 64, max_call_texts: int = 8) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.weights_sha256 = inner.weights_sha256
        self.dimension = inner.dimension
        self.max_tokens = inner.max_tokens
        self.wait_s = wait_s
        self.max_texts = max_texts
        self.max_call_texts = max_call_texts
        self._queue: queue.SimpleQueue[_Call | None] = queue.SimpleQueue()
        self._worker: threading.Thread | None = None
        self._lock = threading.Lock()
        self._busy_until = 0.0
        #: Batches run and the calls they held, for tests and benchmarks.
        self.batches = 0
        self.batched_calls = 0

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        """Unit-length rows for ``texts``, computed in a batch with other callers' texts when they are small."""
        if not texts or len(texts) > self.max_call_texts:
            return self.inner.embed(texts, progress=progress)
        vectors = self._submit(_Call(list(texts), tokens=False)).vectors
        assert vectors is not None
        return vectors

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """The wrapped model's token counts."""
        return self.inner.count_tokens(texts)

    def close(self) -> None:
        """Stop the worker thread (calls made later start a new one)."""
        with self._lock:
            worker, self._worker = self._worker, None
        if worker is not None:
            self._queue.put(None)
            worker.join(timeout=5)

    def _submit(self, call: _Call) -> _Call:
        self._ensure_worker()
        self._queue.put(call)
        while not call.done.wait(1.0):
            self._ensure_worker()  # closed or gone meanwhile: a new worker takes the queue over
        if call.error is not None:
            raise call.error
        return call

    def _ensure_worker(self) -> None:
        if self._worker is None or not self._worker.is_alive():
            with self._lock:
                if self._worker is None or not self._worker.is_alive():
                    self._worker = threading.Thread(target=self._run, name="embedding-batcher", daemon=True)
                    self._worker.start()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch, stop = self._gather(first)
            self._compute(batch)
            if stop:
                return

    def _gather(self, first: _Call) -> tuple[list[_Call], bool]:
        """The first call and every call that joins it: those already queued, and, while requests are arriving
        together, those that arrive within ``wait_s``."""
        batch, size = [first], len(first.texts)
        deadline = time.monotonic() + self.wait_s if time.monotonic() < self._busy_until else 0.0
        while size < self.max_texts:
            remaining = deadline - time.monotonic()
            try:
                call = self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
            if call is None:
                self._compute(batch)
                return [], True
            batch.append(call)
            size += len(call.texts)
        if len(batch) > 1:
            self._busy_until = time.monotonic() + _BUSY_MEMORY_S
        return batch, False

    def _compute(self, batch: list[_Call]) -> None:
        """One forward pass for the whole batch; when it fails, each call alone, so an error reaches only the
        caller whose texts caused it."""
        if not batch:
            return
        self.batches += 1
        self.batched_calls += len(batch)
        try:
            self._forward(batch)
        except Exception as e:
            if len(batch) == 1:
                batch[0].error = e
            else:
                for call in batch:
                    try:
                        self._forward([call])
                    except Exception as alone:
                        call.error = alone
        for call in batch:
            call.done.set()

    def _forward(self, batch: list[_Call]) -> None:
        texts = [t for call in batch for t in call.texts]
        tokens: list[np.ndarray] | None = None
        if any(call.tokens for call in batch) and isinstance(self.inner, TokenEmbedder):
            vectors, tokens = self.inner.embed_with_tokens(texts)
        else:
            vectors = self.inner.embed(texts)
        start = 0
        for call in batch:
            end = start + len(call.texts)
            call.vectors = vectors[start:end]
            call.token_vectors = None if tokens is None else tokens[start:end]
            start = end


class BatchingTokenEmbedder(BatchingEmbedder):
    """A ``BatchingEmbedder`` over a ``TokenEmbedder``: token vectors come from the same batched pass."""

    inner: TokenEmbedder

    def embed_with_tokens(self, texts: Sequence[str], *, progress: bool = False
                          ) -> tuple[np.ndarray, list[np.ndarray]]:
        """``embed`` plus each text's content-token vectors (``TokenEmbedder``)."""
        if not texts or len(texts) > self.max_call_texts:
            return self.inner.embed_with_tokens(texts, progress=progress)
        call = self._submit(_Call(list(texts), tokens=True))
        assert call.vectors is not None and call.token_vectors is not None
        return call.vectors, call.token_vectors


def batching(inner: Embedder, wait_ms: float, *, max_texts: int = 64) -> Embedder:
    """``inner`` wrapped in the batching embedder of its kind; ``inner`` itself when ``wait_ms`` is 0 (off)."""
    if wait_ms <= 0:
        return inner
    cls = BatchingTokenEmbedder if isinstance(inner, TokenEmbedder) else BatchingEmbedder
    return cls(inner, wait_ms / 1e3, max_texts=max_texts)

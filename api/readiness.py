"""Load the model and index once at startup, in the background, and say why the service is not ready."""

from __future__ import annotations

import asyncio
import logging

from starlette.concurrency import run_in_threadpool

from rag.errors import RagError
from rag.pipeline import Pipeline

log = logging.getLogger(__name__)

LOADING = "loading the embedding model and the index (and the local LLM, with RAG_LLM=local)"


class Readiness:
    """Tracks the warm-up; ``reason`` is None once the index is loaded and searchable."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self.reason: str | None = LOADING
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Begin loading in a worker thread so the server accepts /healthz at once."""
        self.task = asyncio.get_running_loop().create_task(self._warm_up())

    async def stop(self) -> None:
        """Wait for a warm-up still running (threads cannot be cancelled)."""
        if self.task is not None and not self.task.done():
            self.task.cancel()

    async def _warm_up(self) -> None:
        await run_in_threadpool(self._check_manifest)
        try:
            await run_in_threadpool(self._load)
            self.reason = None
            log.info("ready: %s", self.summary())
        except RagError as e:
            self.reason = e.message
            log.warning("not ready: %s", e.message)
        except Exception as e:  # a broken model or index must not kill the server: /readyz reports it
            self.reason = f"startup failed: {type(e).__name__}: {e}"
            log.exception("warm-up failed")

    def _check_manifest(self) -> None:
        # Cheap and model-free: report a missing index before the model has finished loading.
        try:
            self.pipeline.index.store.check()
        except RagError as e:
            self.reason = f"{e.message} ({LOADING})"

    def _load(self) -> None:
        if self.pipeline.current is None:
            self.pipeline.embedder.embed(["warm up"])  # first inference is slow; pay it now, not on a request
        self.pipeline.snapshot  # noqa: B018 - loads and checks the index
        self.pipeline.search("warm up", 1)
        s = self.pipeline.settings
        if s.answers_with_llm and s.generation.llm == "local":
            self.pipeline.models.llm  # noqa: B018 - starts the bundled model's server on 127.0.0.1

    async def check(self) -> str | None:
        """None when ready; otherwise why not (after the warm-up, retries so a later `rag index` is noticed)."""
        if self.task is not None and not self.task.done():
            return self.reason or LOADING
        if self.reason is not None:
            try:
                await run_in_threadpool(self._load)
                self.reason = None
            except RagError as e:
                self.reason = e.message
            except Exception as e:  # an index that cannot be loaded is "not ready", never a 500 from /readyz
                self.reason = f"the index cannot be loaded: {type(e).__name__}: {e}"
                log.exception("loading the index failed")
        return self.reason

    def summary(self) -> str:
        """Documents and chunks of the live index, and what it runs without."""
        snap = self.pipeline.snapshot
        notices = self.pipeline.loaded.notices
        return f"{len(snap.documents)} documents, {len(snap.chunks)} chunks" + "".join(f"; {n}" for n in notices)

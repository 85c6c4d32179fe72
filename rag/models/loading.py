"""The models a pipeline uses, each loaded once on first use and shared between threads: the embedder, the optional
cross-encoder, and the LLM client (with the bundled local model's server when ``RAG_LLM=local``)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from rag.errors import RagError

if TYPE_CHECKING:
    from rag.models.batching import BatchingEmbedder
    from rag.models.cross_encoder import CrossEncoderModel
    from rag.models.llm import ChatClient
    from rag.models.local_llm import LocalLLMServer
    from rag.protocols import Embedder
    from rag.settings import Settings


class Models:
    """The embedding model and the optional cross-encoder, loaded lazily (``ask --help`` never imports torch)."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self._embedder = embedder
        self._cross: CrossEncoderModel | None = None
        self._llm: ChatClient | None = None
        self._local: LocalLLMServer | None = None
        self._lock = threading.Lock()

    @property
    def embedder(self) -> Embedder:
        """The embedding model, loaded on first use."""
        if self._embedder is None:
            with self._lock:
                if self._embedder is None:
                    from rag.models.batching import batching
                    from rag.models.embedding import SentenceTransformerEmbedder

                    e = self.settings.embedding
                    model = SentenceTransformerEmbedder(e.embedding_model, device=e.embedding_device,
                                                        batch_size=e.embedding_batch_size,
                                                        precision=e.embedding_precision)
                    # int8 activations are quantised with one scale per forward pass, so a text's vector would
                    # depend on the questions batched with it: at int8 each question is embedded alone.
                    wait = 0 if e.embedding_precision == "int8" else e.embed_batch_wait_ms
                    self._embedder = batching(model, wait, max_texts=e.embedding_batch_size)
        return self._embedder

    @property
    def batcher(self) -> BatchingEmbedder | None:
        """The embedding batcher, once the model is loaded behind one (never triggers a load)."""
        from rag.models.batching import BatchingEmbedder

        return self._embedder if isinstance(self._embedder, BatchingEmbedder) else None

    @property
    def cross_encoder(self) -> CrossEncoderModel | None:
        """The cross-encoder when one is configured and the rerank runs (loaded on first use), else None."""
        r = self.settings.ranking
        if not r.cross_encoder or not r.rerank:
            return None
        if self._cross is None:
            with self._lock:
                if self._cross is None:
                    from rag.models.cross_encoder import load_cross_encoder

                    self._cross = load_cross_encoder(r.cross_encoder, self.settings.embedding.embedding_device)
        return self._cross

    @property
    def llm(self) -> ChatClient:
        """The LLM client: the bundled model's server on 127.0.0.1 (started on first use) with ``RAG_LLM=local``,
        else the server at ``RAG_LLM_BASE_URL``. Raises ``RagError`` when none is configured."""
        if self._llm is None:
            with self._lock:
                if self._llm is None:
                    self._llm = self._connect()
        return self._llm

    def _connect(self) -> ChatClient:
        from rag.models.llm import ChatClient

        g = self.settings.generation
        if g.llm == "local":
            from rag.models.local_llm import LOCAL_MODEL_NAME, LocalLLMConfig, LocalLLMServer

            self._local = LocalLLMServer(LocalLLMConfig(g.llm_threads, g.llm_context_tokens, g.llm_port))
            return ChatClient(self._local.url, LOCAL_MODEL_NAME, None, g.llm_timeout_s)
        if g.llm_base_url:
            return ChatClient(g.llm_base_url, g.llm_model, g.llm_api_key, g.llm_timeout_s)
        raise RagError("no LLM is configured: set RAG_LLM=local (the bundled model) or RAG_LLM_BASE_URL")

    @property
    def local_llm(self) -> LocalLLMServer | None:
        """The bundled model's server, once started."""
        return self._local

    def close(self) -> None:
        """Release the LLM client, stop the local model's server (after the last request) and the embedding
        batcher's thread."""
        with self._lock:
            llm, self._llm = self._llm, None
            local, self._local = self._local, None
        if self.batcher is not None:
            self.batcher.close()
        if llm is not None:
            llm.close()
        if local is not None:
            local.stop()

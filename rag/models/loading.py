"""The models a pipeline uses, each loaded once on first use and shared between threads."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rag.models.cross_encoder import CrossEncoderModel
    from rag.protocols import Embedder
    from rag.settings import Settings


class Models:
    """The embedding model and the optional cross-encoder, loaded lazily (``ask --help`` never imports torch)."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self._embedder = embedder
        self._cross: CrossEncoderModel | None = None
        self._lock = threading.Lock()

    @property
    def embedder(self) -> Embedder:
        """The embedding model, loaded on first use."""
        if self._embedder is None:
            with self._lock:
                if self._embedder is None:
                    from rag.models.embedding import SentenceTransformerEmbedder

                    e = self.settings.embedding
                    self._embedder = SentenceTransformerEmbedder(
                        e.embedding_model, device=e.embedding_device, batch_size=e.embedding_batch_size
                    )
        return self._embedder

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

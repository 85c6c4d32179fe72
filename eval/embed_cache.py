"""A memoising wrapper around the pipeline's embedder: the same vectors, each text embedded once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from rag.protocols import TokenEmbedder

if TYPE_CHECKING:
    from rag.protocols import Embedder


class CachingEmbedder:
    """An ``Embedder`` that remembers every text's vector.

    An eval asks hundreds of questions over the same few chunks, so ``answer()`` re-embeds the same
    candidate sentences again and again; caching them keeps a full run within its time budget without
    changing any vector. Latency measured through it is lower than in production (see ``hits``).
    """

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.weights_sha256 = inner.weights_sha256
        self.dimension = inner.dimension
        self.max_tokens = inner.max_tokens
        self._vectors: dict[str, np.ndarray] = {}
        self.hits = 0
        self.misses = 0

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        """Vectors for ``texts``; only texts never seen before reach the model (in one batch)."""
        todo = self._missing(texts, self._vectors)
        if todo:
            for text, vec in zip(todo, self.inner.embed(todo, progress=progress), strict=True):
                self._vectors[text] = vec
        return self._stacked(texts)

    def warm(self, texts: Sequence[str]) -> int:
        """Embed texts ahead of time in large batches (much faster than one at a time); returns how many."""
        before = self.misses
        self._embed_ahead(texts)
        return self.misses - before

    def _embed_ahead(self, texts: Sequence[str]) -> None:
        self.embed(texts)

    def _missing(self, texts: Sequence[str], known: dict[str, np.ndarray]) -> list[str]:
        """The texts not in ``known``, once each, counting hits and misses."""
        todo = list(dict.fromkeys(t for t in texts if t not in known))
        self.misses += len(todo)
        self.hits += len(texts) - len(todo)
        return todo

    def _stacked(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self._vectors[t] for t in texts]).astype(np.float32, copy=False)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """The wrapped model's token counts."""
        return self.inner.count_tokens(texts)


class CachingTokenEmbedder(CachingEmbedder):
    """A ``CachingEmbedder`` over a ``TokenEmbedder``: token vectors are remembered too."""

    inner: TokenEmbedder

    def __init__(self, inner: TokenEmbedder) -> None:
        super().__init__(inner)
        self._tokens: dict[str, np.ndarray] = {}

    def embed_with_tokens(self, texts: Sequence[str], *, progress: bool = False
                          ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Vectors and content-token vectors; only texts never seen with tokens reach the model."""
        todo = self._missing(texts, self._tokens)
        if todo:
            vecs, toks = self.inner.embed_with_tokens(todo, progress=progress)
            for text, vec, tok in zip(todo, vecs, toks, strict=True):
                self._vectors[text] = vec
                self._tokens[text] = tok
        return self._stacked(texts), [self._tokens[t] for t in texts]

    def _embed_ahead(self, texts: Sequence[str]) -> None:
        """Questions and sentences are what gets token vectors: warm them with their tokens."""
        self.embed_with_tokens(texts)


def caching(inner: Embedder) -> CachingEmbedder:
    """The memoising wrapper that keeps ``inner``'s capabilities (token vectors when it has them)."""
    return CachingTokenEmbedder(inner) if isinstance(inner, TokenEmbedder) else CachingEmbedder(inner)

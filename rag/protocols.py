"""One small Protocol per pipeline stage; implementations live in their own modules."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    import numpy as np

    from rag.types import Article, Chunk, Hit


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors and counts its own input window."""

    model_id: str
    weights_sha256: str | None
    dimension: int
    max_tokens: int

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray: ...

    def count_tokens(self, texts: Sequence[str]) -> list[int]: ...


@runtime_checkable
class TokenEmbedder(Embedder, Protocol):
    """An embedder that also returns each text's content-token vectors from the same forward pass."""

    def embed_with_tokens(self, texts: Sequence[str], *, progress: bool = False
                          ) -> tuple[np.ndarray, list[np.ndarray]]: ...


class Chunker(Protocol):
    """Splits an article into searchable chunks (``chunk_id`` is assigned by the store)."""

    def chunk(self, article: Article) -> list[Chunk]: ...


class Retriever(Protocol):
    """Ranks chunks for a question."""

    def search(self, question: str, k: int) -> list[Hit]: ...


class Answerer(Protocol):
    """Builds an answer text and citations from retrieved hits."""

    def answer(self, question: str, hits: Sequence[Hit]) -> tuple[str, list[int]]: ...

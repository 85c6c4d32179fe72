"""A tiny deterministic embedder for unit tests: hashed bag of words, L2-normalised."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

_WORD = re.compile(r"\w+")


class HashEmbedder:
    """Texts sharing words get similar vectors; the same text always gets the same vector."""

    def __init__(self, dimension: int = 64, max_tokens: int = 64, model_id: str = "fake-hash") -> None:
        self.model_id = model_id
        self.weights_sha256: str | None = "0" * 64
        self.dimension = dimension
        self.max_tokens = max_tokens
        self.calls = 0
        self.embedded = 0

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        self.calls += 1
        self.embedded += len(texts)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
                out[row, h % self.dimension] += 1.0 if (h >> 32) & 1 else -1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return out / norms

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Word pieces approximated as words and punctuation, plus [CLS] and [SEP]."""
        return [len(re.findall(r"\w+|[^\w\s]", t)) + 2 for t in texts]


class HashTokenEmbedder(HashEmbedder):
    """``HashEmbedder`` plus token vectors: one hashed unit vector per content word (same word, same vector)."""

    def embed_with_tokens(self, texts: Sequence[str], *, progress: bool = False
                          ) -> tuple[np.ndarray, list[np.ndarray]]:
        from rag.retrieval.alignment import content_mask

        tokens: list[np.ndarray] = []
        for text in texts:
            words = _WORD.findall(text.lower())
            keep = [w for w, k in zip(words, content_mask(words), strict=True) if k]
            vecs = self.embed(keep) if keep else np.zeros((0, self.dimension), dtype=np.float32)
            tokens.append(vecs.astype(np.float16))
        return self.embed(texts), tokens

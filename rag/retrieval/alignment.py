"""Soft term coverage: how much of the question a sentence says, read off the model's own token vectors.

For each informative word piece of the question, the best cosine with any word piece of the sentence,
averaged over the question (BERTScore's recall, with the bi-encoder's contextual token vectors). It
credits paraphrases that exact-term coverage misses ("discovered" ~ "first proved") and, unlike the
pooled sentence cosine, is not inflated by a short sentence that merely names the topic.

Sentence token vectors are computed in the same forward pass as the sentence vectors at index time and
stored as float16 (content pieces only); the question's come from the query embedding's own pass, so
answering needs no extra model call.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rag.vocabulary import BM25_STOP_WORDS

if TYPE_CHECKING:
    import numpy as np

# A word piece with a letter or digit: punctuation pieces carry no content.
_WORDLIKE = re.compile(r"\w")


def content_mask(pieces: Sequence[str], specials: frozenset[str] = frozenset()) -> np.ndarray:
    """Which word pieces carry content: not special tokens, BM25's English stopwords or punctuation.

    Falls back to every non-special piece when none qualifies (a question of stopwords only).
    """
    import numpy as np

    stop = frozenset(BM25_STOP_WORDS)  # the words BM25 ignores: the question's terms are the same for both
    real = np.array([p not in specials for p in pieces], dtype=bool)
    keep = real & np.array([bool(_WORDLIKE.search(p)) and p.lower() not in stop for p in pieces], dtype=bool)
    return keep if keep.any() else real


@dataclass(frozen=True)
class TokenStore:
    """The content-token vectors of every sentence row, concatenated, with row offsets."""

    vectors: np.ndarray  # (tokens, dimension) unit rows: float16, memory-mapped; products are taken in float32
    offsets: np.ndarray  # (rows + 1,) int64: row i owns vectors[offsets[i]:offsets[i + 1]]

    @classmethod
    def from_rows(cls, rows: Sequence[np.ndarray], dimension: int) -> TokenStore:
        import numpy as np

        lengths = np.array([len(r) for r in rows], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        vectors = (np.concatenate(rows).astype(np.float16) if rows and int(offsets[-1])
                   else np.zeros((0, dimension), dtype=np.float16))
        return cls(np.ascontiguousarray(vectors), offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def row(self, i: int) -> np.ndarray:
        return self.vectors[self.offsets[i] : self.offsets[i + 1]]

    def rows(self) -> list[np.ndarray]:
        return [self.row(i) for i in range(len(self))]

    def coverage(self, question: np.ndarray, rows: Sequence[int] | np.ndarray) -> np.ndarray:
        """Per row, the mean over the question's token vectors of their best cosine with the row's tokens.

        ``question``: (pieces, dimension) unit rows. A row without tokens scores 0.
        """
        import numpy as np

        rows = np.asarray(rows, dtype=np.int64)
        if not rows.size or not len(question):
            return np.zeros(rows.size, dtype=np.float64)
        return self.best(question, rows).mean(axis=0)

    def best(self, question: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """(pieces, rows): each question token's best cosine with each row's tokens (0 for a row without)."""
        import numpy as np

        best = np.zeros((len(question), rows.size), dtype=np.float64)
        if not rows.size or not len(question):
            return best
        starts, ends = self.offsets[rows], self.offsets[rows + 1]
        filled = ends > starts
        if not filled.any():
            return best
        q = np.asarray(question, dtype=np.float32)
        # Rows whose tokens sit back to back are scored in one product over a view (no copy of the vectors).
        idx = np.flatnonzero(filled)
        breaks = np.flatnonzero(starts[idx[1:]] != ends[idx[:-1]]) + 1
        for run in np.split(idx, breaks):
            lo, hi = int(starts[run[0]]), int(ends[run[-1]])
            sims = q @ np.asarray(self.vectors[lo:hi], dtype=np.float32).T  # float16 on disk: read as float32
            best[:, run] = np.maximum.reduceat(sims, starts[run] - lo, axis=1)
        return best

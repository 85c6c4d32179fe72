"""BM25 (``bm25s``) over any list of texts, with English stemming and stopwords."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np


class BM25Index:
    """Okapi BM25 scores for a fixed list of texts (rows)."""

    def __init__(self, texts: Sequence[str]) -> None:
        import bm25s
        import Stemmer

        self._stemmer = Stemmer.Stemmer("english")
        self.size = len(texts)
        self._bm25: Any = bm25s.BM25()
        if texts:
            tokens = bm25s.tokenize(list(texts), stopwords="en", stemmer=self._stemmer, show_progress=False)
            self._bm25.index(tokens, show_progress=False)

    def query_terms(self, question: str) -> list[str]:
        """The stemmed, stopword-free terms BM25 scores a question by."""
        import bm25s

        tokens = bm25s.tokenize([question], stopwords="en", stemmer=self._stemmer, show_progress=False,
                                return_ids=False)
        return list(tokens[0]) if tokens else []

    def scores(self, question: str) -> np.ndarray:
        """BM25 score of every row (zeros when the question has no indexed term)."""
        import numpy as np

        terms = self.query_terms(question)
        if not self.size or not terms:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(terms), dtype=np.float32)

"""BM25 (``bm25s``) over any list of texts, with English stemming and stopwords (``rag.vocabulary.BM25_STOP_WORDS``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rag.vocabulary import BM25_STOP_WORDS

if TYPE_CHECKING:
    import numpy as np


def query_terms(question: str) -> list[str]:
    """The stemmed, stopword-free terms BM25 scores a question by."""
    import bm25s
    import Stemmer

    tokens = bm25s.tokenize([question], stopwords=list(BM25_STOP_WORDS), stemmer=Stemmer.Stemmer("english"),
                            show_progress=False, return_ids=False)
    return list(tokens[0]) if tokens else []


class BM25Index:
    """Okapi BM25 scores for a fixed list of texts (rows).

    With ``keep_terms``, each row's set of terms and each term's IDF are kept too, for ``coverage``.
    """

    def __init__(self, texts: Sequence[str], *, keep_terms: bool = False) -> None:
        import bm25s
        import Stemmer

        self._stemmer = Stemmer.Stemmer("english")
        self.size = len(texts)
        self._bm25: Any = bm25s.BM25()
        self._vocab: dict[str, int] = {}
        self._incidence: Any = None
        self._idf: Any = None
        if texts:
            tokens = bm25s.tokenize(list(texts), stopwords=list(BM25_STOP_WORDS), stemmer=self._stemmer,
                                    show_progress=False)
            self._bm25.index(tokens, show_progress=False)
            if keep_terms:
                self._keep_terms(tokens.ids, tokens.vocab)

    def _keep_terms(self, ids: list[list[int]], vocab: dict[str, int]) -> None:
        import numpy as np
        import scipy.sparse as sp

        self._vocab = dict(vocab)
        rows = np.repeat(np.arange(len(ids)), [len(r) for r in ids])
        cols = np.fromiter((t for r in ids for t in r), dtype=np.int64, count=int(rows.size))
        # Which row holds which term (0/1), by column for cheap per-question slicing.
        incidence = sp.csc_matrix((np.ones(rows.size, dtype=np.float32), (rows, cols)),
                                  shape=(len(ids), len(vocab)))
        incidence.data[:] = 1.0  # a term repeated in a row counts once
        self._incidence = incidence
        df = np.diff(incidence.indptr)
        # The same (Lucene) IDF that BM25 weights matches by.
        self._idf = np.log1p((len(ids) - df + 0.5) / (df + 0.5))

    def coverage(self, question: str, rows: Sequence[int] | np.ndarray, context: Sequence[int] | np.ndarray
                 ) -> np.ndarray:
        """Share of the question's IDF mass each row holds, counting terms found in its context row too.

        ``context[i]`` is a row read together with ``rows[i]`` (-1: none). A sentence that answers usually
        carries the question's informative terms itself or in the sentence it continues ("... treated
        using these devices"). Zeros when built without ``keep_terms``.
        """
        import numpy as np

        out = np.zeros(len(rows), dtype=np.float64)
        if self._incidence is None or not len(rows):
            return out
        terms = sorted({self._vocab[t] for t in self.query_terms(question) if t in self._vocab})
        if not terms:
            return out
        idf = self._idf[terms]
        present = self._incidence[:, terms].toarray() > 0  # every row x the question's terms
        c = np.asarray(context, dtype=np.int64)
        held = present[np.asarray(rows, dtype=np.int64)]
        has_ctx = c >= 0
        held[has_ctx] |= present[c[has_ctx]]
        return (held @ idf) / float(idf.sum())

    def query_terms(self, question: str) -> list[str]:
        """The stemmed, stopword-free terms BM25 scores a question by."""
        import bm25s

        tokens = bm25s.tokenize([question], stopwords=list(BM25_STOP_WORDS), stemmer=self._stemmer,
                                show_progress=False, return_ids=False)
        return list(tokens[0]) if tokens else []

    def scores(self, question: str) -> np.ndarray:
        """BM25 score of every row (zeros when the question has no indexed term)."""
        import numpy as np

        terms = self.query_terms(question)
        if not self.size or not terms:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(terms), dtype=np.float32)

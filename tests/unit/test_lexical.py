"""BM25 term coverage: the share of the question's IDF mass a sentence (and the one before it) holds."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rag.retrieval.lexical import BM25Index

TEXTS = ["Tin whistle cramp is eased with these splints.",  # 0: names the subject
         "They are padded cedar braces.",                   # 1: continues 0, holds the answer
         "The splints are light.",                          # 2: only a common term
         "Cramp is rare."]                                  # 3: only another common term
QUESTION = "What splints ease tin whistle cramp?"


def test_coverage_weighs_rare_question_terms_and_reads_the_sentence_before() -> None:
    idx = BM25Index(TEXTS, keep_terms=True)
    alone = idx.coverage(QUESTION, [0, 1, 2, 3], [-1, -1, -1, -1])
    # Lucene IDF over 4 rows: "tin", "whistle", "ease" are in one row, "splints" and "cramp" in two.
    rare, common = math.log1p(3.5 / 1.5), math.log1p(2.5 / 2.5)
    share = common / (3 * rare + 2 * common)
    assert alone == pytest.approx([1.0, 0.0, share, share])
    assert share < 0.25  # a common term carries little of the mass
    with_context = idx.coverage(QUESTION, [1, 2], [0, -1])
    assert with_context == pytest.approx([1.0, share])
    assert np.all(BM25Index(TEXTS).coverage(QUESTION, [0], [-1]) == 0.0)  # built without terms: no signal
    assert np.all(idx.coverage("zebra quagga", [0, 1], [-1, 0]) == 0.0)  # no indexed term: no signal


def test_query_terms_are_stemmed_without_bm25_stop_words() -> None:
    idx = BM25Index(TEXTS)
    assert idx.query_terms("Are these splints eased with the cramp?") == ["splint", "eas", "cramp"]

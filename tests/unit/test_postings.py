"""BM25 over segments: scores equal one BM25 index over the same live rows, bit for bit where the rows agree."""

from __future__ import annotations

import numpy as np

from rag.retrieval.dense import row_products
from rag.retrieval.lexical import BM25Index, query_terms
from rag.retrieval.postings import SegmentedBM25, TermPart, Terms

TEXTS = ["Tin whistle cramp is eased with these splints.", "They are padded cedar braces.",
         "The splints are light.", "Cramp is rare.", "The the the.", "Cedar splints ease cramp in tin whistles.",
         "Whistles are made of tin, and cedar is a wood."]
QUESTIONS = ["What splints ease tin whistle cramp?", "cedar cedar braces", "the", "zebra quagga"]


def part(texts: list[str], base: int, deleted: list[int] | None = None) -> TermPart:
    return TermPart(Terms.build(texts, by_term=True), base, np.array(deleted or [], dtype=np.int64))


def test_one_segment_scores_exactly_as_one_bm25_index() -> None:
    one = SegmentedBM25([part(TEXTS, 0)])
    ref = BM25Index(TEXTS, keep_terms=True)
    rows = np.arange(len(TEXTS))
    for q in QUESTIONS:
        terms = query_terms(q)
        assert np.array_equal(one.scores_all(terms), ref.scores(q))
        assert np.array_equal(one.scores_rows(terms, rows[::-1]), ref.scores(q)[::-1])
        context = np.array([-1, 0, 1, -1, 3, -1, 5])
        assert np.array_equal(one.coverage(terms, rows, context), ref.coverage(q, rows, context))


def test_segments_with_deletions_score_as_one_index_of_the_live_rows() -> None:
    # Rows 0-3 in one segment (row 2 deleted), rows 4-6 in another (row 6 deleted): global rows 0..6.
    split = SegmentedBM25([part(TEXTS[:4], 0, [2]), part(TEXTS[4:], 4, [2])])
    live = [0, 1, 3, 4, 5]
    ref = BM25Index([TEXTS[i] for i in live], keep_terms=True)
    for q in QUESTIONS:
        terms = query_terms(q)
        got = split.scores_all(terms)
        assert np.allclose(got[live], ref.scores(q), rtol=1e-6) and got[2] == 0 and got[6] == 0
        assert np.allclose(split.scores_rows(terms, np.array(live)), ref.scores(q), rtol=1e-6)
        cover = split.coverage(terms, np.array(live), np.full(len(live), -1))
        assert np.allclose(cover, ref.coverage(q, np.arange(len(live)), np.full(len(live), -1)))


def test_row_products_are_bit_identical_to_the_whole_product() -> None:
    rng = np.random.default_rng(3)
    m = rng.standard_normal((1003, 48)).astype(np.float32)
    q = rng.standard_normal(48).astype(np.float32)
    full = m @ q
    for _ in range(50):
        rows = rng.choice(len(m), size=int(rng.integers(1, 40)), replace=False)
        assert np.array_equal(row_products(m, rows, q), full[rows])
    assert np.array_equal(row_products(m, np.array([1002, 1000]), q), full[[1002, 1000]])  # the short last group


def test_a_few_rows_scored_with_the_corpus_statistics_score_as_in_the_whole_corpus() -> None:
    import numpy as np

    from rag.retrieval.postings import CorpusBM25, SegmentedBM25, TermPart, Terms

    texts = ["The pilot guided the ship into the harbour.", "A storm closed the harbour for a week.",
             "Bread rises overnight in a warm kitchen.", "The pilot's logbook survived the storm.",
             "Fishing boats leave the harbour at dawn."]
    whole = Terms.build(texts, by_term=False)
    everything = SegmentedBM25([TermPart(whole, 0, np.zeros(0, np.int64))])
    few = [0, 3]
    part = Terms.build([texts[i] for i in few], by_term=False)
    words = {t: everything.df(t) for t in whole.vocab}
    corpus = CorpusBM25([TermPart(part, 0, np.zeros(0, np.int64))], len(texts), int(whole.lengths.sum()), words)
    local = SegmentedBM25([TermPart(part, 0, np.zeros(0, np.int64))])
    terms = ["pilot", "harbour", "storm"]
    want = everything.scores_rows(terms, np.array(few))
    assert np.allclose(corpus.scores_rows(terms, np.arange(2)), want)
    assert not np.allclose(local.scores_rows(terms, np.arange(2)), want)  # the candidates' own statistics differ
    cover = corpus.coverage(terms, np.arange(2), np.array([-1, -1]))
    assert np.allclose(cover, everything.coverage(terms, np.array(few), np.array([-1, -1])))

"""Metric functions against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from eval.bootstrap import bootstrap_ci, cluster_bootstrap_means, paired_bootstrap_delta
from eval.metrics import (
    MetricResult,
    answer_hit,
    contains_answer,
    cosine_rows,
    doc_hit,
    exact_match,
    f1_score,
    first_hit_rank,
    mean_metric,
    normalize_answer,
    oracle_sentence_f1,
    percentiles,
    reciprocal_rank,
    rouge_l,
    score_dataset,
)

# --- normalisation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("The  Cat!!", "cat"),
        ("theater", "theater"),  # articles only as whole words
        ("Anne and the anthem", "anne and anthem"),
        ("A an THE", ""),
        ("", ""),
        ("?!...,;:", ""),  # only punctuation
        ("  \t\n ", ""),
        ("$1,000", "1000"),  # ASCII symbols in string.punctuation go, as in SQuAD
        ("Kim\u2019s", "kims"),  # right single quotation mark
        ("\u201cHello\u201d \u2014 world \u2013 again\u2026", "hello world again"),
        ("«Bonjour» ¿qué?", "bonjour qué"),
        ("New\u00a0York", "new york"),  # non-breaking space is whitespace
        ("5 €", "5 €"),  # Unicode symbols (category S*) are kept, as in SQuAD
        ("the.cat", "thecat"),  # punctuation is deleted before articles are removed
    ],
)
def test_normalize_answer(raw: str, expected: str) -> None:
    assert normalize_answer(raw) == expected


def test_unicode_and_ascii_apostrophes_normalise_alike() -> None:
    assert normalize_answer("Kim\u2019s") == normalize_answer("Kim's")
    assert exact_match("Kim\u2019s house", ["kim's HOUSE"]) == 1.0


# --- EM / F1 --------------------------------------------------------------------------------


def test_exact_match_is_max_over_golds() -> None:
    assert exact_match("The Harbour Gulls", ["Valley Otters", "Harbour Gulls"]) == 1.0
    assert exact_match("Harbour", ["Valley Otters", "Harbour Gulls"]) == 0.0


def test_f1_partial_overlap_by_hand() -> None:
    # "big red dog" vs "red dog barked": 2 shared of 3 and 3 -> P = R = 2/3.
    assert f1_score("the big red dog", ["red dog barked"]) == pytest.approx(2 / 3)


def test_f1_counts_repeated_tokens() -> None:
    # pred tokens: red dog and red cat (5); gold: red red dog (3); shared: red x2, dog -> 3.
    # P = 3/5, R = 3/3, F1 = 2 * 0.6 * 1 / 1.6 = 0.75.
    assert f1_score("a red dog and a red cat", ["the red red dog"]) == pytest.approx(0.75)


def test_f1_is_max_over_golds() -> None:
    # vs "red": P = 1/3, R = 1 -> 0.5; vs "red dog barked": 2/3; vs "cat": 0.
    assert f1_score("the big red dog", ["red", "red dog barked", "cat"]) == pytest.approx(2 / 3)


def test_f1_no_overlap_is_zero() -> None:
    assert f1_score("blue whale", ["red dog"]) == 0.0


@pytest.mark.parametrize(
    ("pred", "gold", "expected"),
    [("", "", 1.0), ("the", "a", 1.0), ("", "dog", 0.0), ("dog", "the", 0.0)],
)
def test_f1_empty_after_normalisation(pred: str, gold: str, expected: float) -> None:
    assert f1_score(pred, [gold]) == expected


def test_golds_must_be_a_non_empty_sequence() -> None:
    with pytest.raises(TypeError):
        f1_score("dog", "dog")  # a bare str would be scored character by character
    with pytest.raises(ValueError):
        exact_match("dog", [])


# --- contains_answer ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "golds", "expected"),
    [
        ("He said so.", ["he"], 1.0),
        ("Other cats.", ["he"], 0.0),  # "he" inside "other" is not a token match
        ("Cats, too.", ["cat"], 0.0),
        ("Born in Yorkshire.", ["York"], 0.0),
        ("Moved to New York, then Boston.", ["new york"], 1.0),
        ("Moved to New York, then Boston.", ["York then"], 1.0),  # spans punctuation
        ("Moved to New York.", ["Boston", "new york"], 1.0),  # any gold
        ("Moved to New York.", ["Boston", "Paris"], 0.0),
        ("The end.", ["the"], 0.0),  # a gold that normalises to nothing matches nothing
        ("1990", ["1990"], 1.0),  # whole text
    ],
)
def test_contains_answer(text: str, golds: list[str], expected: float) -> None:
    assert contains_answer(text, golds) == expected


# --- ROUGE-L --------------------------------------------------------------------------------


def test_rouge_l_hand_worked_lcs() -> None:
    # pred w x y z (4), gold x z w (3): LCS = "x z" = 2. P = 1/2, R = 2/3, F = 4/7.
    assert rouge_l("w x y z", ["x z w"]) == pytest.approx(4 / 7)


def test_rouge_l_respects_order_where_f1_does_not() -> None:
    # Same bag of tokens, so F1 = 1; LCS "police killed" = 2 of 3 -> 2/3.
    pred, gold = "police killed the gunman", "the gunman police killed"
    assert f1_score(pred, [gold]) == 1.0
    assert rouge_l(pred, [gold]) == pytest.approx(2 / 3)


def test_rouge_l_max_over_golds_and_edges() -> None:
    assert rouge_l("red dog", ["blue cat", "a red dog"]) == 1.0
    assert rouge_l("red dog", ["blue cat"]) == 0.0
    assert rouge_l("the", ["an"]) == 1.0
    assert rouge_l("", ["dog"]) == 0.0


def test_oracle_sentence_f1_picks_best_sentence() -> None:
    sentences = ["Nothing here.", "The big red dog slept.", "A red dog barked loudly."]
    # Third: tokens red dog barked loudly (4) vs red dog barked (3): P = 3/4, R = 1 -> 6/7.
    assert oracle_sentence_f1(sentences, ["red dog barked"]) == pytest.approx(6 / 7)
    assert oracle_sentence_f1([], ["red dog barked"]) == 0.0


# --- retrieval ------------------------------------------------------------------------------


def test_answer_hit_respects_k() -> None:
    texts = ["Founded in 1889.", "It opened in 1990.", "Closed 1990s."]
    assert answer_hit(texts, ["1990"], k=1) == 0.0
    assert answer_hit(texts, ["1990"], k=2) == 1.0
    assert answer_hit(texts, ["1990"], k=10) == 1.0
    assert answer_hit([], ["1990"], k=3) == 0.0


def test_doc_hit_respects_k() -> None:
    ids = ["a", "b", "c"]
    assert doc_hit(ids, "c", k=2) == 0.0
    assert doc_hit(ids, "c", k=3) == 1.0
    assert doc_hit(ids, "z", k=3) == 0.0


def test_first_hit_rank_and_reciprocal_rank() -> None:
    assert first_hit_rank([False, True, True]) == 2
    assert first_hit_rank([False, False]) is None
    assert first_hit_rank([]) is None
    assert reciprocal_rank([False, False, True], k=3) == pytest.approx(1 / 3)
    assert reciprocal_rank([False, False, True], k=2) == 0.0
    assert reciprocal_rank([True, True], k=1) == 1.0
    assert reciprocal_rank([], k=5) == 0.0


@pytest.mark.parametrize("k", [0, -1])
def test_cutoff_must_be_positive(k: int) -> None:
    with pytest.raises(ValueError):
        reciprocal_rank([True], k=k)
    with pytest.raises(ValueError):
        doc_hit(["a"], "a", k=k)


# --- aggregates and latency -----------------------------------------------------------------


def test_mean_metric() -> None:
    assert mean_metric([1, 0, 0.5]) == MetricResult(mean=0.5, scores=[1.0, 0.0, 0.5])
    empty = mean_metric([])
    assert math.isnan(empty.mean)
    assert empty.scores == []


def test_score_dataset_pairs_items() -> None:
    result = score_dataset(exact_match, ["Paris", "Rome"], [["paris"], ["Milan", "Turin"]])
    assert result == MetricResult(mean=0.5, scores=[1.0, 0.0])
    with pytest.raises(ValueError):
        score_dataset(exact_match, ["Paris"], [])


def test_percentiles_linear() -> None:
    # Linear interpolation on 1..4: p50 = 2.5, p95 = 1 + 0.95 * 3 = 3.85.
    assert percentiles([4.0, 1.0, 3.0, 2.0]) == {
        "p50": pytest.approx(2.5),
        "p95": pytest.approx(3.85),
    }
    assert set(percentiles([1.0], qs=(50, 99.9))) == {"p50", "p99.9"}
    assert all(math.isnan(v) for v in percentiles([]).values())


# --- bootstrap ------------------------------------------------------------------------------


def _clustered_data() -> tuple[list[float], list[str]]:
    rng = np.random.default_rng(1)
    scores = rng.random(120).round(2).tolist()
    groups = [f"article-{i % 12}" for i in range(120)]
    return scores, groups


def test_bootstrap_ci_contains_the_mean() -> None:
    scores, groups = _clustered_data()
    lo, hi = bootstrap_ci(scores, groups)
    assert lo < float(np.mean(scores)) < hi


def test_bootstrap_ci_degenerate_when_scores_equal() -> None:
    lo, hi = bootstrap_ci([0.75] * 30, [f"g{i % 4}" for i in range(30)])
    assert lo == hi == 0.75


def test_bootstrap_is_deterministic_given_seed() -> None:
    scores, groups = _clustered_data()
    assert bootstrap_ci(scores, groups, seed=7) == bootstrap_ci(scores, groups, seed=7)
    assert bootstrap_ci(scores, groups, seed=7) != bootstrap_ci(scores, groups, seed=8)


def test_bootstrap_pools_questions_across_resampled_groups() -> None:
    # One article with 1 question scoring 1, another with 9 scoring 0. Pooled resample means
    # are 1 (AA), 0.1 (AB/BA) or 0 (BB); averaging article means would give 0.5 for AB.
    means = cluster_bootstrap_means([1.0] + [0.0] * 9, ["A"] + ["B"] * 9, n_boot=500)
    assert set(np.round(means, 12)) == {0.0, 0.1, 1.0}


def test_bootstrap_ci_uses_alpha_by_hand() -> None:
    # Two one-question articles scoring 1 and 0: resampled means are 0, 0.5, 1 with
    # probabilities 1/4, 1/2, 1/4. The 20%/80% quantiles are 0 and 1; the 40%/60% are both 0.5.
    assert bootstrap_ci([1.0, 0.0], ["A", "B"], alpha=0.4) == (0.0, 1.0)
    assert bootstrap_ci([1.0, 0.0], ["A", "B"], alpha=0.8) == (0.5, 0.5)


def test_clustering_widens_the_interval_for_correlated_groups() -> None:
    # 10 articles of 10 questions; every question in an article has the article's score.
    scores = [float(article % 2) for article in range(10) for _ in range(10)]
    articles = [f"a{article}" for article in range(10) for _ in range(10)]
    questions = [f"q{i}" for i in range(100)]  # each question its own group = independent
    c_lo, c_hi = bootstrap_ci(scores, articles)
    i_lo, i_hi = bootstrap_ci(scores, questions)
    # Effective sample size 10 instead of 100: about sqrt(10) ~ 3.2 times wider.
    assert c_hi - c_lo > 2 * (i_hi - i_lo)


def test_bootstrap_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        bootstrap_ci([1.0, 0.0], ["a"])
    with pytest.raises(ValueError):
        bootstrap_ci([], [])
    with pytest.raises(ValueError):
        bootstrap_ci([1.0], ["a"], alpha=0.0)


def test_paired_delta_sign_and_symmetry() -> None:
    scores, groups = _clustered_data()
    better = [min(1.0, s + 0.1) for s in scores]
    delta, lo, hi = paired_bootstrap_delta(scores, better, groups, n_boot=1000, alpha=0.05, seed=3)
    assert delta == pytest.approx(float(np.mean(better) - np.mean(scores)))
    assert 0 < lo <= delta <= hi
    r_delta, r_lo, r_hi = paired_bootstrap_delta(better, scores, groups, n_boot=1000, alpha=0.05, seed=3)
    assert (r_delta, r_lo, r_hi) == pytest.approx((-delta, -hi, -lo))


def test_paired_delta_uses_the_pairing() -> None:
    # Scores vary wildly between articles, but b beats a by exactly 0.25 on every question:
    # the paired interval collapses to 0.25, while the unpaired a and b intervals are wide.
    a = [float(i % 4) / 4 for i in range(40)]
    b = [s + 0.25 for s in a]
    groups = [f"g{i % 4}" for i in range(40)]
    delta, lo, hi = paired_bootstrap_delta(a, b, groups, n_boot=500, alpha=0.05, seed=0)
    assert delta == pytest.approx(0.25)
    assert lo == pytest.approx(0.25)
    assert hi == pytest.approx(0.25)
    a_lo, a_hi = bootstrap_ci(a, groups)
    assert a_hi - a_lo > 0.2


def test_paired_delta_rejects_unequal_lengths() -> None:
    with pytest.raises(ValueError):
        paired_bootstrap_delta([1.0], [1.0, 0.0], ["a", "b"], n_boot=10, alpha=0.05, seed=0)


# --- embeddings -----------------------------------------------------------------------------


def test_cosine_rows() -> None:
    a = np.array([[1.0, 0.0], [0.0, 0.0], [1.0, 1.0], [3.0, 4.0]])
    b = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0], [-3.0, -4.0]])
    np.testing.assert_allclose(cosine_rows(a, b), [0.0, 0.0, 1.0, -1.0])
    with pytest.raises(ValueError):
        cosine_rows(a, b[:2])

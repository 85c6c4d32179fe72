"""Pure metric functions: answer quality, retrieval and latency (bootstrap CIs are in ``eval.bootstrap``).

Conventions:

- Answer metrics compare a prediction with several gold answers and take the best (max) score;
  ``golds`` must be a non-empty sequence of strings (a bare ``str`` is rejected, because iterating
  it would silently score single characters).
- A metric over a dataset is a :class:`MetricResult`: the per-item scores and their mean. The mean
  of no items is NaN, not 0.0, so an empty run can never pass for a real (bad) score.
- Ranks are 1-based; ``k`` (a cut-off) must be at least 1.
"""

from __future__ import annotations

import math
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

_ARTICLES = re.compile(r"\b(a|an|the)\b")


class _PunctuationTable(dict[int, int | None]):
    """``str.translate`` table deleting ASCII and Unicode punctuation; filled lazily."""

    def __missing__(self, code: int) -> int | None:
        ch = chr(code)
        drop = ch in string.punctuation or unicodedata.category(ch).startswith("P")
        value = None if drop else code
        self[code] = value
        return value


class _SpacePunctuationTable(_PunctuationTable):
    """Like ``_PunctuationTable`` but turns punctuation into a space (a token separator)."""

    def __missing__(self, code: int) -> int | None:
        value = super().__missing__(code)
        self[code] = 32 if value is None else value
        return self[code]


# Memos, not state: each entry is a pure function of its key.
_DROP_PUNCTUATION = _PunctuationTable()
_SPACE_PUNCTUATION = _SpacePunctuationTable()


@dataclass(frozen=True)
class MetricResult:
    """A metric over a dataset: the mean (NaN when there are no items) and the per-item scores."""

    mean: float
    scores: list[float]


# --- answer metrics -------------------------------------------------------------------------


def normalize_answer(s: str) -> str:
    """SQuAD v1.1 normalisation, also stripping Unicode punctuation (curly quotes, dashes, ...).

    Steps, in the official order: lowercase; delete punctuation (every ``string.punctuation``
    character, which includes ASCII symbols such as ``$`` and ``+``, plus any Unicode P* character;
    deleted, not replaced by a space, so "Kim\u2019s" and "Kim's" both give "kims"); replace the
    whole words a/an/the with a space; collapse all whitespace to single spaces.
    Non-ASCII symbols (category S*, e.g. €, °) are kept, as in the official script.
    """
    text = s.lower().translate(_DROP_PUNCTUATION)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def _tokens(s: str) -> list[str]:
    return normalize_answer(s).split()


def _check_golds(golds: Sequence[str]) -> Sequence[str]:
    if isinstance(golds, str):
        raise TypeError("golds must be a sequence of answers, not a single str")
    if len(golds) == 0:
        raise ValueError("golds must hold at least one answer")
    return golds


def exact_match(pred: str, golds: Sequence[str]) -> float:
    """1.0 if the normalised prediction equals any normalised gold answer, else 0.0."""
    p = normalize_answer(pred)
    return float(any(p == normalize_answer(g) for g in _check_golds(golds)))


def _token_f1(pred_toks: list[str], gold_toks: list[str]) -> float:
    # As the official SQuAD v2.0 script: if either side is empty, score 1 only if both are.
    if not pred_toks or not gold_toks:
        return float(pred_toks == gold_toks)
    same = sum((Counter(pred_toks) & Counter(gold_toks)).values())
    if same == 0:
        return 0.0
    precision = same / len(pred_toks)
    recall = same / len(gold_toks)
    return 2 * precision * recall / (precision + recall)


def f1_score(pred: str, golds: Sequence[str]) -> float:
    """SQuAD bag-of-tokens F1 between prediction and gold, best over the gold answers."""
    p = _tokens(pred)
    return max(_token_f1(p, _tokens(g)) for g in _check_golds(golds))


def _normalize_spaced(s: str) -> str:
    """SQuAD normalisation with punctuation turned into spaces, for containment tests."""
    text = s.lower().translate(_SPACE_PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def contains_answer(text: str, golds: Sequence[str]) -> float:
    """1.0 if some normalised gold occurs in the normalised text on token boundaries, else 0.0.

    For containment, punctuation separates tokens instead of vanishing, so the gold "Six" is found in
    "Six-time winner" and "Rollo" in "Rollo's" (deleting it would give "sixtime" and "rollos"), while
    "he" is still not found inside "then". A gold that normalises to nothing (e.g. "the") matches nothing.
    """
    haystack = f" {_normalize_spaced(text)} "
    for g in _check_golds(golds):
        needle = _normalize_spaced(g)
        if needle and f" {needle} " in haystack:
            return 1.0
    return 0.0


def _lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    if len(a) < len(b):
        a, b = b, a
    row = [0] * (len(b) + 1)  # row[j] = LCS of the prefix of a seen so far and b[:j]
    for x in a:
        diag = 0
        for j, y in enumerate(b, start=1):
            above = row[j]
            row[j] = diag + 1 if x == y else max(above, row[j - 1])
            diag = above
    return row[-1]


def _rouge_l_tokens(pred_toks: list[str], gold_toks: list[str]) -> float:
    if not pred_toks or not gold_toks:
        return float(pred_toks == gold_toks)
    lcs = _lcs_length(pred_toks, gold_toks)
    if lcs == 0:
        return 0.0
    precision = lcs / len(pred_toks)
    recall = lcs / len(gold_toks)
    return 2 * precision * recall / (precision + recall)


def rouge_l(pred: str, golds: Sequence[str]) -> float:
    """ROUGE-L F-measure (beta=1, longest common subsequence) on normalised tokens; max over golds.

    Empty token lists follow the F1 rule: 1.0 if both are empty, else 0.0.
    """
    p = _tokens(pred)
    return max(_rouge_l_tokens(p, _tokens(g)) for g in _check_golds(golds))


def oracle_sentence_f1(sentences: Sequence[str], golds: Sequence[str]) -> float:
    """Best F1 any single sentence achieves: the ceiling of an extractive sentence answerer.

    0.0 when there are no sentences.
    """
    _check_golds(golds)
    return max((f1_score(s, golds) for s in sentences), default=0.0)


def answer_tokens(s: str) -> list[str]:
    """The SQuAD-normalised tokens of a text (what EM, F1 and ROUGE-L compare)."""
    return _tokens(s)


def oracle_sentence_f1_tokens(sentence_tokens: Sequence[Sequence[str]], golds: Sequence[str]) -> float:
    """``oracle_sentence_f1`` over pre-tokenised sentences (``answer_tokens``): same value, no re-normalising."""
    best = 0.0
    for gold in _check_golds(golds):
        g = _tokens(gold)
        vocab = set(g)
        for toks in sentence_tokens:
            if vocab.isdisjoint(toks):
                continue  # shares no token: F1 is 0
            best = max(best, _token_f1(list(toks), g))
    return best


# --- retrieval metrics (one question) -------------------------------------------------------


def _check_k(k: int) -> int:
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    return k


def answer_hit(retrieved_texts: Sequence[str], golds: Sequence[str], k: int) -> float:
    """1.0 if any of the top-``k`` retrieved texts contains a gold answer (token boundaries)."""
    _check_golds(golds)
    return float(any(contains_answer(t, golds) for t in retrieved_texts[: _check_k(k)]))


def doc_hit(retrieved_doc_ids: Sequence[str], gold_doc_id: str, k: int) -> float:
    """1.0 if the gold document is among the top-``k`` retrieved document ids."""
    return float(gold_doc_id in retrieved_doc_ids[: _check_k(k)])


def first_hit_rank(flags: Sequence[bool]) -> int | None:
    """1-based rank of the first True flag, or None if there is none."""
    return next((i for i, f in enumerate(flags, start=1) if f), None)


def reciprocal_rank(flags: Sequence[bool], k: int) -> float:
    """1/rank of the first True flag within the top ``k``, else 0.0."""
    rank = first_hit_rank(flags[: _check_k(k)])
    return 0.0 if rank is None else 1.0 / rank


# --- aggregates -----------------------------------------------------------------------------


def mean_metric(scores: Sequence[float]) -> MetricResult:
    """Per-item scores and their mean (NaN for no items)."""
    items = [float(s) for s in scores]
    return MetricResult(mean=math.fsum(items) / len(items) if items else math.nan, scores=items)


def score_dataset(
    metric: Callable[[str, Sequence[str]], float],
    preds: Sequence[str],
    golds: Sequence[Sequence[str]],
) -> MetricResult:
    """Score ``preds[i]`` against ``golds[i]`` with an answer metric such as ``f1_score``."""
    if len(preds) != len(golds):
        raise ValueError(f"{len(preds)} predictions but {len(golds)} gold lists")
    return mean_metric([metric(p, g) for p, g in zip(preds, golds, strict=True)])


def percentiles(values_ms: Sequence[float], qs: Sequence[float] = (50, 95)) -> dict[str, float]:
    """Latency percentiles (numpy, linear) keyed "p50", "p95", ...; all NaN if no values."""
    keys = [f"p{q:g}" for q in qs]
    if len(values_ms) == 0:
        return dict.fromkeys(keys, math.nan)
    values = np.percentile(np.asarray(values_ms, dtype=np.float64), list(qs), method="linear")
    return {key: float(v) for key, v in zip(keys, values, strict=True)}


# --- embeddings -----------------------------------------------------------------------------


def cosine_rows(a: NDArray[np.floating], b: NDArray[np.floating]) -> NDArray[np.float64]:
    """Row-wise cosine similarity of two equal-shape 2-D arrays; a zero row scores 0.0."""
    x = np.asarray(a, dtype=np.float64)
    y = np.asarray(b, dtype=np.float64)
    if x.ndim != 2 or x.shape != y.shape:
        raise ValueError(f"need two equal-shape 2-D arrays, got {x.shape} and {y.shape}")
    dots = np.einsum("ij,ij->i", x, y)
    norms = np.linalg.norm(x, axis=1) * np.linalg.norm(y, axis=1)
    out: NDArray[np.float64] = np.zeros_like(dots)
    np.divide(dots, norms, out=out, where=norms > 0)
    return out

"""The regression gate: pass/fail logic, k-independent matching, baseline files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from eval.gate import BaselineError, check, family, load_baseline, make_baseline, tolerance_for, write_baseline


def summary(k: int = 5, **means: float) -> dict[str, Any]:
    metrics = {name.replace("AT", f"@{k}"): {"mean": v, "ci95": [v - 0.04, v + 0.04]} for name, v in means.items()}
    return {"dataset": "toy", "questions": 100, "k": k, "faq_indexed": False, "metrics": metrics,
            "config": {"retrieval": "hybrid"}}


BASE = {"k": 5, "metrics": {"answer_hit@5": {"baseline": 0.80, "tolerance": 0.05},
                            "f1": {"min": 0.30}}}


def test_passes_within_tolerance_and_fails_beyond() -> None:
    ok = check(summary(answer_hitAT=0.76, f1=0.30), BASE)
    assert all(r.passed for r in ok)
    bad = check(summary(answer_hitAT=0.74, f1=0.31), BASE)
    assert [r.metric for r in bad if not r.passed] == ["answer_hit@5"]
    assert "FAIL answer_hit@5: 0.7400" in bad[0].line()


def test_min_spec_is_an_absolute_floor() -> None:
    assert [r.passed for r in check(summary(answer_hitAT=0.9, f1=0.2999), BASE)] == [True, False]


def test_a_missing_metric_fails() -> None:
    res = check(summary(f1=0.5), BASE)
    assert not res[0].passed and "missing" in res[0].line()


def test_other_k_is_compared_by_family() -> None:
    assert family("mrr@10") == "mrr@k" and family("f1") == "f1"
    res = check(summary(k=1, answer_hitAT=0.6, f1=0.5), BASE)
    assert not res[0].passed and res[0].value == 0.6
    assert res[0].line().startswith("FAIL answer_hit@5 (as answer_hit@1): 0.6000")


def test_nan_fails() -> None:
    assert not check(summary(answer_hitAT=float("nan"), f1=0.5), BASE)[0].passed


def test_make_and_load_baseline(tmp_path: Path) -> None:
    s = summary(answer_hitAT=0.9, doc_hitAT=0.95, mrrAT=0.8, f1=0.3, contains_answer=0.7, rouge_l=0.2)
    path = write_baseline(s, tmp_path)
    data = load_baseline("toy", tmp_path)
    assert path.name == "toy.json" and set(data["metrics"]) == {"answer_hit@5", "doc_hit@5", "mrr@5", "f1",
                                                               "contains_answer"}
    assert data["metrics"]["f1"]["baseline"] == 0.3 and data["regenerate"] == "rag eval toy --write-baseline"
    assert all(r.passed for r in check(s, data))


def test_tolerance_is_a_bit_wider_than_the_noise() -> None:
    assert tolerance_for(0.5, [0.46, 0.54], 1000) == 0.02  # half the CI half-width
    assert tolerance_for(0.5, [0.5, 0.5], 5) == 0.195  # just under one question's worth on a tiny set
    assert tolerance_for(0.5, [0.499, 0.501], 10_000) == 0.01  # never below 0.01


def test_missing_or_broken_baselines_are_clear(tmp_path: Path) -> None:
    with pytest.raises(BaselineError, match="--write-baseline"):
        load_baseline("nope", tmp_path)
    (tmp_path / "bad.json").write_text(json.dumps({"metrics": {"f1": {"tolerance": 0.1}}}))
    with pytest.raises(BaselineError, match="malformed"):
        load_baseline("bad", tmp_path)
    with pytest.raises(BaselineError, match="leakage-free"):
        make_baseline({**summary(f1=0.1), "faq_indexed": True})

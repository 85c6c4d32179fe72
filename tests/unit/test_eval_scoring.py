"""Scoring: gold evidence, answer-hit flags, per-question rows, aggregates with CIs, the hit@k curve."""

from __future__ import annotations

from pathlib import Path

import pytest

from eval import harness
from eval.bootstrap import bootstrap_percentile_ci
from eval.scoring import (
    aggregate,
    answer_flags,
    covers,
    gold_evidence,
    groups_for,
    hit_curve,
    metric_names,
    prediction_text,
    score_run,
)
from rag.settings import Settings
from rag.types import Chunk
from tests.eval_data import faq_dataset, qa_dataset
from tests.fakes import HashEmbedder


def test_prediction_text_drops_citation_markers_and_abstentions() -> None:
    assert prediction_text("Cats sleep a lot [1]. They hunt [2].", False) == "Cats sleep a lot. They hunt."
    assert prediction_text("The indexed articles don't contain an answer.", True) == ""


def test_span_gold_is_found_by_containment(tmp_path: Path) -> None:
    art = qa_dataset(tmp_path).articles[0]
    kind, evidence = gold_evidence(art, ["at night"], HashEmbedder())
    assert kind == "span"
    assert [art.text[s:e] for s, e in evidence] == ["They hunt mice at night."]


def test_abstractive_gold_evidence_is_the_most_similar_body_sentence() -> None:
    art = faq_dataset().articles[0]
    gold = "Seals track fish through dark water with sensitive whiskers."
    kind, evidence = gold_evidence(art, [gold], HashEmbedder())
    assert kind == "evidence"
    assert art.text[evidence[0][0] : evidence[0][1]] == "Seals dive for fish in murky water using their whiskers."


def test_covers_needs_the_right_article_and_most_of_the_sentence() -> None:
    c = Chunk(0, "a", 0, "body", "x" * 50, 100, 150, 10)
    assert covers(c, "a", [(120, 140)]) and covers(c, "a", [(140, 160)])  # 10 of 20 chars: half
    assert not covers(c, "a", [(145, 170)]) and not covers(c, "b", [(120, 140)])
    flags = answer_flags([c, Chunk(1, "b", 0, "body", "four astronauts", 0, 15, 3)], "a", ["four"], "span", [])
    assert flags == [False, True]  # span golds match any article's chunk, as in open-domain QA


def test_score_run_rows_and_aggregates(tmp_path: Path, settings: Settings) -> None:
    run = harness.run(qa_dataset(tmp_path), settings, k=2, embedder=HashEmbedder(), progress=False)
    rows = score_run(run)
    assert len(rows) == 5
    names = metric_names(2)
    for r in rows:
        assert set(names) <= set(r.scores) and "latency_ms" in r.scores
        assert 0.0 <= r.scores["f1"] <= 1.0 and r.scores["abstained"] in (0.0, 1.0)
        assert r.scores["answer_hit@2"] == float(r.gold_rank is not None and r.gold_rank <= 2)
        assert r.scores["oracle_sentence_f1"] > 0  # every gold here is quoted from its article
    agg = aggregate(rows, names)
    assert set(agg) == set(names) | {"latency_p50_ms", "latency_p95_ms"}
    for a in agg.values():
        assert a.ci95[0] <= a.mean + 1e-9 and a.mean <= a.ci95[1] + 1e-9
    assert groups_for(rows)[1] == "article"
    curve = hit_curve(rows, 10)
    assert len(curve["answer_hit"]) == 10 and curve["doc_hit"] == sorted(curve["doc_hit"])
    assert curve["answer_hit"][1] == pytest.approx(agg["answer_hit@2"].mean)


def test_one_article_falls_back_to_question_resampling(settings: Settings) -> None:
    rows = score_run(harness.run(faq_dataset(), settings, k=2, embedder=HashEmbedder(), progress=False))
    assert groups_for(rows) == (["seals#0", "seals#1"], "question")
    assert all(r.gold_kind == "evidence" for r in rows)


def test_bootstrap_percentile_ci_by_hand() -> None:
    lo, hi = bootstrap_percentile_ci([1.0, 1.0, 9.0, 9.0], ["a", "a", "b", "b"], 50, n_boot=500)
    assert lo == pytest.approx(1.0) and hi == pytest.approx(9.0)
    assert bootstrap_percentile_ci([5.0], ["a"], 95) == (5.0, 5.0)
    with pytest.raises(ValueError):
        bootstrap_percentile_ci([], [], 50)
    # resampling a+a, a+b and b+b gives 95th percentiles of 1.0, 1.95 and 2.0
    assert bootstrap_percentile_ci([1.0, 2.0], ["a", "b"], 95) == pytest.approx((1.0, 2.0))


def test_oracle_f1_on_tokens_equals_the_reference() -> None:
    from eval.metrics import answer_tokens, oracle_sentence_f1, oracle_sentence_f1_tokens

    sentences = ["The cat sat on the mat.", "A dog barked at the moon!", "Nothing shared here."]
    for golds in (["cat on mat"], ["the moon", "a dog"], ["zebra"], ["Dog, barked."]):
        expected = oracle_sentence_f1(sentences, golds)
        assert oracle_sentence_f1_tokens([answer_tokens(s) for s in sentences], golds) == pytest.approx(expected)
    assert oracle_sentence_f1_tokens([], ["x"]) == 0.0


def test_an_faq_chunk_quoting_an_abstractive_gold_is_a_hit() -> None:
    faq = Chunk(3, "a", 5, "faq", "Where do seals rest? They haul out on sandbanks.", 500, 550, 10)
    body = Chunk(0, "a", 0, "body", "Seals rest on sandbanks at low tide.", 0, 40, 8)
    flags = answer_flags([faq, body], "a", ["They haul out on sandbanks."], "evidence", [(100, 140)])
    assert flags == [True, False]


def test_short_answers_are_scored_once_any_is_given(tmp_path: Path, settings: Settings) -> None:
    from dataclasses import replace as dc_replace

    run = harness.run(qa_dataset(tmp_path), settings, k=2, embedder=HashEmbedder(), progress=False)
    first, second = run.asked[0], run.asked[1]
    run.asked[0] = dc_replace(first, answer=dc_replace(first.answer, short_answer="sixteen hours", abstained=False))
    run.asked[1] = dc_replace(second, answer=dc_replace(second.answer, short_answer=None, abstained=False))
    rows = score_run(run)
    assert rows[0].scores["short_exact_match"] == 1.0 and rows[1].scores["short_f1"] == 0.0  # None scores as empty
    assert "short_f1" in aggregate(rows, [*metric_names(2), "short_f1"])


def test_short_answers_are_reported_by_confidence(tmp_path: Path, settings: Settings) -> None:
    from dataclasses import replace as dc_replace

    from eval.report import markdown, short_by_confidence

    run = harness.run(qa_dataset(tmp_path), settings, k=2, embedder=HashEmbedder(), progress=False)
    given = [("sixteen hours", "high"), ("air currents", "low"), ("mice", "low")]
    given += [(None, None)] * (len(run.asked) - len(given))
    for i, (text, level) in enumerate(given):
        a = run.asked[i].answer
        run.asked[i] = dc_replace(run.asked[i], answer=dc_replace(a, short_answer=text, short_answer_confidence=level,
                                                                   abstained=False))
    rows = score_run(run)
    table = short_by_confidence(rows)
    assert table["high"]["n"] == 1 and table["low"]["n"] == 2  # questions without a short answer count in neither
    assert table["high"]["f1"] == rows[0].scores["short_f1"]
    assert table["low"]["f1"] == pytest.approx((rows[1].scores["short_f1"] + rows[2].scores["short_f1"]) / 2)
    summary = {"dataset": "d", "articles": 1, "questions": len(rows), "faq_indexed": False, "k": 2, "metrics": {},
               "config": {"embedding_model_id": "m", "bootstrap": {"resamples": 1, "unit": "article", "seed": 0}},
               "leakage": {"passed": True, "note": ""}, "curves": {"answer_hit": [1.0]}, "per_article": {},
               "timings": {}, "short_answers_by_confidence": table}
    assert f"| high | 1 | {table['high']['f1']:.3f} |" in markdown(summary)

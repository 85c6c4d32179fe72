"""Abstention: error rates, the threshold sweep and the operating point, on hand-built numbers."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from eval.abstention import (
    Probe,
    error_rate_at,
    errors,
    measure,
    measure_left_out,
    rate,
    refuses,
    summarise,
    sweep,
    threshold_for,
)
from eval.abstention_report import markdown
from eval.datasets import Dataset, answer_paragraph_left_out, from_faq_articles, from_qa_jsonl, halves
from rag.settings import Settings
from tests.eval_data import faq_dataset, qa_dataset
from tests.fakes import HashEmbedder, HashTokenEmbedder


def test_errors_are_refusals_when_answerable_and_answers_when_not() -> None:
    abstained = [True, False, False, True]
    assert errors(abstained, answerable=True) == [1.0, 0.0, 0.0, 1.0]
    assert errors(abstained, answerable=False) == [0.0, 1.0, 1.0, 0.0]


def test_rate_is_the_mean_with_an_article_clustered_ci() -> None:
    r = rate([1.0, 0.0, 0.0, 0.0], ["a", "a", "b", "b"])
    assert r.mean == 0.25 and r.n == 4
    assert r.ci95[0] == 0.0 and r.ci95[1] == 0.5  # resampling articles: a+a gives 0.5, b+b gives 0.0
    same = rate([1.0, 1.0], ["a", "b"])
    assert same.ci95 == (1.0, 1.0)
    assert math.isnan(rate([], []).mean)


def test_refusal_rule_matches_the_pipeline() -> None:
    assert refuses(0.44, 0.45) and not refuses(0.45, 0.45)  # answer() abstains when evidence < threshold
    assert refuses(-math.inf, -1.0)  # no candidate sentence: always abstains


def test_error_rate_at_a_threshold() -> None:
    ev = [0.1, 0.3, 0.5, 0.7]
    assert error_rate_at(ev, True, 0.4) == 0.5  # 0.1 and 0.3 refused
    assert error_rate_at(ev, False, 0.4) == 0.5  # 0.5 and 0.7 answered
    assert error_rate_at(ev, True, 0.0) == 0.0 and error_rate_at(ev, False, 0.0) == 1.0
    assert math.isnan(error_rate_at([], True, 0.4))


def test_sweep_trades_false_refusals_for_false_answers() -> None:
    points = sweep({"a": [0.5, 0.6, 0.8, 0.9]}, {"b→a": [0.2, 0.4, 0.55, 0.1]}, [0.0, 0.5, 0.7, 1.0])
    assert [p["threshold"] for p in points] == [0.0, 0.5, 0.7, 1.0]
    assert [p["false_refusal"]["a"] for p in points] == [0.0, 0.0, 0.5, 1.0]
    assert [p["false_answer"]["b→a"] for p in points] == [1.0, 0.25, 0.0, 0.0]


def test_threshold_for_is_the_highest_keeping_false_refusals_under_the_limit() -> None:
    ev = [i / 20 for i in range(20)]  # 0.00, 0.05, ..., 0.95
    t = threshold_for(ev, 0.05)  # one refusal of 20 allowed
    assert t == 0.05 and error_rate_at(ev, True, t) == 0.05
    assert error_rate_at(ev, True, t + 1e-9) == pytest.approx(0.1)  # just above it, 0.05 is refused too
    assert threshold_for(ev, 0.0) == 0.0
    assert threshold_for([0.3, 0.3, 0.3], 0.1) == 0.3  # ties: refusing none of them is allowed
    assert threshold_for([-math.inf, -math.inf, 0.5], 0.05) is None  # never answerable
    assert threshold_for([0.2], 1.0) == math.inf and threshold_for([], 0.05) is None


def probe(q: str, index: str, group: str, abstained: bool, evidence: float,
          cite: float | None = None) -> Probe:
    return Probe(f"{q}#{group}", f"{q}:{group}", q, index, q == index, abstained, evidence, cite)


def test_summarise_reports_both_directions_the_operating_point_and_the_checks() -> None:
    probes = [
        # x questions on the x index: answerable; one of four refused at 0.45
        probe("x", "x", "a", False, 0.60, 0.60), probe("x", "x", "a", False, 0.50, 0.48),
        probe("x", "x", "b", True, 0.40, None), probe("x", "x", "b", False, 0.90, 0.90),
        # x questions on the y index: unanswerable; one of two answered
        probe("x", "y", "a", True, 0.30, None), probe("x", "y", "b", False, 0.47, 0.40),
    ]
    s = summarise(probes, 0.45, max_false_refusal=0.0)
    rows = {r["direction"]: r for r in s["at_threshold"]}
    assert rows["x questions → x index"]["error"] == "false_refusal" and rows["x questions → x index"]["mean"] == 0.25
    assert rows["x questions → y index"]["error"] == "false_answer" and rows["x questions → y index"]["mean"] == 0.5
    op = s["operating_point"]
    assert op["threshold_exact_per_set"] == {"x": 0.40} and op["threshold"] == 0.40
    at_op = {r["direction"]: r["mean"] for r in op["rates"]}
    assert at_op == {"x questions → x index": 0.0, "x questions → y index": 0.5}
    check = s["evidence_check"]
    assert check["abstained_but_evidence_above"] == 0 and check["no_candidate_sentence"] == 0
    # 0.50 vs 0.48 and 0.47 vs 0.40: the cited sentence is not the best-cosine one
    assert check["max_citation_below_evidence"] == 2 and check["max_gap"] == pytest.approx(0.07)
    assert check["citation_proxy_flips_at_threshold"] == 1  # 0.47 answers, its citation 0.40 would refuse
    point = next(p for p in s["sweep"] if p["threshold"] == 0.45)
    assert point["false_refusal"] == {"x": 0.25} and point["false_answer"] == {"x questions → y index": 0.5}
    assert "x questions → y index" in markdown({"k": 5, **s})


@pytest.mark.parametrize("embedder", [HashEmbedder, HashTokenEmbedder])
def test_measure_asks_each_set_against_each_index(tmp_path: Path, embedder: type[HashEmbedder]) -> None:
    settings = Settings(index_dir=tmp_path / "unused", chunk_tokens=60, chunk_overlap=10, abstain_threshold=0.3)
    qa = qa_dataset(tmp_path)
    seals = from_faq_articles("seals", "memory", list(faq_dataset().articles))
    probes = measure([qa, seals], settings, 2, embedder())
    n = len(qa.questions) + len(seals.questions)
    assert len(probes) == 2 * n
    assert {(p.questions, p.index, p.answerable) for p in probes} == {
        ("tiny", "tiny", True), ("seals", "seals", True), ("tiny", "seals", False), ("seals", "tiny", False)}
    assert all(p.abstained == refuses(p.evidence, 0.3) for p in probes)  # recomputed evidence is the gate's
    if embedder is HashEmbedder:  # the evidence is then the cosine plus coverage, never below a cited cosine
        assert all(p.max_citation is None or p.max_citation <= p.evidence + 1e-4 for p in probes)
    assert not (tmp_path / "unused").exists()


def test_halves_split_the_articles_and_keep_each_question_with_its_article(tmp_path: Path) -> None:
    qa = qa_dataset(tmp_path)
    a, b = halves(qa)
    ids_a, ids_b = {x.doc_id for x in a.articles}, {x.doc_id for x in b.articles}
    assert ids_a and ids_b and not ids_a & ids_b and ids_a | ids_b == {x.doc_id for x in qa.articles}
    assert (a.name, b.name) == ("tiny-a", "tiny-b")
    assert all(q.doc_id in ids_a for q in a.questions) and all(q.doc_id in ids_b for q in b.questions)
    assert len(a.questions) + len(b.questions) == len(qa.questions)


def test_measure_can_skip_each_set_against_its_own_index(tmp_path: Path) -> None:
    settings = Settings(index_dir=tmp_path / "unused", chunk_tokens=60, chunk_overlap=10, abstain_threshold=0.3)
    sets = [qa_dataset(tmp_path), from_faq_articles("seals", "memory", list(faq_dataset().articles))]
    every = measure(sets, settings, 2, HashEmbedder())
    assert measure(sets, settings, 2, HashEmbedder(), answerable=False) == [p for p in every if not p.answerable]


LAKE = ("The lake is 40 metres deep at its centre.\n\n"
        "Fishermen catch trout in the lake every spring.\n\n"
        "The town of Brastow lies on the north shore of the lake.")


def lake_dataset(tmp_path: Path) -> Dataset:
    import json

    records = [
        {"id": "lake", "title": "Lake", "text": LAKE, "qa": [
            {"question": "How deep is the lake?", "answers": ["40 metres"]},
            {"question": "What do fishermen catch?", "answers": ["trout"]},
            {"question": "Where is Brastow?", "answers": ["on the north shore"]},
            {"question": "What is it all about?", "answers": ["the lake"]}]},  # said in every paragraph
        {"id": "solo", "title": "Solo", "text": "One paragraph only, about a mill.", "qa": [
            {"question": "What is it about?", "answers": ["a mill"]}]},
    ]
    path = tmp_path / "lake.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    return from_qa_jsonl("lake", path)


def test_answer_paragraph_left_out_keeps_the_questions_only_it_answered(tmp_path: Path) -> None:
    ds = lake_dataset(tmp_path)
    first = answer_paragraph_left_out(ds, 0)
    assert first.name == "lake-answer-paragraph-out"
    lake, solo = sorted(first.articles, key=lambda a: a.doc_id)
    assert "40 metres" not in lake.text and "trout" in lake.text and lake.body_end == len(lake.text)
    assert solo.text == ds.by_id[solo.doc_id].text  # one paragraph: indexed whole, asks nothing
    assert [q.question for q in first.questions] == ["How deep is the lake?"]
    asked = [q.question for shift in range(4) for q in answer_paragraph_left_out(ds, shift).questions]
    assert asked == ["How deep is the lake?", "What do fishermen catch?", "Where is Brastow?"]  # each once


def test_left_out_questions_are_probed_as_unanswerable_against_their_own_article(tmp_path: Path) -> None:
    settings = Settings(index_dir=tmp_path / "unused", chunk_tokens=60, chunk_overlap=10, abstain_threshold=0.3)
    probes = measure_left_out(lake_dataset(tmp_path), settings, 2, HashEmbedder(), shifts=3)
    assert len(probes) == 3 and not any(p.answerable for p in probes)
    assert {p.group for p in probes} == {"lake-answer-paragraph-out:lake:lake"}  # "<set>:<doc id>"
    assert all(p.abstained == refuses(p.evidence, 0.3) for p in probes)

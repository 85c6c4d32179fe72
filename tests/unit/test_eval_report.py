"""Report files: summary.json with its documented keys, questions.jsonl, report.md and the PNG."""

from __future__ import annotations

import json
from pathlib import Path

from eval.report import write_all
from eval.runner import evaluate
from rag.settings import Settings
from tests.eval_data import qa_dataset
from tests.fakes import HashEmbedder

METRICS = {"answer_hit@3", "doc_hit@3", "mrr@3", "evidence_hit@3", "evidence_mrr@3", "evidence_in_top3",
           "first_sentence_contains", "exact_match", "f1", "contains_answer", "rouge_l",
           "semantic_similarity", "abstained", "oracle_sentence_f1", "latency_p50_ms", "latency_p95_ms"}


def test_report_files_have_the_right_keys(tmp_path: Path, settings: Settings) -> None:
    summary, rows = evaluate(qa_dataset(tmp_path), settings, k=3, embedder=HashEmbedder(), progress=False)
    paths = write_all(tmp_path / "out", summary, rows)
    assert [p.name for p in paths] == ["summary.json", "questions.jsonl", "report.md", "report.png"]

    saved = json.loads(paths[0].read_text())
    assert {"dataset", "articles", "questions", "faq_indexed", "k", "metrics", "config", "timings"} <= set(saved)
    assert saved["dataset"] == "tiny" and saved["articles"] == 3 and saved["questions"] == 5
    assert saved["faq_indexed"] is False and saved["k"] == 3
    assert set(saved["metrics"]) - METRICS <= {"short_exact_match", "short_f1", "short_contains_answer"}
    assert set(saved["metrics"]) >= METRICS
    for v in saved["metrics"].values():
        assert set(v) == {"mean", "ci95"} and len(v["ci95"]) == 2
    assert saved["config"]["bootstrap"] == {"resamples": 2000, "seed": 0, "unit": "article", "level": 0.95}
    assert "llm_api_key" not in saved["config"] and saved["config"]["index_faq"] is False
    assert {"model_load_s", "index_s", "ask_s", "score_s", "total_s"} <= set(saved["timings"])
    assert saved["leakage"]["passed"] is True

    lines = [json.loads(x) for x in paths[1].read_text().splitlines()]
    assert len(lines) == 5
    assert {"qid", "doc_id", "question", "golds", "answer", "abstained", "citations", "retrieved", "latency_ms",
            "gold_rank", "scores"} <= set(lines[0])
    assert set(lines[0]["scores"]) >= METRICS - {"latency_p50_ms", "latency_p95_ms"}
    assert all(r["rank"] == i for i, r in enumerate(lines[0]["retrieved"], start=1))

    md = paths[2].read_text()
    assert "| answer_hit@3 |" in md and "report.png" in md
    assert paths[3].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_upper_bound_is_labelled(tmp_path: Path, settings: Settings) -> None:
    summary, rows = evaluate(qa_dataset(tmp_path), settings, k=3, with_faq=True, embedder=HashEmbedder(),
                             progress=False)
    assert summary["faq_indexed"] is True and summary["config"]["upper_bound"] is True
    write_all(tmp_path / "out", summary, rows)
    assert "UPPER BOUND" in (tmp_path / "out" / "report.md").read_text()

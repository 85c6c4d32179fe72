"""``--compare``: paired deltas by article and the questions that flipped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.compare import CompareError, compare, render, to_json


def write_run(folder: Path, hits: list[float], f1: list[float], k: int = 5, dataset: str = "toy") -> Path:
    folder.mkdir()
    (folder / "summary.json").write_text(json.dumps({"dataset": dataset, "k": k}))
    rows = [{"qid": f"d{i // 2}#{i}", "doc_id": f"d{i // 2}", "question": f"q{i}?",
             "scores": {f"answer_hit@{k}": h, "f1": f}} for i, (h, f) in enumerate(zip(hits, f1, strict=True))]
    (folder / "questions.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    return folder / "summary.json"


def test_deltas_and_flips(tmp_path: Path) -> None:
    a = write_run(tmp_path / "a", [1, 0, 1, 0], [0.5, 0.5, 0.5, 0.5])
    b = write_run(tmp_path / "b", [1, 1, 1, 1], [0.5, 0.5, 0.5, 0.5])
    deltas, flips = compare(a, b)
    by = {d.metric: d for d in deltas}
    assert by["answer_hit@5"].delta == pytest.approx(0.5) and by["answer_hit@5"].a == 0.5
    assert by["answer_hit@5"].lo == pytest.approx(0.5) and by["answer_hit@5"].significant  # every article +0.5
    assert by["f1"].delta == 0 and not by["f1"].significant
    assert [(f.qid, f.a, f.b) for f in flips] == [("d0#1", 0, 1), ("d1#3", 0, 1)]
    text = render(deltas, flips)
    assert "answer_hit@5: 2 flipped (2 up, 0 down)" in text and "+ d0#1: q1?" in text
    assert set(to_json(deltas, flips)["deltas"]) == {"answer_hit@5", "f1"}


def test_different_k_is_paired_by_family_and_folders_work(tmp_path: Path) -> None:
    write_run(tmp_path / "a", [1, 1], [0.2, 0.4], k=5)
    write_run(tmp_path / "b", [0, 1], [0.2, 0.4], k=1)
    deltas, flips = compare(tmp_path / "a", tmp_path / "b")
    assert deltas[0].metric == "answer_hit@5 → answer_hit@1" and deltas[0].delta == pytest.approx(-0.5)
    assert len(flips) == 1 and flips[0].b == 0


def test_incomparable_runs_are_errors(tmp_path: Path) -> None:
    a = write_run(tmp_path / "a", [1], [0.1])
    b = write_run(tmp_path / "b", [1], [0.1], dataset="other")
    with pytest.raises(CompareError, match="different datasets"):
        compare(a, b)
    with pytest.raises(CompareError, match="does not exist"):
        compare(a, tmp_path / "missing" / "summary.json")

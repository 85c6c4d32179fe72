"""Dataset loading: the shared JSONL format, FAQ articles, and clear errors for missing data."""

from __future__ import annotations

from pathlib import Path

import pytest

from eval import datasets
from eval.datasets import DatasetNotFound
from tests.eval_data import faq_dataset, qa_dataset, write_qa_jsonl
from tests.paths import SEEDS


def test_qa_jsonl_keeps_every_gold_and_skips_questions_without_answers(tmp_path: Path) -> None:
    ds = qa_dataset(tmp_path)
    assert ds.origin == "qa" and len(ds.articles) == 3
    assert [q.qid for q in ds.questions][:2] == ["tiny:cats#0", "tiny:cats#1"]
    assert ds.questions[0].golds == ("sixteen hours", "16 hours")
    assert len(ds.questions) == 5  # "Unanswerable?" has no gold answer
    assert ds.by_id["tiny:bread"].body.startswith("Sourdough")


def test_faq_articles_ask_their_own_faq() -> None:
    ds = faq_dataset()
    assert ds.origin == "faq"
    assert [q.question for q in ds.questions] == ["Where do harbour seals rest?", "How do seals find fish?"]
    assert "Frequently" not in ds.articles[0].body


def test_seeds_give_five_questions() -> None:
    ds = datasets.load("seeds")
    assert ds.name == "seeds" and len(ds.questions) == 5 and len(ds.articles) == 1
    assert str(SEEDS) == ds.source


def test_named_dataset_missing_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFound) as e:
        datasets.load("xquad", data_dir=tmp_path)
    assert str(tmp_path / "xquad" / "xquad.en.jsonl") in e.value.message


def test_data_dir_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "xquad").mkdir()
    write_qa_jsonl(tmp_path / "xquad" / "xquad.en.jsonl")
    monkeypatch.setenv(datasets.DATA_ENV, str(tmp_path))
    ds = datasets.load("xquad")
    assert ds.name == "xquad" and len(ds.questions) == 5


def test_a_path_is_a_dataset_named_by_its_stem(tmp_path: Path) -> None:
    path = write_qa_jsonl(tmp_path / "mine.val.jsonl")
    assert datasets.load(str(path)).name == "mine"
    with pytest.raises(DatasetNotFound, match="not one of seeds"):
        datasets.load(str(tmp_path / "nope.jsonl"))


def test_folder_without_faq_has_nothing_to_ask(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Just a body. No questions here at all.")
    with pytest.raises(DatasetNotFound, match="no article has a parsable FAQ"):
        datasets.load(str(tmp_path))

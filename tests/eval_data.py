"""Tiny datasets for the eval unit tests, built from the shared invented texts (no model, no shared data)."""

from __future__ import annotations

import json
from pathlib import Path

from eval.datasets import Dataset, from_faq_articles, from_qa_jsonl
from rag.ingest.loaders import article_from_text
from tests.texts import BREAD, CATS, ROCKETS, SEALS_WITH_FAQ


def write_qa_jsonl(path: Path) -> Path:
    """Three articles, two questions each, in the shared JSONL format."""
    records = [
        {"id": "cats", "title": "Cats", "text": CATS, "qa": [
            {"question": "How long do cats sleep?", "answers": ["sixteen hours", "16 hours"]},
            {"question": "When do cats hunt mice?", "answers": ["at night"]}]},
        {"id": "rockets", "title": "Rockets", "text": ROCKETS, "qa": [
            {"question": "How many astronauts did the rocket carry?", "answers": ["four"]},
            {"question": "How long did the mission last?", "answers": ["ten days"]}]},
        {"id": "bread", "title": "Bread", "text": BREAD, "qa": [
            {"question": "What does sourdough bread need?", "answers": ["a starter culture"]},
            {"question": "Unanswerable?", "answers": []}]},
    ]
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    return path


def qa_dataset(tmp_path: Path) -> Dataset:
    """The three articles of ``write_qa_jsonl`` as the dataset 'tiny' (five answerable questions)."""
    return from_qa_jsonl("tiny", write_qa_jsonl(tmp_path / "tiny.jsonl"))


def faq_dataset() -> Dataset:
    """One article that asks its own FAQ: the dataset 'seals' (two questions)."""
    return from_faq_articles("seals", "memory", [article_from_text("seals", SEALS_WITH_FAQ)])

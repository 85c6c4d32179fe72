"""Tiny datasets shared by the eval unit tests (no model, no shared data; holds no tests itself)."""

from __future__ import annotations

import json
from pathlib import Path

from eval.datasets import Dataset, from_faq_articles, from_qa_jsonl
from rag.ingest.loaders import article_from_text

CATS = ("Cats sleep for sixteen hours a day. They hunt mice at night in the barn. "
        "Their whiskers sense air currents around them.")
ROCKETS = ("The rocket launched from Florida in March. It carried four astronauts to the station. "
           "The mission lasted ten days in orbit.")
BREAD = "Sourdough bread needs a starter culture. The dough rises overnight. Bake it at high heat for an hour."

FAQ_ARTICLE = (
    "Harbour seals rest on sandbanks at low tide. Pups can swim within hours of birth. "
    "Seals dive for fish in murky water using their whiskers.\n\n"
    "Frequently Asked Questions (FAQ)\n\n"
    "Where do harbour seals rest? They haul out on sandbanks whenever the tide is low. "
    "How do seals find fish? Seals track fish through dark water with sensitive whiskers."
)


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
    return from_qa_jsonl("tiny", write_qa_jsonl(tmp_path / "tiny.jsonl"))


def faq_dataset() -> Dataset:
    return from_faq_articles("seals", "memory", [article_from_text("seals", FAQ_ARTICLE)])

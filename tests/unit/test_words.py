"""A document needs a word BM25 can index: the check agrees with BM25's own tokenizer, and ingest refuses the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.errors import EmptyDocument
from rag.ingest.loaders import Skipped, load_paths
from rag.ingest.words import has_words
from rag.pipeline import Pipeline
from rag.retrieval.lexical import BM25Index
from rag.settings import Settings
from tests.fakes import HashEmbedder
from tests.texts import CATS, plain_article

TEXTS = ["k", "a", "!!", "—", "the of and", "It is.", "\x05\x93k\xb4", "ok", "Cats purr.", "x1", "日本語",
         "été", "to be or not", "__", "42", "a b c d e", "\u00e0", "Zorblax!"]


@pytest.mark.parametrize("text", TEXTS)
def test_agrees_with_the_bm25_tokenizer(text: str) -> None:
    assert has_words(text) == bool(BM25Index([]).query_terms(text)), text


def test_the_pipeline_refuses_a_document_with_no_word(settings: Settings, fake_embedder: HashEmbedder) -> None:
    p = Pipeline(settings, fake_embedder)
    p.update(upsert=[plain_article("cats", CATS)])
    before = sorted((settings.index.index_dir / "generations").iterdir())
    with pytest.raises(EmptyDocument, match="no word to search"):
        p.update(upsert=[plain_article("cats", "k")])  # would leave an index with no vocabulary at all
    assert sorted((settings.index.index_dir / "generations").iterdir()) == before  # nothing written
    p.update(remove=["cats"])  # the last document can go: an empty index still answers (it abstains)
    assert p.answer("What do cats hunt?").abstained


def test_a_file_with_no_word_is_skipped_like_an_empty_one(tmp_path: Path) -> None:
    (tmp_path / "dots.txt").write_text("... !! k")
    (tmp_path / "cats.txt").write_text(CATS)
    skipped: list[Skipped] = []
    assert [a.doc_id for a in load_paths([tmp_path], skipped)] == ["cats"]
    assert [(s.path.name, s.keep) for s in skipped] == [("dots.txt", False)]

"""The harness: leakage-free temporary index, the leakage check, the FAQ upper bound, asking every question."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from eval import harness
from eval.embed_cache import CachingEmbedder
from eval.harness import LeakageError, check_leakage, with_faq_section
from rag.ingest.chunking import faq_spans
from rag.settings import Settings
from rag.types import Chunk, FaqPair
from tests.eval_data import faq_dataset, qa_dataset
from tests.fakes import HashEmbedder


def chunk(text: str, kind: str = "body", doc_id: str = "seals", cid: int = 0) -> Chunk:
    return Chunk(cid, doc_id, 0, kind, text, 0, len(text), len(text.split()))  # type: ignore[arg-type]


def test_leakage_check_catches_a_planted_faq_answer() -> None:
    ds = faq_dataset()
    clean = [chunk("Harbour seals rest on sandbanks at low tide.")]
    assert check_leakage(clean, ds, with_faq=False).passed
    # Case, punctuation and articles differ; the normalised answer still sits inside the chunk.
    planted = chunk("Notes. THEY haul out on sandbanks, whenever the tide is low! More text.", cid=7)
    with pytest.raises(LeakageError, match="chunk 7"):
        check_leakage([*clean, planted], ds, with_faq=False)


def test_leakage_check_matches_whole_tokens_only() -> None:
    ds = replace(faq_dataset(), questions=(replace(faq_dataset().questions[0], golds=("seal",)),))
    assert check_leakage([chunk("Seals rest on sandbanks.")], ds, with_faq=False).passed


def test_any_faq_chunk_is_leakage_without_with_faq(tmp_path: Path) -> None:
    with pytest.raises(LeakageError, match="FAQ chunk"):
        check_leakage([chunk("Q? A.", kind="faq")], qa_dataset(tmp_path), with_faq=False)


def test_qa_gold_spans_in_the_body_are_not_leakage(tmp_path: Path) -> None:
    report = check_leakage([chunk("Cats sleep for sixteen hours a day.")], qa_dataset(tmp_path), with_faq=False)
    assert report.passed and report.checked


def test_with_faq_requires_faq_chunks(tmp_path: Path) -> None:
    with pytest.raises(LeakageError, match="no FAQ chunk"):
        check_leakage([chunk("body")], qa_dataset(tmp_path), with_faq=True)
    report = check_leakage([chunk("body"), chunk("Q? A.", kind="faq")], qa_dataset(tmp_path), with_faq=True)
    assert not report.checked and "upper bound" in report.note


def test_with_faq_section_is_found_by_the_chunker(tmp_path: Path) -> None:
    art = qa_dataset(tmp_path).articles[0]
    leaky = with_faq_section(art, [FaqPair("How long do cats sleep?", "sixteen hours")])
    assert leaky.body == art.body
    assert faq_spans(leaky) and leaky.text[faq_spans(leaky)[0][0]:].startswith("How long do cats sleep?")


def test_run_indexes_bodies_only_and_asks_every_question(tmp_path: Path, settings: Settings) -> None:
    ds = faq_dataset()
    emb = HashEmbedder()
    result = harness.run(ds, settings, k=2, embedder=emb, progress=False)
    assert result.leakage.passed and result.chunks == 1  # the short seal body is one chunk of these settings
    assert [a.question.qid for a in result.asked] == ["seals#0", "seals#1"]
    for a in result.asked:
        assert len(a.answer.hits) == 1 and a.latency_ms > 0  # k=2, but there is one chunk to find
        assert all(h.chunk.kind == "body" for h in a.ranking)
        assert [h.chunk.chunk_id for h in a.ranking[:2]] == [h.chunk.chunk_id for h in a.answer.hits]
    assert isinstance(result.embedder, CachingEmbedder)
    assert result.settings.index.index_dir != settings.index.index_dir and not result.settings.index.index_dir.exists()


def test_with_faq_run_indexes_the_gold_qa(tmp_path: Path, settings: Settings) -> None:
    result = harness.run(qa_dataset(tmp_path), settings, k=3, with_faq=True, embedder=HashEmbedder(),
                         progress=False)
    assert result.with_faq and result.leakage.faq_chunks == 5


def test_caching_embedder_returns_the_same_vectors_and_embeds_once() -> None:
    inner = HashEmbedder()
    cached = CachingEmbedder(inner)
    first = cached.embed(["a b", "c d", "a b"])
    assert inner.embedded == 2
    again = cached.embed(["c d", "a b"])
    assert inner.embedded == 2 and cached.hits == 3
    assert (again[1] == first[0]).all() and (again == inner.embed(["c d", "a b"])).all()
    assert cached.embed([]).shape == (0, inner.dimension)


def test_the_caching_token_embedder_returns_the_inner_token_rows() -> None:
    from eval.embed_cache import CachingTokenEmbedder, caching
    from tests.fakes import HashTokenEmbedder

    inner = HashTokenEmbedder()
    cached = caching(inner)
    assert isinstance(cached, CachingTokenEmbedder)
    texts = ["Cats sleep all day.", "The rocket carried four astronauts.", "Cats sleep all day."]
    vecs, toks = cached.embed_with_tokens(texts)
    want_vecs, want_toks = inner.embed_with_tokens(texts)
    assert np.array_equal(vecs, want_vecs)
    assert all(np.array_equal(a, b) for a, b in zip(toks, want_toks, strict=True))
    assert cached.misses == 2 and cached.hits == 1
    _, again_toks = cached.embed_with_tokens(texts[1:2])
    assert cached.misses == 2 and np.array_equal(again_toks[0], want_toks[1])

"""The answer() contract: citations point at real text, abstention, validation."""

from __future__ import annotations

import pytest

from rag.errors import EmptyQuestion, QuestionTooLong
from rag.pipeline import Pipeline
from rag.settings import Settings
from tests.conftest import plain_article
from tests.fakes import HashEmbedder
from tests.unit.test_indexing import BREAD, CATS, ROCKETS


@pytest.fixture
def pipeline(settings: Settings, fake_embedder: HashEmbedder) -> Pipeline:
    p = Pipeline(settings, fake_embedder)
    p.update(upsert=[plain_article("cats", CATS), plain_article("rockets", ROCKETS), plain_article("bread", BREAD)])
    return p


def test_answer_cites_the_sentence_it_quotes(pipeline: Pipeline) -> None:
    ans = pipeline.answer("How many astronauts did the rocket carry?")
    assert not ans.abstained
    assert ans.citations and ans.citations[0].doc_id == "rockets"
    doc = pipeline.snapshot.documents["rockets"]
    for c in ans.citations:
        assert doc.text[c.start : c.end] == c.text
        assert f"[{c.n}]" in ans.answer
    assert "four astronauts" in ans.answer


def test_unrelated_question_abstains(pipeline: Pipeline) -> None:
    ans = pipeline.answer("What is the capital of Australia?")
    assert ans.abstained and not ans.citations
    assert "don't contain" in ans.answer


def test_hits_carry_both_retrievers_scores(pipeline: Pipeline) -> None:
    hits = pipeline.search("sourdough starter culture", k=3)
    assert hits[0].chunk.doc_id == "bread"
    assert hits[0].dense is not None and hits[0].bm25 is not None and hits[0].fused is not None
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))


def test_bad_questions_raise_domain_errors(pipeline: Pipeline) -> None:
    with pytest.raises(EmptyQuestion):
        pipeline.answer("   ")
    with pytest.raises(QuestionTooLong):
        pipeline.answer("x" * (pipeline.settings.max_question_chars + 1))


def test_json_shape(pipeline: Pipeline) -> None:
    d = pipeline.answer("When did the rocket launch?").to_dict()
    assert set(d) >= {"question", "answer", "abstained", "citations", "timings_ms"}
    assert set(d["citations"][0]) == {"n", "doc_id", "title", "chunk_id", "text", "start", "end", "score"}

"""The answer() contract: citations point at real text, abstention, validation."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from rag.answering import answerer as answerer_module
from rag.answering.question_type import question_focus
from rag.answering.short_answer import ShortAnswer
from rag.errors import EmptyQuestion, InvalidQuestion, ModelUnavailable, QuestionTooLong
from rag.pipeline import Pipeline
from rag.settings import Settings
from rag.store.generations import all_vectors
from tests.fakes import HashEmbedder
from tests.texts import BREAD, CATS, ROCKETS, plain_article


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


def test_hits_carry_both_retrievers_scores(pipeline: Pipeline, fake_embedder: HashEmbedder) -> None:
    question = "sourdough starter culture"
    hits = pipeline.search(question, k=3)
    assert hits[0].chunk.doc_id == "bread" and len(hits) == 3
    vectors = all_vectors(pipeline.snapshot.vectors)
    qvec = fake_embedder.embed([question])[0]
    for h in hits:  # the dense score is the cosine with the chunk's stored vector
        assert h.dense == pytest.approx(float(qvec @ vectors[h.chunk.chunk_id]), abs=1e-6)
    assert hits[0].bm25 is not None and hits[0].bm25 > 0
    assert [h.bm25 for h in hits[1:]] == [0.0, 0.0]  # only the bread article says any of the words
    fused = [h.fused for h in hits]
    assert None not in fused and fused[0] > max(fused[1:])  # type: ignore[type-var]
    assert [h.rank for h in hits] == [1, 2, 3]


def test_bad_questions_raise_domain_errors(pipeline: Pipeline) -> None:
    with pytest.raises(EmptyQuestion):
        pipeline.answer("   ")
    with pytest.raises(QuestionTooLong):
        pipeline.answer("x" * (pipeline.settings.answer.max_question_chars + 1))


def test_json_shape(pipeline: Pipeline) -> None:
    d = pipeline.answer("When did the rocket launch?").to_dict()
    assert set(d) == {"question", "answer", "short_answer", "short_answer_confidence", "abstained", "citations",
                      "timings_ms", "answerer", "fallback", "flagged", "dropped_sentences", "generation"}
    assert d["generation"] == pipeline.snapshot.path.name
    assert set(d["citations"][0]) == {"n", "doc_id", "title", "chunk_id", "text", "start", "end", "score", "verified",
                                      "support"}
    assert d["answerer"] == "extractive" and d["fallback"] is None and d["citations"][0]["verified"]


class _PreferBread:
    """Stands in for a cross-encoder model: scores passages mentioning bread highest."""

    def score(self, question: str, texts: list[str]) -> np.ndarray:
        return np.array([10.0 if "bread" in t.lower() else 0.0 for t in texts])


def test_cross_encoder_joins_the_rerank(settings: Settings, fake_embedder: HashEmbedder) -> None:
    cfg = settings.replace(**{"cross_encoder": "/unused", "cross_encoder_weight": 10.0})
    p = Pipeline(cfg, fake_embedder)
    p.update(upsert=[plain_article("cats", CATS), plain_article("rockets", ROCKETS), plain_article("bread", BREAD)])
    assert Pipeline(settings, fake_embedder).search("When did the rocket launch?", k=1)[0].chunk.doc_id == "rockets"
    p.models._cross = _PreferBread()  # type: ignore[assignment]
    assert p.search("When did the rocket launch?", k=1)[0].chunk.doc_id == "bread"


def test_unloadable_cross_encoder_is_a_clear_error(tmp_path: Path) -> None:
    from rag.models.cross_encoder import load_cross_encoder

    with pytest.raises(ModelUnavailable, match="RAG_CROSS_ENCODER"):
        load_cross_encoder(str(tmp_path))


def test_each_sentence_knows_the_one_before_it_in_its_document(pipeline: Pipeline) -> None:
    idx = pipeline.loaded.retriever.sentences
    by_doc: dict[str, list[int]] = {}
    for row in sorted(range(len(idx.rows)), key=lambda r: (idx.rows[r].doc_id, idx.rows[r].start)):
        by_doc.setdefault(idx.rows[row].doc_id, []).append(row)
    assert len(by_doc) == 3
    for rows in by_doc.values():
        assert idx.previous[rows[0]] == -1
        assert [int(idx.previous[r]) for r in rows[1:]] == rows[:-1]
    # Coverage reads a sentence together with the one before it, so it never drops when context is added.
    q = "How many astronauts did the rocket carry?"
    rows = list(range(len(idx.rows)))
    with_context = idx.coverage(q, rows)
    alone = idx.lexical.coverage(q, rows, [-1] * len(rows))
    assert np.all(with_context >= alone) and with_context.max() > 0


def test_a_follow_ups_own_words_steer_the_answer(pipeline: Pipeline) -> None:
    """A question condensed from a follow-up ("context: new subject?") is answered about the new subject."""
    q = "Rocket launch in Florida: how long did the mission last?"
    plain = pipeline.answer(q)
    steered = pipeline.answer(q, focus="How long did the mission last?")
    assert not steered.abstained
    assert "mission lasted ten days" in steered.citations[0].text
    assert plain.citations[0].text != steered.citations[0].text  # the carried-over context won without focus


def test_a_follow_up_whose_own_words_the_answer_never_says_abstains(pipeline: Pipeline) -> None:
    """"And what is the capital of France?" after a rocket question: the carried-over context finds the rocket
    sentences, which say neither "capital" nor "France", so it abstains instead of answering the old topic."""
    q = "Rocket launch in Florida: what is the capital of France?"
    assert not pipeline.answer(q).abstained  # the carried-over words alone find (and would cite) the rocket
    ans = pipeline.answer(q, focus="And what is the capital of France?")
    assert ans.abstained and not ans.citations
    # a follow-up with no words of its own leans on the context; one whose words are cited is answered
    assert not pipeline.answer("Rocket launch in Florida: and when?", focus="And when?").abstained
    assert not pipeline.answer("Rocket launch in Florida: and the astronauts?", focus="And the astronauts?").abstained
    # only the names and numbers it brings in must be said: "title", "year" or "held" rarely are
    q = "Rocket launch in Florida: what year did it launch?"
    assert not pipeline.answer(q, focus="What year did it launch?").abstained
    q = "Rocket launch in Florida: what about Texas?"
    assert pipeline.answer(q, focus="And what about Texas?").abstained


def test_a_question_that_is_not_valid_unicode_is_refused(pipeline: Pipeline) -> None:
    with pytest.raises(InvalidQuestion, match="not valid Unicode"):
        pipeline.answer("\ud800 who")


def test_headings_are_never_cited(settings: Settings, fake_embedder: HashEmbedder) -> None:
    text = ("# Copper Bridge\n\nThe Copper Bridge\n\nIt was designed by Ilse Brandt and opened in 1932.\n\n"
            "## Copper Bridge history\n\nThe bridge is 412 metres long.")
    p = Pipeline(settings.replace(**{"abstain_threshold": 0.0}), fake_embedder)
    p.update(upsert=[plain_article("bridge", text), plain_article("cats", CATS)])
    for question in ("Copper Bridge?", "Who designed the Copper Bridge?", "Copper Bridge history"):
        ans = p.answer(question)
        assert ans.citations and all(c.text.endswith(".") for c in ans.citations), ans.citations


@pytest.mark.parametrize("rerank", [True, False])
def test_short_answer_rerank_embeds_only_the_candidates(settings: Settings, fake_embedder: HashEmbedder,
                                                        rerank: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """The re-rank's one extra model call embeds the focus and candidate spans, never the long sentence (its
    vector comes from the index); switched off, answering makes no call after the question's."""
    text = "Built by Lockheed Martin with Boeing, the probe flew from Cape Canaveral."
    p = Pipeline(settings.replace(**{"short_answer_rerank": rerank, "abstain_threshold": 0.0}), fake_embedder)
    p.update(upsert=[plain_article("probe", text), plain_article("cats", CATS)])
    calls: list[list[str]] = []
    embed = fake_embedder.embed

    def spy(texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        calls.append(list(texts))
        return embed(texts, progress=progress)

    fake_embedder.embed = spy  # type: ignore[method-assign]
    passed: list[np.ndarray | None] = []
    real = answerer_module.find_short_answer

    def spy_short(question: str, sentence: str, embed: object = None,
                  vector: np.ndarray | None = None) -> ShortAnswer | None:
        passed.append(vector)
        return real(question, sentence, embed, vector)  # type: ignore[arg-type]

    monkeypatch.setattr(answerer_module, "find_short_answer", spy_short)
    ans = p.answer("What company built the probe?")
    assert not ans.abstained and ans.short_answer == "Lockheed Martin"
    assert ans.short_answer_confidence == "low"  # picked among names
    assert "short_answer_ms" in ans.timings_ms
    stages = ("load_ms", "embed_ms", "retrieve_ms", "answer_ms", "short_answer_ms")
    assert ans.timings_ms["total_ms"] >= sum(ans.timings_ms[k] for k in stages) * 0.999
    extra = [c for c in calls if c != ["What company built the probe?"]]
    if rerank:
        assert len(extra) == 1 and extra[0][0] == question_focus(ans.question) and ans.short_answer in extra[0]
        assert all(t in text and len(t) < len(text) for t in extra[0][1:])
        # The vector handed over is the answer sentence's own, from the index the answer was selected from.
        idx = p.loaded.retriever.sentences
        row = next(r for r, t in enumerate(idx.texts) if t == ans.citations[0].text)
        assert passed[0] is not None and np.array_equal(passed[0], idx.vectors[row])
    else:
        assert extra == [] and passed == [None]


@pytest.mark.parametrize("every", [0.01, 0.0])
def test_a_generation_another_process_published_is_picked_up(settings: Settings, fake_embedder: HashEmbedder,
                                                              every: float) -> None:
    """`rag index` beside a running server: the server's pipeline swaps in the new generation within
    index_watch_seconds (0: never; its own writes are seen at once either way)."""
    import time as time_module

    server = Pipeline(settings.replace(**{"index_watch_seconds": every}), fake_embedder)
    server.update(upsert=[plain_article("cats", CATS)])
    assert set(server.snapshot.documents) == {"cats"}
    Pipeline(settings, fake_embedder).update(upsert=[plain_article("rockets", ROCKETS)])  # another process
    time_module.sleep(0.05)
    assert set(server.snapshot.documents) == {"cats"}  # reading the snapshot never loads (async code reads it)
    server.search("rockets")  # answer and search look first
    expected = {"cats", "rockets"} if every else {"cats"}
    assert set(server.snapshot.documents) == expected


def test_a_follow_up_is_answered_as_it_stands_when_that_says_more_of_its_own_words(pipeline: Pipeline) -> None:
    """The earlier turn was about rockets, but "they" are cats: the question asked alone cites a sentence that says
    "hunt", the condensed one a rocket sentence that does not, so the answer alone is kept."""
    condensed = "rocket launched from Florida in March carried astronauts: What do they hunt?"
    assert pipeline.answer(condensed).citations[0].text == "The rocket launched from Florida in March."
    ans = pipeline.answer(condensed, focus="What do they hunt?")
    assert ans.question == "What do they hunt?" and ans.citations[0].text == "They hunt mice at night."
    # when the condensed question's sentence says as much of the user's words, it stays
    kept = pipeline.answer("Rocket launch in Florida: how long did the mission last?",
                           focus="How long did the mission last?")
    assert kept.question.startswith("Rocket launch in Florida") and "mission lasted" in kept.citations[0].text

"""Citation recall and precision (ALCE), the LLM answerer's bookkeeping, the question sample, and the verifier as
judge (invented texts; the fake token embedder, so support is word overlap)."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest

from eval.citation_judge import VerifierJudge, check_answer, prompt_passages, reply_sentences, shown_sentences
from eval.citations import CitedSentence, citation_scores, dropped_share, marked_share, pooled_share
from eval.cli import with_answerer
from eval.datasets import Dataset, Question, sample
from eval.scoring import citation_scores as score_row
from rag.pipeline import Pipeline
from rag.settings import Settings
from rag.types import Answer, Chunk, Citation, Flagged, Hit
from tests.fakes import HashTokenEmbedder
from tests.texts import plain_article

#: Which passage sets support which sentence, for a judge that needs no model.
TRUTH = {
    "The mill opened in 1874.": [{1}],
    "Its wheel was made of oak.": [{2}, {3}],
    "The mill and the bridge share a founder.": [{1, 2}],
}


def judge(sentence: str, passages: frozenset[int]) -> bool:
    return any(need <= passages for need in TRUTH.get(sentence, []))


def test_a_sentence_citing_its_one_supporting_passage_scores_one() -> None:
    s = citation_scores([CitedSentence("The mill opened in 1874.", (1,))], judge)
    assert (s.recall, s.precision, s.citations) == (1.0, 1.0, 1)


def test_a_citation_neither_supporting_alone_nor_needed_is_not_relevant() -> None:
    # Passage 1 says nothing about the wheel and passage 2 supports the sentence without it.
    s = citation_scores([CitedSentence("Its wheel was made of oak.", (1, 2))], judge)
    assert s.recall == 1.0
    assert s.relevant == ((False, True),)
    assert s.precision == 0.5


def test_citations_needed_together_are_both_relevant() -> None:
    s = citation_scores([CitedSentence("The mill and the bridge share a founder.", (1, 2))], judge)
    assert s.relevant == ((True, True),) and s.precision == 1.0


def test_two_citations_each_supporting_alone_are_both_relevant() -> None:
    s = citation_scores([CitedSentence("Its wheel was made of oak.", (2, 3))], judge)
    assert s.relevant == ((True, True),)


def test_unsupported_and_uncited_sentences_count_against_recall_and_precision() -> None:
    s = citation_scores([CitedSentence("The mill opened in 1874.", (2,)),  # cites the wrong passage
                         CitedSentence("The mill opened in 1874.", ()),  # cites nothing
                         CitedSentence("Its wheel was made of oak.", (3,))], judge)
    assert s.supported == (False, False, True)
    assert s.recall == pytest.approx(1 / 3)
    assert s.precision == 0.5  # two citations, one relevant


def test_an_answer_without_citations_has_precision_zero_and_no_sentence_is_undefined() -> None:
    assert citation_scores([CitedSentence("The mill opened in 1874.", ())], judge).precision == 0.0
    empty = citation_scores([], judge)
    assert math.isnan(empty.recall) and math.isnan(empty.precision)


def test_shares_of_dropped_and_marked_sentences() -> None:
    assert dropped_share(1, 4) == 0.25
    assert math.isnan(dropped_share(0, 0))
    with pytest.raises(ValueError):
        dropped_share(3, 2)
    assert pooled_share([1, 0, 2], [2, 2, 4]) == 0.375
    assert marked_share([CitedSentence("a", (1,)), CitedSentence("b", ())]) == 0.5


def _chunk(cid: int) -> Chunk:
    return Chunk(cid, "mill", cid, "body", f"passage {cid}", 0, 9, 2)


def _answer(text: str, cites: tuple[tuple[int, int], ...], hits: tuple[int, ...] = (),
            flagged: tuple[int, ...] = (), abstained: bool = False, answerer: str = "extractive") -> Answer:
    return Answer("q", text, abstained,
                  tuple(Citation(n, "mill", "Mill", cid, "", 0, 0, 0.5) for n, cid in cites),
                  hits=tuple(Hit(_chunk(c), 1.0) for c in hits),
                  flagged=tuple(Flagged("mill", c, "instruction", "") for c in flagged), answerer=answerer)


def test_an_llm_answer_shows_sentences_ending_in_their_markers() -> None:
    a = _answer('The mill opened in 1874 [1]. Its sign read "Harrow." [2][1] It had no name', ((1, 40), (2, 41)),
                answerer="llm")
    assert shown_sentences(a) == [CitedSentence("The mill opened in 1874.", (40,)),
                                  CitedSentence('Its sign read "Harrow."', (41, 40)),
                                  CitedSentence("It had no name", ())]
    assert shown_sentences(_answer("No answer.", (), abstained=True)) == []


def test_an_extractive_answer_shows_one_quoted_sentence_per_citation() -> None:
    a = _answer('Its sign read "Harrow." [1] The mill opened in 1874. [2]', ((1, 40), (2, 41)))
    a = replace(a, citations=tuple(replace(c, text=t) for c, t in
                                   zip(a.citations, ('Its sign read "Harrow."', "The mill opened in 1874."),
                                       strict=True)))
    assert shown_sentences(a) == [CitedSentence('Its sign read "Harrow."', (40,)),
                                  CitedSentence("The mill opened in 1874.", (41,))]


def test_the_raw_reply_cites_prompt_passages_which_leave_out_the_withheld_ones() -> None:
    a = _answer("", (), hits=(7, 8, 9), flagged=(8,))
    assert prompt_passages(a) == [7, 9]
    got = reply_sentences("The mill opened in 1874 [2]. Nothing cites here. Out of range [5].", prompt_passages(a))
    assert got == [CitedSentence("The mill opened in 1874.", (9,)), CitedSentence("Nothing cites here.", ()),
                   CitedSentence("Out of range.", ())]


def test_row_scores_leave_out_what_an_answer_does_not_define() -> None:
    from eval.citation_judge import CitationCheck
    from eval.citations import CitationScores

    shown = CitationScores(1.0, 1.0, (True,), ((True,),))
    extractive = score_row(False, None, 0, CitationCheck(shown, None, 0))
    assert extractive == {"fallback": 0.0, "citation_recall": 1.0, "citation_precision": 1.0}
    abstained = score_row(True, None, 0, CitationCheck(CitationScores(math.nan, math.nan, (), ()), None, 0))
    assert abstained == {"fallback": 0.0}
    raw = CitationScores(0.5, 1.0, (True, False), ((True,), ()))
    llm = score_row(False, "the LLM failed", 1, CitationCheck(shown, raw, 2, "r", 0.5))
    assert llm["fallback"] == 1.0 and llm["dropped_share"] == 0.5 and llm["raw_citation_recall"] == 0.5
    assert llm["raw_marked_share"] == 0.5


def _questions(doc: str, n: int) -> tuple[Question, ...]:
    return tuple(Question(f"{doc}#{i}", doc, f"question {i} about {doc}?", ("x",)) for i in range(n))


def test_a_sample_is_fixed_spread_over_articles_and_keeps_every_article() -> None:
    arts = tuple(plain_article(d, f"The {d} article.") for d in ("a", "b", "c"))
    ds = Dataset("toy", "toy", "qa", arts, _questions("a", 10) + _questions("b", 2) + _questions("c", 10))
    s = sample(ds, 7)
    assert len(s.questions) == 7 and s.articles == ds.articles and s.name == "toy-sample7"
    per_doc = {d: sum(q.doc_id == d for q in s.questions) for d in "abc"}
    assert per_doc == {"a": 3, "b": 2, "c": 2}  # round robin; b runs out after two
    assert sample(ds, 7).questions == s.questions
    assert sample(ds, 7, seed=1).questions != s.questions
    assert len(sample(ds, 100).questions) == 22


def test_the_llm_answerer_defaults_to_the_bundled_model() -> None:
    s = with_answerer(Settings(), "llm")
    assert s.answers_with_llm and s.generation.llm == "local"
    served = with_answerer(Settings(llm_base_url="http://127.0.0.1:9/v1"), "llm")
    assert served.generation.llm is None and served.answers_with_llm
    assert not with_answerer(Settings(llm="local"), "extractive").answers_with_llm


MILL = ("The Harrow mill opened in 1874 beside the river. Its wheel was made of oak and turned for ninety years. "
        "Miller Ada Fenn ran it until 1921.")


@pytest.fixture
def mill(tmp_path: Path) -> Pipeline:
    p = Pipeline(Settings(index_dir=tmp_path / "index"), HashTokenEmbedder())
    p.update(upsert=[plain_article("mill", MILL)])
    return p


def test_the_verifier_judge_supports_what_the_passage_says_and_not_a_swapped_date(mill: Pipeline) -> None:
    j = VerifierJudge(mill.embedder, mill.loaded, threshold=0.6)
    cid = mill.loaded.retriever.chunks[0].chunk_id
    assert j.supports("The Harrow mill opened in 1874 beside the river.", frozenset({cid}))
    assert not j.supports("The Harrow mill opened in 1875 beside the river.", frozenset({cid}))
    assert not j.supports("The Harrow mill opened in 1874 beside the river.", frozenset())


def test_an_answer_is_judged_as_shown_and_as_first_written(mill: Pipeline) -> None:
    j = VerifierJudge(mill.embedder, mill.loaded, threshold=0.6)
    cid = mill.loaded.retriever.chunks[0].chunk_id
    a = _answer("Miller Ada Fenn ran it until 1921 [1].", ((1, cid),), hits=(cid,), answerer="llm")
    check = check_answer(j, a, "Miller Ada Fenn ran it until 1921 [1]. Miller Ada Fenn ran it until 1950.")
    assert check.shown.recall == 1.0
    assert check.raw is not None and check.raw.supported == (True, False) and check.written == 2
    assert check.marked == 0.5
    assert check_answer(j, a, None).raw is None

"""The citation verifier: markers, claims, per-sentence support, attribution (token vectors from the fake
token embedder, so support is exact word overlap)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.generation.verify import Evidence, Verifier, claims, split_markers, states
from rag.pipeline import Pipeline
from rag.settings import Settings
from rag.types import Article
from tests.fakes import HashEmbedder, HashTokenEmbedder
from tests.texts import HARBOUR, ORCHARD


def _article(doc_id: str, text: str) -> Article:
    import hashlib

    return Article(doc_id=doc_id, title=doc_id, text=text, body_start=0, body_end=len(text),
                   sha256=hashlib.sha256(text.encode()).hexdigest())


def _evidence(p: Pipeline) -> list[Evidence]:
    ret = p.loaded.retriever
    out = []
    for row, chunk in enumerate(ret.chunks):
        rows = tuple(int(r) for r in ret.sentence_rows(row))
        out.append(Evidence(chunk.text, rows, tuple(ret.sentences.texts[r] for r in rows)))
    return out


@pytest.fixture
def indexed(tmp_path: Path) -> Pipeline:
    p = Pipeline(Settings(index_dir=tmp_path / "index"), HashTokenEmbedder())
    p.update(upsert=[_article("harbour", HARBOUR), _article("orchard", ORCHARD)])
    return p


def test_markers_are_parsed_and_out_of_range_ones_removed() -> None:
    assert split_markers("It opened in 1874 [1].", 2) == ("It opened in 1874.", (0,), False)
    assert split_markers("Both say so [2][1] [1, 2].", 2) == ("Both say so.", (1, 0), False)
    assert split_markers("A storm closed it [Passage 2].", 2) == ("A storm closed it.", (1,), False)
    assert split_markers("Nine days [7].", 2) == ("Nine days.", (), True)


def test_claims_are_the_names_numbers_and_dates_a_sentence_states() -> None:
    assert claims("The harbour at Velmor opened in 1874 with 212 ships.") == ["1874", "212", "Velmor"]
    assert claims("Its first pilot was Anna Krell.") == ["Anna Krell"]
    assert claims("It rained.") == []
    assert claims("KESTREL-9 opens the gate.") == ["9", "KESTREL-9"]  # a code is a claim, first word or not


def test_a_claim_is_stated_by_its_words_with_number_words_as_digits() -> None:
    assert states(HARBOUR, "Anna Krell") and states(HARBOUR, "1874")
    assert not states(HARBOUR, "Anna Berg") and not states(HARBOUR, "1875")
    assert states("It took 9 days.", "nine") and states("It cost 1,000 marks.", "1000")


def test_a_supported_sentence_passes_and_a_swapped_name_number_or_date_fails(indexed: Pipeline) -> None:
    ev = _evidence(indexed)
    v = Verifier(indexed.embedder, indexed.loaded.retriever.sentences, threshold=0.5)
    harbour = next(i for i, e in enumerate(ev) if "Velmor" in e.text) + 1
    good, name, number, date = v.check([
        f"The harbour at Velmor opened in 1874 [{harbour}].",
        f"Its first pilot was Tomas Vey [{harbour}].",
        f"Anna Krell guided 213 ships in her first year [{harbour}].",
        f"A storm closed the harbour for nine days in 1903 [{harbour}].",
    ], ev)
    assert good.verified and good.support == pytest.approx(1.0) and good.missing == ()
    assert not name.verified and name.missing == ("Tomas Vey",)
    assert not number.verified and number.missing == ("213",)
    assert not date.verified and date.missing == ("1903",)


def test_a_name_split_across_two_sentences_is_not_stated(indexed: Pipeline) -> None:
    """Window of two sentences for support, but each claim must sit in one sentence: "Velmor" and "Krell" are
    in the passage, "Velmor Krell" is in none of its sentences."""
    ev = _evidence(indexed)
    v = Verifier(indexed.embedder, indexed.loaded.retriever.sentences, threshold=0.3)
    (verdict,) = v.check(["The pilot was Velmor Krell [1]."], ev[:1])
    assert not verdict.verified and verdict.missing == ("Velmor Krell",)


def test_a_sentence_without_a_marker_is_attributed_to_the_passage_supporting_it(indexed: Pipeline) -> None:
    ev = _evidence(indexed)
    v = Verifier(indexed.embedder, indexed.loaded.retriever.sentences, threshold=0.5)
    (verdict,) = v.check(["Picking starts in late August."], ev)
    orchard = next(i for i, e in enumerate(ev) if "Dunmere" in e.text)
    assert verdict.verified and verdict.attributed and verdict.cited == (orchard,)
    (wrong,) = v.check(["Picking starts in late August [1]."], [e for e in ev if "Velmor" in e.text])
    assert not wrong.verified and wrong.cited == (0,)


def test_without_token_vectors_support_is_word_overlap(tmp_path: Path) -> None:
    p = Pipeline(Settings(index_dir=tmp_path / "index"), HashEmbedder())
    p.update(upsert=[_article("orchard", ORCHARD)])
    v = Verifier(p.embedder, p.loaded.retriever.sentences, threshold=0.75)
    ok, off = v.check(["The orchard grows forty kinds of pear [1].", "The orchard sells apples and cider [1]."],
                      _evidence(p))
    assert ok.verified and ok.support == pytest.approx(1.0)
    assert not off.verified and off.support == pytest.approx(1 / 4)  # orchard; not sells, apples, cider


def test_an_acronym_inside_a_hyphenated_word_is_stated() -> None:
    assert states("The station QRT-TV opened in 1971.", "QRT") and states("The QRT-TV mast.", "QRT-TV")
    assert not states("The station QRT-TV opened in 1971.", "QRS")

"""The verifier's labelled set (invented passages): hard positives, swaps of names, numbers and dates, the draw;
and the threshold sweep and choice."""

from __future__ import annotations

import random

import pytest

from eval.verifier import Judged, choose, misses, rates, wilson_upper
from eval.verifier_set import (
    QA,
    Pair,
    Passage,
    absent,
    build,
    declarative,
    drop_clause,
    spans,
    swap,
    swap_pool,
    usable,
)

P1 = ("The harbour at Velmor opened in 1874 after a long dispute. Its first pilot was Anna Krell, who guided 212 ships "
      "in her first year. A storm closed the harbour for nine days in March 1902.")
P2 = ("The Dunmere orchard grows forty kinds of pear on the south slope. Picking starts in late August, when the "
      "fruit is firm. The oldest tree was planted by Tomas Vey in 1790 near the old gate.")
P3 = ("The orchard's cider press, which Ilse Marrow built from elm, still works every autumn. Each season the press "
      "fills 340 barrels for the village of Carth.")


def _passages() -> list[Passage]:
    out = []
    for cid, (doc, text) in enumerate((("velmor", P1), ("dunmere", P2), ("dunmere", P3))):
        out.append(Passage("toy", doc, cid, text, tuple(s.strip() + "." for s in text.split(". ") if s.strip())))
    return [Passage(p.dataset, p.doc_id, p.chunk_id, p.text, tuple(s.rstrip(".") + "." for s in p.sentences))
            for p in out]


def test_usable_sentences_are_statements_of_moderate_length() -> None:
    assert usable("The oldest tree was planted by Tomas Vey.")
    assert not usable("It rained.")
    assert not usable("Who planted the oldest tree?")
    assert not usable('"Come here," she said to the miller at once.')


def test_a_clause_that_only_adds_detail_is_cut() -> None:
    assert drop_clause("The cider press, which Ilse Marrow built from elm, still works every autumn.") == \
        "The cider press still works every autumn."
    assert drop_clause("The harbour (the oldest on the coast) opened in 1874 after a dispute.") == \
        "The harbour opened in 1874 after a dispute."
    assert drop_clause("In the spring of 1790, the oldest tree was planted near the gate.") == \
        "The oldest tree was planted near the gate."
    assert drop_clause("The press fills many barrels every single year.") is None  # nothing to cut


def test_a_subject_question_becomes_a_statement_with_the_answer_in_its_place() -> None:
    assert declarative("Who planted the oldest tree?", "Tomas Vey") == "Tomas Vey planted the oldest tree."
    assert declarative("Which pilot guided 212 ships?", "Anna Krell.") == "Anna Krell guided 212 ships."
    assert declarative("What is the press called?", "the Elm") is None  # the wh-word is an object
    assert declarative("When did the harbour open?", "1874") is None
    assert declarative("What did Anna Krell guide?", "ships") is None


def test_names_numbers_and_dates_are_found_apart() -> None:
    s = "In March 1902 a storm kept Anna Krell and 212 ships in Port Velmor for 9 days [41]."

    def texts(kind: str) -> list[str]:
        return [s[a:b] for a, b in spans(s, kind)]

    assert texts("date") == ["March 1902"]
    assert texts("number") == ["212", "9"]  # not the year, not a bracketed page mark
    assert texts("name") == ["Anna Krell", "Port Velmor"]  # "In" opens the sentence; "March" is a date
    assert [s[a:b] for s in ["It was Anna Krell's boat."] for a, b in spans(s, "name")] == ["Anna Krell"]


def test_a_swap_puts_in_a_same_kind_item_the_passage_does_not_state() -> None:
    corpus = [P1, P2, P3]
    years = swap_pool(corpus, "date")
    assert years["year"] == ["1874", "1790"] and years["month-year"] == ["March 1902"]
    rng = random.Random(0)
    got = swap("Anna Krell opened the harbour in 1874.", P1, "date", years, rng)
    assert got == ("Anna Krell opened the harbour in 1790.", "1874 -> 1790")
    names = swap_pool(corpus, "name")
    got = swap("Its first pilot was Anna Krell.", P1, "name", names, rng)
    assert got is not None and "Anna Krell" not in got[0] and absent(got[1].split(" -> ")[1], P1)
    assert swap("It opened in 1874.", P1, "date", {"year": ["1874"]}, rng) is None  # nothing absent to put in


def test_a_capitalised_ordinary_word_is_not_a_name_to_swap() -> None:
    corpus = ["Then the Fairy Queen came.", "A fairy sat on the wall near Tomas Vey."]
    pool = swap_pool(corpus, "name")
    assert "Tomas Vey" in pool["2-word"] and "Fairy Queen" in pool["2-word"]
    assert all(t != "Fairy" for texts in pool.values() for t in texts)


def test_absent_means_not_stated_and_not_pieced_together() -> None:
    assert not absent("Anna Krell", P1) and not absent("anna krell", P1)
    assert absent("Anna Berg", P1)
    assert not absent("Krell Anna", "Anna met Krell.")  # every word is there: not clearly absent
    assert not absent("Krell's", "Anna met Krell.")  # a possessive says the name
    assert not absent("2", "Two ships came.") and not absent("1000", "It cost 1,000 marks.")
    assert absent("3", "Two ships came.")


def test_build_draws_labelled_pairs_of_every_kind_deterministically() -> None:
    qas = [QA("dunmere", "Who planted the oldest tree?", ("Tomas Vey",))]
    pairs = build(_passages(), qas, per_kind=2, seed=3)
    kinds = {p.kind for p in pairs}
    assert {"verbatim", "clause_removed", "qa_declarative", "other_passage", "swap_number", "swap_date"} <= kinds
    assert all(p.supported == (p.kind in ("verbatim", "clause_removed", "qa_declarative")) for p in pairs)
    by_id = {p.chunk_id: p for p in _passages()}
    for p in pairs:
        text = by_id[p.chunk_id].text
        if p.kind == "verbatim":
            assert p.sentence.rstrip(".") in text
        if p.kind == "other_passage":
            assert p.doc_id == "dunmere" and p.sentence.rstrip(".") not in text
        if p.kind.startswith("swap_"):
            assert absent(p.detail.split(" -> ")[1], text) and p.sentence.rstrip(".") not in text
    assert build(_passages(), qas, per_kind=2, seed=3) == pairs
    assert sum(p.kind == "verbatim" for p in pairs) == 2


def _judged(kind: str, supported: bool, support: float, missing: int = 0) -> Judged:
    return Judged(kind, supported, "toy", "d", 0, support, missing, "calibration")


def test_rates_count_verified_pairs_and_swaps_caught() -> None:
    js = [_judged("verbatim", True, 0.9), _judged("qa_declarative", True, 0.5),
          _judged("other_passage", False, 0.55), _judged("swap_date", False, 0.95, missing=1)]
    r = rates(js, 0.5)
    assert r["recall"] == 1.0 and r["precision"] == pytest.approx(2 / 3, abs=1e-4)
    assert r["swap_caught"]["date"] == 1.0 and r["swap_caught"]["name"] is None
    assert rates(js, 0.6)["recall"] == 0.5 and rates(js, 0.6)["precision"] == 1.0


def test_the_chosen_threshold_keeps_the_other_passage_bound_within_budget() -> None:
    js = [_judged("verbatim", True, 0.9) for _ in range(50)]
    js += [_judged("other_passage", False, 0.3 + 0.005 * i) for i in range(100)]  # 0.300 .. 0.795
    js += [_judged("swap_number", False, 0.99)]  # a swap the claim check missed: not the threshold's job
    t = choose(js, grid=[0.5, 0.6, 0.7, 0.8], budget=0.05)
    assert t == 0.8  # at 0.7 one in fifty of the pairs still passes, and its upper bound is over 5%
    assert rates(js, t)["other_passage_verified_upper95"] <= 0.05
    assert rates(js, t)["swap_caught"]["number"] == 0.0
    assert wilson_upper(0, 100) == pytest.approx(0.0263, abs=1e-3)
    assert wilson_upper(5, 100) > 0.05


def test_pairs_carry_no_more_than_their_kind_label_needs() -> None:
    p = Pair("swap_date", False, "A sentence.", "toy", "d", 1, "1874 -> 1790")
    assert not p.supported and p.detail.endswith("1790")


def test_misses_list_only_the_pairs_judged_wrongly() -> None:
    pairs = [Pair("verbatim", True, "Kept.", "toy", "d", 0), Pair("verbatim", True, "Lost.", "toy", "d", 0),
             Pair("swap_date", False, "Passed.", "toy", "d", 0, "1874 -> 1790")]
    js = [_judged("verbatim", True, 0.9), _judged("verbatim", True, 0.4), _judged("swap_date", False, 0.9)]
    got = misses(pairs, js, 0.5)
    assert [line.split("\t")[3] for line in got] == ["Lost.", "Passed."]
    assert got[1].endswith("1874 -> 1790")

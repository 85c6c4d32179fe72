"""Sentence splitting keeps character offsets, abbreviations and list items; a news dateline is skipped."""

from __future__ import annotations

from rag.ingest.sentences import is_list_item, sentence_spans, skip_dateline


def split(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)]


def test_sentence_spans_keep_offsets_and_abbreviations() -> None:
    text = "Dr. Brandt met Mr. Okoye at No. 5 Mill St. yesterday. Was it late? No. It was 3.5 hours early!\n\nNew para"
    assert split(text) == ["Dr. Brandt met Mr. Okoye at No. 5 Mill St. yesterday.", "Was it late?", "No.",
                           "It was 3.5 hours early!", "New para"]


def test_abbreviations_and_initials_end_no_sentence() -> None:
    # a listed abbreviation ("Jan."), an initial ("J."), a dotted one ("e.g."): none ends the sentence
    text = "The fair opened on Jan. 4 in Tarnby. J. Okoye sold pies, e.g. Apple tart. It rained."
    assert split(text) == ["The fair opened on Jan. 4 in Tarnby.", "J. Okoye sold pies, e.g. Apple tart.", "It rained."]
    # an unlisted word before a full stop does end one
    assert split("They met at the mill. Then they left.") == ["They met at the mill.", "Then they left."]


def test_list_items_are_sentences_of_their_own() -> None:
    text = "Prices:\n- Single ticket 12 euros\n- Return ticket 20 euros\n1. First step\n2. Second step. More."
    assert split(text) == ["Prices:", "- Single ticket 12 euros", "- Return ticket 20 euros", "1. First step",
                           "2. Second step.", "More."]
    assert is_list_item("- warm boots") and is_list_item("3) Pack the tent") and not is_list_item("Pack the tent")


def test_a_wrapped_line_starting_like_an_item_is_no_list() -> None:
    text = "The ferry carried\n- as the log says - forty rowers."
    assert split(text) == [text]


def test_dateline_is_skipped_only_at_the_start() -> None:
    t = "Tarnby, Velkaria (AP) — Mayor Brix hosted Danish rowers."
    assert t[skip_dateline(t, 0, len(t)):] == "Mayor Brix hosted Danish rowers."
    plain = "Brix hosted rowers (AP) — and artists."
    assert skip_dateline(plain, 0, len(plain)) == 0

"""Which sentences can answer: headings are no statements, facts set out as lines are."""

from __future__ import annotations

import pytest

from rag.answering.extractive import is_statement


@pytest.mark.parametrize(("sentence", "statement"), [
    ("The Copper Bridge", False),                       # a short line, no full stop, digit or colon: a heading
    ("# Glass Harps and bells of the north", False),   # a Markdown heading
    ("Open daily", False),                              # fewer than three words
    ("Saturday: 10:00 to 14:00", True),                 # a colon: a fact set out as a line
    ("- Return ticket 20 euros", True),                 # a list item
    ("Tickets cost 12 euros", True),                    # a digit
    ("It opened in 1932.", True),                       # closing punctuation
    ("The ferry to Ostrel leaves from the north pier every morning at dawn", True),  # longer than a heading
])
def test_headings_are_no_statements_but_facts_set_out_as_lines_are(sentence: str, statement: bool) -> None:
    assert is_statement(sentence) is statement

"""Sentence and paragraph segmentation that keeps character offsets."""

from __future__ import annotations

import re

from rag.vocabulary import ABBREVIATIONS

# A boundary: terminal punctuation (plus closing quotes/brackets), whitespace, then something
# that can open a sentence. Abbreviations are filtered afterwards.
_BOUNDARY = re.compile(r"[.!?…]+[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])")
_PARAGRAPH = re.compile(r"\n\s*\n")
#: A news dateline such as "Tarnby, Velkaria (AP) — " opening an article: a byline, not content.
#: Only capitalised place words may precede the agency, so a sentence that merely cites one is untouched.
DATELINE = re.compile(r"[A-Z][\w.'’-]*(?:,? [A-Z][\w.'’-]*){0,5},? ?\([A-Za-z][\w .&-]{0,20}\)\s*[—–-]+\s*")


def paragraph_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Non-blank paragraphs of ``text[start:end]`` as (start, end) offsets, whitespace trimmed."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    pos = start
    for m in _PARAGRAPH.finditer(text, start, end):
        spans.extend(_trim(text, pos, m.start()))
        pos = m.end()
    spans.extend(_trim(text, pos, end))
    return spans


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentences of ``text[start:end]`` as (start, end) offsets; never crosses a paragraph break."""
    spans: list[tuple[int, int]] = []
    for p_start, p_end in _items(text, paragraph_spans(text, start, end)):
        pos = p_start
        for m in _BOUNDARY.finditer(text, p_start, p_end):
            if _is_abbreviation(text, pos, m.start()) or _LIST_NUMBER.fullmatch(text, pos, m.start()):
                continue
            cut = m.end() - (len(m.group(0)) - len(m.group(0).rstrip()))
            spans.extend(_trim(text, pos, cut))
            pos = m.end()
        spans.extend(_trim(text, pos, p_end))
    return spans


_ITEM_START = r"[ \t]*(?:[-*•+]|\d{1,2}[.)])[ \t]+\S"  # "- ", "* ", "• ", "2. ", "3) " and then the item
#: A line that opens a list item: items are sentences of their own, full stop or not.
_LIST_ITEM = re.compile(r"\n(?=" + _ITEM_START + ")")
_LIST_START = re.compile(_ITEM_START)
_LIST_NUMBER = re.compile(r"\s*\d{1,2}")  # "2" of "2. Second step" ends no sentence


def is_list_item(sentence: str) -> bool:
    """Whether a sentence is a list item ("- warm clothes and boots"), which needs no full stop to be one."""
    return _LIST_START.match(sentence) is not None


def _items(text: str, paragraphs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The paragraphs, each cut where a list item starts a line, in a paragraph of two items or more (a wrapped line
    that happens to start with "2." or "-" is no list)."""
    out: list[tuple[int, int]] = []
    for p_start, p_end in paragraphs:
        cuts = list(_LIST_ITEM.finditer(text, p_start, p_end))
        if len(cuts) + bool(_LIST_START.match(text, p_start)) < 2:
            out.append((p_start, p_end))
            continue
        pos = p_start
        for m in cuts:
            out.extend(_trim(text, pos, m.start()))
            pos = m.end()
        out.extend(_trim(text, pos, p_end))
    return out


def skip_dateline(text: str, start: int, end: int) -> int:
    """Where a sentence's content starts: after a leading news dateline, if it has one."""
    m = DATELINE.match(text, start, end)
    return m.end() if m and m.end() < end else start


def _is_abbreviation(text: str, sent_start: int, dot: int) -> bool:
    if text[dot] != ".":
        return False
    word_start = dot
    while word_start > sent_start and not text[word_start - 1].isspace():
        word_start -= 1
    word = text[word_start:dot].lower().lstrip("(\"'“‘")
    if word == "no":  # "No. 5" is an abbreviation, a bare "No." answer is a sentence
        return text[dot + 1 : dot + 3].strip()[:1].isdigit()
    if word in ABBREVIATIONS:
        return True
    # Initials such as "J." or "U.S." (a single letter before the dot).
    return (len(word) == 1 and word.isalpha()) or bool(re.fullmatch(r"(?:[a-z]\.)+[a-z]", word))


def _trim(text: str, start: int, end: int) -> list[tuple[int, int]]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return [(start, end)] if end > start else []

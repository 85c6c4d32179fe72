"""Split an article into its body, its own FAQ section and a trailing disclaimer."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

from rag.ingest.sentences import paragraph_spans, sentence_spans
from rag.types import FaqPair

_HEADING = re.compile(
    r"(?:frequently\s+asked\s+questions(?:\s*\((?:faq|f\.a\.q\.?)(?:'?s)?\))?|faq(?:'?s)?|f\.a\.q\.?(?:'?s)?)",
    re.IGNORECASE,
)
_DISCLAIMER = re.compile(
    r"[(\[]?\s*(?:\*\*|__|\*|_)?\s*(?P<kind>disclaimer|editor'?s\s+note|note)\s*(?:\*\*|__|\*|_)?\s*[:\-–—]",
    re.IGNORECASE,
)
# "Note:" alone is too common in real prose; only a note about the piece itself is a disclaimer.
_NOTE_SUBJECT = re.compile(
    r"\b(?:this|the)\s+(?:article|story|report|post|piece|content|summary|text|page)\b|\bgenerated\b",
    re.IGNORECASE,
)
_MARK = r"(?:\*\*|__)?"
_QA_LABEL = re.compile(
    rf"[ \t]*(?:[-*+][ \t]+)?{_MARK}[ \t]*(?P<label>q|question|a|answer)(?:[ \t]*\d+)?"
    rf"[ \t]*{_MARK}[ \t]*:[ \t]*{_MARK}[ \t]*",
    re.IGNORECASE,
)
_INLINE_ANSWER = re.compile(rf"[ \t]{_MARK}(?:a|answer){_MARK}:[ \t]*{_MARK}[ \t]*", re.IGNORECASE)
_MD_HEADING = re.compile(r"[ \t]{0,3}#{1,6}[ \t]+(?P<q>.+?)[ \t]*#*[ \t]*$")
_BOLD_Q = re.compile(
    r"[ \t]*(?:(?:\d{1,3}[.)]|[-*+])[ \t]+)?(?:\*\*|__)(?P<q>[^\n]+?\?)[ \t]*(?:\*\*|__)[ \t]*(?P<rest>.*)$"
)
_NUMBERED_Q = re.compile(r"[ \t]*(?:\*\*|__)?\d{1,3}[.)][ \t]+(?P<q>[^?\n]+\?)(?:\*\*|__)?[ \t]*(?P<rest>.*)$")
_QUESTION_PREFIX = re.compile(
    r"(?:#{1,6}[ \t]+|\*\*|__|(?:q|question)(?:[ \t]*\d+)?[ \t]*[:.][ \t]*|\d{1,3}[.):][ \t]+)", re.IGNORECASE
)
_BARE_NO = re.compile(r"No\.\s+(?=[A-Z])")
_CLOSERS = "\"'”’)]*_"


@dataclass(frozen=True)
class ArticleSplit:
    """Where the body ends and what follows it; offsets index the text given to ``split_article``."""

    body_start: int
    body_end: int
    faq_start: int | None
    faq: tuple[FaqPair, ...]
    disclaimer: str | None


class _Marker(NamedTuple):
    line_start: int
    q_start: int
    q_end: int
    a_start: int


def split_article(text: str, start: int = 0) -> ArticleSplit:
    """Find the body, the FAQ section (after an FAQ heading) and a trailing disclaimer in ``text[start:]``."""
    end = len(text)
    disclaimer: str | None = None
    cut = _disclaimer_start(text, start, end)
    if cut is not None:
        disclaimer = text[cut:end].strip()
        end = cut
    heading = _faq_heading(text, start, end)
    body_start, body_end = _trim(text, start, heading[0] if heading else end)
    if heading is None:
        return ArticleSplit(body_start, body_end, None, (), disclaimer)
    return ArticleSplit(body_start, body_end, heading[0], parse_faq(text, heading[1], end), disclaimer)


def parse_faq(text: str, start: int = 0, end: int | None = None) -> tuple[FaqPair, ...]:
    """Question/answer pairs in ``text[start:end]``; questions and answers are exact substrings of ``text``."""
    end = len(text) if end is None else end
    lines = _lines(text, start, end)
    candidates = [_qa_markers(text, lines), _heading_markers(text, lines), _line_markers(text, lines, _BOLD_Q),
                  _line_markers(text, lines, _NUMBERED_Q)]
    best = max(candidates, key=len)  # ties keep the earlier (more explicit) format
    if best:
        return _pairs_from_markers(text, best, lines, end)
    return _sentence_pairs(text, start, end)


def is_question(sentence: str) -> bool:
    """Whether a sentence ends with a question mark (closing quotes and markup ignored)."""
    return sentence.rstrip().rstrip(_CLOSERS).endswith("?")


def _disclaimer_start(text: str, start: int, end: int) -> int | None:
    paragraphs = paragraph_spans(text, start, end)
    if not paragraphs:
        return None
    p_start, p_end = paragraphs[-1]
    for line_start, line_end in _lines(text, p_start, p_end):
        m = _DISCLAIMER.match(text, line_start, line_end)
        if m is None:
            continue
        if m.group("kind").lower() == "note" and not _NOTE_SUBJECT.search(text, m.end(), p_end):
            continue
        return _trim(text, line_start, line_end)[0]
    return None


def _faq_heading(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The last line that is only an FAQ heading, as (line start, line end)."""
    found: tuple[int, int] | None = None
    for line_start, line_end in _lines(text, start, end):
        label = text[line_start:line_end].strip().lstrip("#").strip()
        previous = None
        while label != previous:
            previous = label
            label = label.strip().strip("*_").strip().rstrip(":")
        if label and _HEADING.fullmatch(label):
            found = _trim(text, line_start, line_end)
    return found


def _qa_markers(text: str, lines: list[tuple[int, int]]) -> list[_Marker]:
    labelled = [(s, e, m) for s, e in lines if (m := _QA_LABEL.match(text, s, e))]
    markers: list[_Marker] = []
    for i, (line_start, line_end, m) in enumerate(labelled):
        if m.group("label").lower() not in ("q", "question"):
            continue
        nxt = labelled[i + 1] if i + 1 < len(labelled) else None
        if nxt is not None and nxt[2].group("label").lower() in ("a", "answer"):
            markers.append(_Marker(line_start, m.end(), nxt[0], nxt[2].end()))
        elif inline := _INLINE_ANSWER.search(text, m.end(), line_end):
            markers.append(_Marker(line_start, m.end(), inline.start(), inline.end()))
    return markers


def _heading_markers(text: str, lines: list[tuple[int, int]]) -> list[_Marker]:
    markers: list[_Marker] = []
    for line_start, line_end in lines:
        m = _MD_HEADING.match(text, line_start, line_end)
        if m and is_question(m.group("q")):
            markers.append(_Marker(line_start, m.start("q"), m.end("q"), line_end))
    return markers


def _line_markers(text: str, lines: list[tuple[int, int]], pattern: re.Pattern[str]) -> list[_Marker]:
    markers: list[_Marker] = []
    for line_start, line_end in lines:
        m = pattern.match(text, line_start, line_end)
        if m:
            a_start = m.start("rest") if m.group("rest").strip() else line_end
            markers.append(_Marker(line_start, m.start("q"), m.end("q"), a_start))
    return markers


def _pairs_from_markers(
    text: str, markers: list[_Marker], lines: list[tuple[int, int]], end: int
) -> tuple[FaqPair, ...]:
    headings = [s for s, e in lines if _MD_HEADING.match(text, s, e)]
    pairs: list[FaqPair] = []
    for i, mk in enumerate(markers):
        stop = markers[i + 1].line_start if i + 1 < len(markers) else end
        # A non-question heading (e.g. "## Shipping") closes the answer before it.
        stop = min([stop, *(h for h in headings if mk.a_start <= h < stop)])
        q_start, q_end = _strip_markup(text, mk.q_start, mk.q_end)
        a_start, a_end = _trim(text, mk.a_start, stop)
        if q_end > q_start and a_end > a_start:
            pairs.append(FaqPair(text[q_start:q_end], text[a_start:a_end]))
    return tuple(pairs)


def _sentence_pairs(text: str, start: int, end: int) -> tuple[FaqPair, ...]:
    """Pairs run together in prose: a question is a '?' sentence followed by a non-question sentence."""
    sents = _split_bare_no(text, sentence_spans(text, start, end))
    asks = [is_question(text[s:e]) for s, e in sents]
    # A '?' sentence followed by another '?' sentence (or by nothing) is rhetorical: it stays in its answer.
    heads = [i for i in range(len(sents) - 1) if asks[i] and not asks[i + 1]]
    pairs: list[FaqPair] = []
    for n, i in enumerate(heads):
        first = i
        while n == 0 and first > 0 and asks[first - 1]:
            first -= 1  # questions before the first answer can only belong to the first question
        last = heads[n + 1] - 1 if n + 1 < len(heads) else len(sents) - 1
        q_start, q_end = _strip_markup(text, sents[first][0], sents[i][1])
        pairs.append(FaqPair(text[q_start:q_end], text[sents[i + 1][0] : sents[last][1]]))
    return tuple(pairs)


def _split_bare_no(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Undo the "No." abbreviation rule for a bare "No." answer ("Is it free? No. Is it open? ...")."""
    out: list[tuple[int, int]] = []
    for s, e in spans:
        m = _BARE_NO.match(text, s, e)
        out.extend([(s, s + 3), (m.end(), e)] if m else [(s, e)])
    return out


def _strip_markup(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink a question span past heading marks, bold markers and numbering (keeps a substring)."""
    start, end = _trim(text, start, end)
    while m := _QUESTION_PREFIX.match(text, start, end):
        start = _trim(text, m.end(), end)[0]
    while end > start and text[end - 1] in "*_ \t\n":
        end -= 1
    return start, end


def _lines(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    pos = start
    while pos < end:
        nl = text.find("\n", pos, end)
        stop = end if nl < 0 else nl
        spans.append((pos, stop))
        pos = stop + 1
    return spans


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end

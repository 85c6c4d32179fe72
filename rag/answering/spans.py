"""Candidate short-answer spans in a sentence: numbers, dates, capitalised names, or phrases the question does
not already say; with the word-level helpers the short-answer rules share (``rag.answering.short_answer``,
``rag.answering.span_structure``)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.vocabulary import (
    CLAUSE_OPENERS,
    COLOUR_SHADES,
    COLOURS,
    DIGITS,
    MONTHS,
    MULTIPLICATIVES,
    NAME_PARTICLES,
    NUMBER_SCALES,
    NUMBER_WORDS,
    ORDINAL_END,
    POSSESSIVE,
    STOP_WORDS,
    WEEKDAYS,
    WORD,
    alternation,
)

_MONTH = alternation(MONTHS)
# A number, in digits maybe with its scale ("4 million", "12%"), or in words ("twelve", "dozens").
_NUM = rf"(?:{DIGITS}(?:\s?(?:{alternation(NUMBER_SCALES)}))?|(?:{alternation(NUMBER_WORDS)})\b)"
# A colour, maybe shaded ("pale green") or with "-ish".
_SHADE = rf"(?:(?:{alternation(COLOUR_SHADES)})\s+)?(?:{alternation(COLOURS)})(?:ish)?"
_PATTERNS = {
    # A month with a day or a year ("May 3, 1921", "3 May 1921", "May 3"), a year or decade ("1921", "1920s"), a
    # century, a weekday (capitalised: "may" and "sun" are words too), a day said relative to today.
    "date": re.compile(
        rf"\b(?:(?:early |late |mid-)?(?:{_MONTH})(?: \d{{1,2}})?,? ?\d{{3,4}}|\d{{1,2}} "
        rf"(?:{_MONTH}) \d{{3,4}}|(?:{_MONTH}) \d{{1,2}}|"
        rf"\d{{3,4}}s?|\d{{1,2}}(?:st|nd|rd|th) century|(?-i:(?:{alternation(WEEKDAYS)}))|"
        rf"yesterday|today|tonight|(?:last|next) (?:week|month|year|night))\b",
        re.IGNORECASE,
    ),
    # A clock time, a range ("10–15 million"), an amount maybe with a currency and a unit ("$5 million", "4,120
    # fans"), or how many times ("twice").
    "number": re.compile(rf"\b\d{{1,2}}:\d{{2}}\b|\b{DIGITS}\s?[–—-]\s?{_NUM}|"
                         rf"(?:[$£€]\s?)?\b{_NUM}(?:[ -][a-z]+)?|\b(?:{alternation(MULTIPLICATIVES)})\b",
                         re.IGNORECASE),
    # Capitalised words, joined by spaces, hyphens or a name's lower-case particles ("Bank of England").
    "entity": re.compile(rf"\b(?:[A-Z][\w'’.-]*(?:\s+(?:{alternation(NAME_PARTICLES)})\s+|\s+|-)?)+"),
    # A colour, maybe shaded ("bright violet", "dark blue-green") and joined ("red and white", "black, gold and red");
    # lower case only: a capitalised one is a name ("the Red Lion", "White Harbour").
    "colour": re.compile(rf"\b{_SHADE}(?:(?:-|\s+|,\s*|,?\s+(?:and|or)\s+){_SHADE})*\b"),
}
# Where a phrase candidate breaks: punctuation, but not the comma inside a number ("4,216,530").
_PHRASE_PIECE = re.compile(r"(?:[^,;:()\"“”]|(?<=\d),(?=\d))+")
# A count's suffix that is no part of the number ("three-fold", "10-year").
_NUMBER_SUFFIX = re.compile(r"-(time|fold|year|old)$", re.I)


@dataclass(frozen=True)
class Span:
    """A candidate short answer inside the sentence."""

    start: int
    end: int
    text: str
    score: float


def question_terms(question: str) -> set[str]:
    """The question's words, normalised as spans' words are."""
    return {norm(w) for w in WORD.findall(question)}


def candidates(sentence: str, kind: str, q_terms: set[str]) -> list[Span]:
    """Spans of ``kind`` (``date``, ``number``, ``entity``, ``colour``; anything else: phrases) that say something the
    question (``q_terms``) does not."""
    pattern = _PATTERNS.get(kind)
    out: list[Span] = []
    if pattern is not None:
        for m in pattern.finditer(sentence):
            if kind == "number" and ORDINAL_END.match(sentence, m.end()):
                continue
            text = m.group().strip(" ,;:-")
            words = [norm(w) for w in WORD.findall(text)]
            if not says_new(words, q_terms):
                continue
            if kind == "entity" and m.start() == 0 and len(words) == 1 and words[0] in STOP_WORDS:
                continue
            text = _tidy(trim_known(text, q_terms), kind)
            start = sentence.find(text, m.start())
            if text and start >= 0:
                # A lone capitalised first word is no evidence of a name: every sentence starts that way.
                lone_opener = kind == "entity" and start == 0 and " " not in text
                out.append(Span(start, start + len(text), text, 0.5 if lone_opener else 1.0))
        return [s for s in out if s.text]
    # Phrases: maximal runs of words the question does not contain, split at punctuation.
    for m in _PHRASE_PIECE.finditer(sentence):
        run: list[re.Match[str]] = []
        for w in [*WORD.finditer(m.group()), None]:
            if w is not None and not said(w.group(), q_terms):
                run.append(w)
                continue
            if run:
                a, b = m.start() + run[0].start(), m.start() + run[-1].end()
                text = strip_stop(sentence[a:b])
                found = re.compile(r"\s+".join(map(re.escape, text.split()))).search(sentence, a) if text else None
                if found:  # the words are rejoined with single spaces: find them across any whitespace
                    out.append(Span(found.start(), found.end(), text, 0.5))
            run = []
    return out


def dedupe(spans: list[Span]) -> list[Span]:
    """The spans without repeats of the same offsets, first kept."""
    seen: set[tuple[int, int]] = set()
    out: list[Span] = []
    for s in spans:
        if (s.start, s.end) not in seen:
            seen.add((s.start, s.end))
            out.append(s)
    return out


def _tidy(text: str, kind: str) -> str:
    """Drop the clause openers, possessives and suffixes the answer does without."""
    words = text.split()
    while kind == "entity" and words and words[0].lower() in CLAUSE_OPENERS:
        words.pop(0)
    text = " ".join(words).rstrip(".,;:")
    text = POSSESSIVE.sub("", text)
    if kind == "number":
        text = _NUMBER_SUFFIX.sub("", text)
    return text


def trim_known(text: str, q_terms: set[str]) -> str:
    """The text without leading and trailing words the question says or stop words."""
    words = text.split()
    while words and (said(words[0], q_terms) or norm(words[0]) in STOP_WORDS):
        words.pop(0)
    while words and (said(words[-1], q_terms) or norm(words[-1]) in STOP_WORDS):
        words.pop()
    return " ".join(words)


def strip_stop(text: str) -> str:
    """The text without leading and trailing stop words, at most six words."""
    words = text.split()
    while words and norm(words[0]) in STOP_WORDS:
        words.pop(0)
    while words and norm(words[-1]) in STOP_WORDS:
        words.pop()
    if len(words) > 6:
        words = words[:6]
    return " ".join(words).strip(" .")


def says_new(words: list[str], q_terms: set[str]) -> bool:
    """Whether the words say something besides stop words and what the question says."""
    return any(not said(w, q_terms) and norm(w) not in STOP_WORDS for w in words)


def said(word: str, q_terms: set[str]) -> bool:
    """Whether the question says the word, possessive or not ("Velka’s" when it asks about Velka, and the reverse)."""
    n = norm(word)
    return n in q_terms or POSSESSIVE.sub("", n).strip(".'-") in q_terms or f"{n}'s" in q_terms


def norm(word: str) -> str:
    """A word lower-cased, without edge punctuation; a curly apostrophe is a straight one ("Velka’s" = "Velka's")."""
    return word.lower().replace("’", "'").strip(".'-")

"""Candidate short-answer spans in a sentence: numbers, dates, capitalised names, or phrases the question does
not already say; with the word-level helpers the short-answer rules share (``rag.answering.short_answer``,
``rag.answering.span_structure``)."""

from __future__ import annotations

import re
from dataclasses import dataclass

WORD = re.compile(r"[\w][\w'’.-]*[\w]|[\w]")
STOP = frozenset(
    "a an the of in on at to for from by with and or as is are was were be been being it its this that these "
    "those which who whom whose what when where why how did do does has have had not no than then into over "
    "under about after before during between through his her their our your my he she they we you i".split()
)
_MONTHS = "january february march april may june july august september october november december"
NUMBER_WORDS = (
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen "
    "eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand million billion "
    "dozen half hundreds thousands millions billions dozens"
)
_DIGITS = r"\d(?:[\d,.]*\d)?"  # "8,336,817", "3.5"; never the comma or full stop after a number
_NUM = (rf"(?:{_DIGITS}(?:\s?(?:%|percent|million|billion|thousand|hundred))?|"
        rf"(?:{'|'.join(NUMBER_WORDS.split())})\b)")
#: Right after a number, an ordinal's ending: "75th" ranks, it does not count. (Checked after matching: inside the
#: pattern the check makes the scan of a long run of digits quadratic.)
_ORDINAL_END = re.compile(r"(?:st|nd|rd|th)\b")
#: Colour terms, a closed class (the basic ones and the common others), and the words that shade them.
_COLOURS = ("red orange yellow green blue purple violet pink brown black white grey gray gold golden silver beige "
            "turquoise crimson scarlet indigo maroon navy teal cyan magenta ivory amber lilac lavender tan cream "
            "bronze khaki olive ochre emerald azure")
_SHADE = (r"(?:(?:light|dark|bright|pale|deep|vivid|dull|pastel|dusky|brilliant)\s+)?"
          rf"(?:{'|'.join(_COLOURS.split())})(?:ish)?")
_PATTERNS = {
    "date": re.compile(
        rf"\b(?:(?:early |late |mid-)?(?:{'|'.join(_MONTHS.split())})(?: \d{{1,2}})?,? ?\d{{3,4}}|\d{{1,2}} "
        rf"(?:{'|'.join(_MONTHS.split())}) \d{{3,4}}|(?:{'|'.join(_MONTHS.split())}) \d{{1,2}}|"
        rf"\d{{3,4}}s?|\d{{1,2}}(?:st|nd|rd|th) century|(?-i:(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day)|"
        rf"yesterday|today|tonight|(?:last|next) (?:week|month|year|night))\b",
        re.IGNORECASE,
    ),
    "number": re.compile(rf"\b\d{{1,2}}:\d{{2}}\b|\b{_DIGITS}\s?[–—-]\s?{_NUM}|"  # times, ranges
                         rf"(?:[$£€]\s?)?\b{_NUM}(?:[ -][a-z]+)?|\b(?:once|twice|thrice)\b", re.IGNORECASE),
    "entity": re.compile(r"\b(?:[A-Z][\w'’.-]*(?:\s+(?:of|the|de|von|van|and|for|la|le|du)\s+|\s+|-)?)+"),
    # A colour, maybe shaded ("bright violet", "dark blue-green") and joined ("red and white", "black, gold and red");
    # lower case only: a capitalised one is a name ("the Red Lion", "White Harbour").
    "colour": re.compile(rf"\b{_SHADE}(?:(?:-|\s+|,\s*|,?\s+(?:and|or)\s+){_SHADE})*\b"),
}

# Capitalised words that open clauses rather than names.
CLAUSE_OPENERS = frozenset(
    "despite while although though however after before during when if in on at as but and since because "
    "following according".split()
)

_POSSESSIVE = re.compile(r"'s$")
_PHRASE_PIECE = re.compile(r"(?:[^,;:()\"“”]|(?<=\d),(?=\d))+")


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
            if kind == "number" and _ORDINAL_END.match(sentence, m.end()):
                continue
            text = m.group().strip(" ,;:-")
            words = [norm(w) for w in WORD.findall(text)]
            if not says_new(words, q_terms):
                continue
            if kind == "entity" and m.start() == 0 and len(words) == 1 and words[0] in STOP:
                continue
            text = _tidy(trim_known(text, q_terms), kind)
            start = sentence.find(text, m.start())
            if text and start >= 0:
                # A lone capitalised first word is no evidence of a name: every sentence starts that way.
                lone_opener = kind == "entity" and start == 0 and " " not in text
                out.append(Span(start, start + len(text), text, 0.5 if lone_opener else 1.0))
        return [s for s in out if s.text]
    # Phrases: maximal runs of words the question does not contain, split at punctuation (not the comma
    # inside a number: "17,786,419").
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
    """Drop clause openers, possessives and suffixes that are not part of the answer."""
    words = text.split()
    while kind == "entity" and words and words[0].lower() in CLAUSE_OPENERS:
        words.pop(0)
    text = " ".join(words).rstrip(".,;:")
    text = re.sub(r"['’]s$", "", text)
    if kind == "number":
        text = re.sub(r"-(time|fold|year|old)$", "", text, flags=re.I)
    return text


def trim_known(text: str, q_terms: set[str]) -> str:
    """The text without leading and trailing words the question says or stop words."""
    words = text.split()
    while words and (said(words[0], q_terms) or norm(words[0]) in STOP):
        words.pop(0)
    while words and (said(words[-1], q_terms) or norm(words[-1]) in STOP):
        words.pop()
    return " ".join(words)


def strip_stop(text: str) -> str:
    """The text without leading and trailing stop words, at most six words."""
    words = text.split()
    while words and norm(words[0]) in STOP:
        words.pop(0)
    while words and norm(words[-1]) in STOP:
        words.pop()
    if len(words) > 6:
        words = words[:6]
    return " ".join(words).strip(" .")


def says_new(words: list[str], q_terms: set[str]) -> bool:
    """Whether the words say something besides stop words and what the question says."""
    return any(not said(w, q_terms) and norm(w) not in STOP for w in words)


def said(word: str, q_terms: set[str]) -> bool:
    """Whether the question says the word, possessive or not ("Korea’s" when it asks about Korea, and the reverse)."""
    n = norm(word)
    return n in q_terms or _POSSESSIVE.sub("", n).strip(".'-") in q_terms or f"{n}'s" in q_terms


def norm(word: str) -> str:
    """A word lower-cased, without edge punctuation; a curly apostrophe is a straight one ("Korea’s" = "Korea's")."""
    return word.lower().replace("’", "'").strip(".'-")

"""Short answers read off the sentence's structure, where it says what the question asks.

Given "what kind of N", the words modifying N there; for "what N" a name ending in N or standing beside it; for
"what is X called" the sentence's own naming phrase. ``short_answer`` takes these before weighing any rival
candidate.
"""

from __future__ import annotations

import re

from rag.answering.question_type import asks_kind, lexical_focus, past_tense
from rag.answering.spans import Span, norm, strip_stop, trim_known
from rag.vocabulary import (
    CLAUSE_OPENERS,
    NAME_ENDERS,
    NAMING_PARTICLES,
    NAMING_VERBS,
    NUMBER_WORDS,
    POSSESSIVE,
    QUANTIFIERS,
    STOP_WORDS,
    WORD,
    alternation,
)

# The name a naming verb gives ("known as Kettle Rock"), maybe quoted; not "named after", "called for".
_NAMED_BY = re.compile(rf"\b(?:{alternation(NAMING_VERBS)})\s+(?:variously\s+)?(?:the\s+)?"
                       rf"(?!(?:{alternation(NAMING_PARTICLES)})\b)([\"“'‘])?([^,;:()\"“”’]+)", re.I)
# Where a name given after "called" ends: a full stop (not an abbreviation's: "U.K. Route 9", "St. Arlo"), a new
# clause, or a preposition ("a man named Ivo Marsh on Friday").
_NAME_END = re.compile(rf"(?<![A-Z])(?<!\b[A-Z][a-z])\.(?:\s|$)|\s+(?:{alternation(NAME_ENDERS)})\s+")
#: Modifiers longer than this are no modifiers but a clause ("Police said attackers carried automatic weapons").
MAX_MODIFIERS = 4


def named_by(sentence: str, q_terms: set[str]) -> list[Span]:
    """The names the sentence gives after "called", "known as", "named" ... (not "named after", "called for")."""
    out: list[Span] = []
    for m in _NAMED_BY.finditer(sentence):
        quoted, phrase = m.group(1), m.group(2)  # a quoted name runs to its closing quote
        phrase = phrase if quoted else _NAME_END.split(phrase, maxsplit=1)[0]
        text = strip_stop(trim_known(phrase.strip(), q_terms)).strip("\"'“”‘’ ")
        start = sentence.find(text, m.start(2)) if text else -1
        if start >= 0:
            out.append(Span(start, start + len(text), text, 1.0))
    return out


def focus_modifiers(question: str, sentence: str, q_terms: set[str]) -> list[Span]:
    """Where the sentence says the question's focus noun, the words modifying it there.

    "What type of boats ...?" is answered by the modifier ("flat-bottomed boats" -> "flat-bottomed"). A plain
    "what N" asks for a name, so only capitalised modifiers count, and a capitalised noun belongs to the name
    ("Which airport ...?" -> "Tarnby Airport"; "What vaccine ...?" -> "the Veltrix vaccine" -> "Veltrix"); a
    name right after the noun is the answer ("the economist Mara Lind", "Prime Minister Ada Kerr"). At
    most ``MAX_MODIFIERS`` words, none a count or a verb in the past tense.
    """
    focus = lexical_focus(question)
    focus_words = [_noun_forms(w) for w in WORD.findall(focus or "")]
    if not focus_words:
        return []
    kind_of = asks_kind(question)
    words = list(WORD.finditer(sentence))
    known = set().union(*(_noun_forms(t) for t in q_terms))
    any_focus_word = set().union(*focus_words)

    def joined(i: int) -> bool:  # word i runs straight into word i + 1
        return not sentence[words[i].end():words[i + 1].start()].strip()

    def modifier(word: str) -> bool:
        n = norm(word)
        if n in NUMBER_WORDS or (kind_of and word[0].isdigit()):
            return False  # a count is not a kind: "two ocean-going patrol ships"
        if (n in STOP_WORDS or _noun_forms(n) & known or n in QUANTIFIERS or n in CLAUSE_OPENERS or past_tense(word)
                or POSSESSIVE.search(word)):
            return False
        return kind_of or word[0].isupper() or word[0].isdigit()

    out: list[Span] = []
    for j, head in enumerate(words):
        if not _noun_forms(head.group()) & focus_words[-1]:
            continue
        name = _apposition(sentence, words, j, known) if not kind_of else None
        if name is not None:  # a name right after the noun: "the chemist Otto Brandt", "its chief, Ada Vey"
            out.append(name)
            continue
        i = j - 1
        while i >= 0 and j - i < len(focus_words) and joined(i) and _noun_forms(words[i].group()) & any_focus_word:
            i -= 1  # the focus's other words: "heating element"
        last = i
        while i >= 0 and joined(i) and last - i <= MAX_MODIFIERS:
            n = norm(words[i].group())
            # "wooden or iron gates", not "grown and duties"
            if not (modifier(words[i].group()) or (n in ("and", "or") and i < last and i > 0 and joined(i - 1)
                                                     and modifier(words[i - 1].group()))):
                break
            i -= 1
        first = i + 1
        if last - first >= MAX_MODIFIERS:
            continue  # more words than modifiers run to: a clause ("Doctors ran blood tests")
        while first <= last and norm(words[first].group()) in ("and", "or"):
            first += 1
        while not kind_of and first <= last and not words[first].group()[0].isupper():
            first += 1  # a name starts with a capital, not with a number
        if first > last or (not kind_of and first == last == 0):
            continue  # nothing modifies it, or only the sentence's first word, capitalised as every first word
        end = head.end() if head.group()[0].isupper() and not kind_of else words[last].end()
        out.append(Span(words[first].start(), end, sentence[words[first].start():end], 1.0))
    return out


def _apposition(sentence: str, words: list[re.Match[str]], j: int, known: set[str]) -> Span | None:
    """The name right after word ``j``: after a lower-case noun, capitalised words following it or a comma ("the
    economist Mara Lind", "its chief, Ada Vey"); after a capitalised title, the capitalised words that continue
    it ("Prime Minister Ada Kerr"). None when the question says them all."""
    k = j + 1
    if k >= len(words):
        return None
    gap = sentence[words[j].end():words[k].start()].strip()
    if gap not in ("", ",") or (gap and words[j].group()[0].isupper()):
        return None
    end = k
    while end < len(words) and words[end].group()[0].isupper() and (
            end == k or not sentence[words[end - 1].end():words[end].start()].strip()):
        end += 1
    first = norm(words[k].group())
    if end == k or first in STOP_WORDS or first in CLAUSE_OPENERS or all(
            _noun_forms(norm(w.group())) & known for w in words[k:end]):
        return None
    a, b = words[k].start(), words[end - 1].end()
    return Span(a, b, sentence[a:b], 1.0)


def _noun_forms(word: str) -> set[str]:
    """The word and what it would be without a plural ending ("movies" -> movie, movy; "viruses" -> virus)."""
    w = word.lower()
    forms = {w}
    if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
        forms.add(w[:-1])
        if w.endswith("es"):
            forms.add(w[:-2])
        if w.endswith("ies"):
            forms.add(w[:-3] + "y")
    return forms

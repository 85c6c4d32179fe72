"""Short answers to why and how questions: the reason or the means a sentence states, found by its connective.

A why question is answered by a reason, and English marks a reason with a small closed set of connectives
("because", "due to", "so that", "in order to", a comma then "for" and a pronoun); a how question asking for a
means is answered by "by" and a gerund ("by raising the dam wall"). The clause the connective opens, up to
the next clause boundary, is the short answer. No connective, no short answer: a guess at the "reason part" of a
sentence would mislead more than it helps, and so would a connective that is negated ("not because of the
crew"), opens a relative clause ("thanks to whom") or means something else ("due to start at dawn", a result
after ", so that").
"""

from __future__ import annotations

import re

from rag.answering.question_type import asks_explanation
from rag.answering.spans import Span, norm, question_terms
from rag.vocabulary import (
    ING_NOUNS,
    PURPOSE_MODALS,
    RELATIVE_PRONOUNS,
    SCHEDULE_VERBS,
    STOP_WORDS,
    SUBJECT_PRONOUNS,
    WORD,
    alternation,
)

# The connectives that mark a reason or a purpose. "due to" + a verb is a schedule, not a reason ("The verdict is
# due to be read on Monday"). The connective is left out of the answer, except "to" of a purpose ("in order to fence
# the fields" -> "to fence the fields"); "for" is a reason only after a comma and before a clause's subject ("...,
# for she was tired", not "..., for it to pass"); "so that" after a comma is a purpose only with a modal ("..., so
# that they could rest"), else a result ("Rain fell all night, so that by morning the road was closed").
_REASON = re.compile(
    rf"\b(?:because(?:\s+of)?|due\s+to(?!\s+(?:{alternation(SCHEDULE_VERBS)})\b)|owing\s+to|as\s+a\s+result\s+of|"
    r"thanks\s+to|for\s+fear\s+(?:of|that)|(?<!\bmuch\s)so\s+that(?:(?<!,\sso\sthat)|"
    rf"(?=\s+(?:[\w'’-]+\s+){{0,6}}?(?:{alternation(PURPOSE_MODALS)})\b))|in\s+order\s+(?:that|for)|"
    r"(?:in\s+order|so\s+as)(?=\s+to\b))\s+|"
    rf"(?<=,)\s*for\s+(?=(?:{alternation(SUBJECT_PRONOUNS)})\b(?!\s+to\b))",
    re.I,
)
# "by" + a lower-case gerund ("by raising the dam wall"), not a name ("by Tarnby") or a noun in -ing ("by morning").
_MEANS = re.compile(rf"\bby\s+(?:means\s+of\s+)?(?=(?-i:[a-z]\w*ing)\b)(?!(?:{alternation(ING_NOUNS)})\b)", re.I)
# Negated or merely supposed reasons are none: "did not fail because of the crew", "just because it failed". After a
# comma the reason explains the negated event itself: "he could not sail, because he was ill".
_DENIED = re.compile(r"(?:\b(?:not|never)\b|n['’]t\b)(?:\s+[\w'’-]+){0,2}\s*$|\bjust\s*$", re.I)
# Where the clause ends: a comma, strong punctuation, a dash or a quote. Not a full stop: inside one sentence it is
# an abbreviation's ("due to a U.K. Navy drill"). A comma inside a clause ("its thick, waxy leaves") cuts
# it short; reading on past one runs into reporting clauses ("..., the company said").
_CLAUSE_END = re.compile(r"[,;:!?—–()\[\]\"“”]|\s-\s")
# Spaces and opening quotes skipped after the connective: 'because "it was unsafe"' gives the quoted reason.
_OPENING = " \t\n\u00a0\"“‘'"
# The quote that closes each opening one: a quoted reason ends there.
_CLOSING = {"“": "”", "‘": "’", '"': '"', "'": "'"}
# Spaces, punctuation and quotes trimmed off the reason's edges.
_EDGES = " \t\n\u00a0,.\"'“”‘’"
#: A clause longer than this is no short answer.
MAX_WORDS = 25
#: How far past a connective the clause end is looked for (25 words of news text fit well within it): keeps a
#: pathological sentence (thousands of connectives, no punctuation) linear.
_LOOKAHEAD = 400


def explanation_span(question: str, sentence: str) -> Span | None:
    """The reason (why questions) or means (how questions) the sentence gives, or None when it marks none."""
    asked = asks_explanation(question)
    if asked is None:
        return None
    q_terms = question_terms(question)
    for m in (_REASON if asked == "reason" else _MEANS).finditer(sentence):
        if _DENIED.search(sentence, max(0, m.start() - 40), m.start()):
            continue
        begin = m.end()
        while begin < len(sentence) and sentence[begin] in _OPENING:  # an opening quote: 'because "it was unsafe"'
            begin += 1
        window = sentence[begin:begin + _LOOKAHEAD]
        opened = sentence[max(0, m.start() - 1):m.start()] + sentence[m.end():begin]  # ‘because of X’ too
        quote = next((_CLOSING[c] for c in opened if c in _CLOSING), None)
        cut = _CLAUSE_END.search(window)
        end = cut.start() if cut else None
        if quote is not None and quote in window[:end]:
            end = window.index(quote)  # the quoted reason ends with its quote
        if end is None and begin + _LOOKAHEAD < len(sentence):
            continue  # no clause end in reach: longer than any short answer
        text = window[:end].strip(_EDGES)
        words = [norm(w) for w in WORD.findall(text)]
        if (not words or len(words) > MAX_WORDS or words[0] in RELATIVE_PRONOUNS
                or all(w in q_terms or w in STOP_WORDS for w in words)):
            continue
        start = begin + window.find(text)
        return Span(start, start + len(text), text, 1.0)
    return None

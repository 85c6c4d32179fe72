"""Short answers to why and how questions: the reason or the means a sentence states, found by its connective.

A why question is answered by a reason, and English marks a reason with a small closed set of connectives
("because", "due to", "so that", "in order to", a comma then "for" and a pronoun); a how question asking for a
means is answered by "by" and a gerund ("by limiting aggregate demand"). The clause the connective opens, up to
the next clause boundary, is the short answer. No connective, no short answer: a guess at the "reason part" of a
sentence would mislead more than it helps, and so would a connective that is negated ("not because of the
crew"), opens a relative clause ("thanks to whom") or means something else ("due to start at dawn", a result
after ", so that").
"""

from __future__ import annotations

import re

from rag.answering.question_type import asks_explanation
from rag.answering.spans import STOP, WORD, Span, norm, question_terms

# "due to" + a verb is a schedule, not a reason ("The verdict is due to be delivered on Monday").
_SCHEDULED = ("be|begin|start|meet|take|hold|visit|arrive|leave|end|open|close|return|resume|face|sign|vote|appear|"
              "speak|testify|attend|launch|expire|retire|step|go|come|announce|deliver|finish|report|rule|hear|"
              "travel|fly|play|make|give|get|have|stand|run|receive|publish|release|complete")
# The connective is not part of the answer, except "to" of a purpose ("in order to guard the roads" -> "to guard
# the roads"); "for" is a reason only after a comma and before a clause's subject ("..., for she was enchanted",
# not "..., for it to pass"); "so that" after a comma is a purpose only with a modal ("..., so that he might
# help her"), else a result ("Rain fell all night, so that by morning the road was closed").
_REASON = re.compile(
    rf"\b(?:because(?:\s+of)?|due\s+to(?!\s+(?:{_SCHEDULED})\b)|owing\s+to|as\s+a\s+result\s+of|thanks\s+to|"
    r"for\s+fear\s+(?:of|that)|(?<!\bmuch\s)so\s+that(?:(?<!,\sso\sthat)|"
    r"(?=\s+(?:[\w'’-]+\s+){0,6}?(?:might|may|could|can|would|should|will|shall)\b))|in\s+order\s+(?:that|for)|"
    r"(?:in\s+order|so\s+as)(?=\s+to\b))\s+|"
    r"(?<=,)\s*for\s+(?=(?:he|she|they|it|i|we|you|there)\b(?!\s+to\b))",
    re.I,
)
# "by" + a lower-case gerund ("by limiting demand"), not a name ("by Beijing") or a noun in -ing ("by morning").
_NOT_GERUNDS = ("morning|evening|spring|everything|nothing|something|anything|thing|things|king|kings|ring|string|"
                "wing|sterling|building|buildings|ceiling|clothing|wedding|darling|offspring|lightning|pudding")
_MEANS = re.compile(rf"\bby\s+(?:means\s+of\s+)?(?=(?-i:[a-z]\w*ing)\b)(?!(?:{_NOT_GERUNDS})\b)", re.I)
# Negated or merely supposed reasons are none: "did not fail because of the crew", "just because it failed". After a
# comma the reason explains the negated event itself: "she could not marry, because she was enchanted".
_DENIED = re.compile(r"(?:\b(?:not|never)\b|n['’]t\b)(?:\s+[\w'’-]+){0,2}\s*$|\bjust\s*$", re.I)
# Where the clause ends: a comma, strong punctuation, a dash or a quote. Not a full stop: inside one sentence it is
# an abbreviation's ("due to a U.S. Army exercise"). A comma inside a clause ("their soft, gelatinous bodies") cuts
# it short; reading on past one runs into reporting clauses ("..., the company said").
_CLAUSE_END = re.compile(r"[,;:!?—–()\[\]\"“”]|\s-\s")
_OPENING = " \t\n\u00a0\"“‘'"
_CLOSING = {"“": "”", "‘": "’", '"': '"', "'": "'"}
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
        if (not words or len(words) > MAX_WORDS or words[0] in ("which", "whom", "who", "whose")
                or all(w in q_terms or w in STOP for w in words)):
            continue
        start = begin + window.find(text)
        return Span(start, start + len(text), text, 1.0)
    return None

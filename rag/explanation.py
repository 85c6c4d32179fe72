"""Short answers to why and how questions: the reason or the means a sentence states, found by its connective.

A why question is answered by a reason, and English marks a reason with a small closed set of connectives
("because", "due to", "so that", "in order to", a comma then "for" and a pronoun); a how question asking for a means is
answered by "by" and a gerund ("by limiting aggregate demand"). The clause the connective opens, up to the next
clause boundary, is the short answer. No connective, no short answer: a guess at the "reason part" of a
sentence would mislead more than it helps.
"""

from __future__ import annotations

import re

from rag.question_type import asks_explanation
from rag.spans import STOP, WORD, Span, norm, question_terms

# The connective is not part of the answer, except "to" of a purpose ("in order to guard the roads" -> "to guard
# the roads"); "for" is a reason only after a comma and before a clause's subject ("..., for she was enchanted").
_REASON = re.compile(
    r"\b(?:because(?:\s+of)?|due\s+to|owing\s+to|as\s+a\s+result\s+of|thanks\s+to|for\s+fear\s+(?:of|that)|so\s+that|"
    r"in\s+order\s+(?:that|for)|(?:in\s+order|so\s+as)(?=\s+to\b))\s+|"
    r"(?<=,)\s*for\s+(?=(?:he|she|they|it|i|we|you|there)\b)",
    re.I,
)
_MEANS = re.compile(r"\bby\s+(?:means\s+of\s+)?(?=[a-z]\w+ing\b)", re.I)
# Where the clause ends: a comma, strong punctuation or a full stop (a comma inside a clause, as in "their soft,
# gelatinous bodies", cuts it short; reading on past one runs into reporting clauses: "..., the company said").
_CLAUSE_END = re.compile(r"[,;:!?—–()\"“”]|\.(?=\s|$)")
#: A clause longer than this is no short answer.
MAX_WORDS = 25


def explanation_span(question: str, sentence: str) -> Span | None:
    """The reason (why questions) or means (how questions) the sentence gives, or None when it marks none."""
    asked = asks_explanation(question)
    if asked is None:
        return None
    q_terms = question_terms(question)
    for m in (_REASON if asked == "reason" else _MEANS).finditer(sentence):
        rest = sentence[m.end():]
        cut = _CLAUSE_END.search(rest)
        text = (rest[: cut.start()] if cut else rest).strip(" ,.")
        words = [norm(w) for w in WORD.findall(text)]
        if not words or len(words) > MAX_WORDS or all(w in q_terms or w in STOP for w in words):
            continue
        start = m.end() + rest.find(text)
        return Span(start, start + len(text), text, 1.0)
    return None

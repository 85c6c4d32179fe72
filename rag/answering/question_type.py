"""What a question asks for: the answer type its wh-word implies and its focus (the kind of thing named).

Read by ``rag.answering.short_answer`` (which spans are candidates) and, through it, by answer picking (whether a
sentence holds a span of the asked-for type).
"""

from __future__ import annotations

import re

# Word classes the rules share.
_AUX = "is|was|are|were|does|did|do|has|have|had|can|could|would|will|must|may|might|shall|should"
_IRREGULAR_PAST = ("began became bought broke brought built came caught chose drew drove fell felt fled flew fought "
                   "found forgot gave got grew held hid kept knew led left lost made meant met paid ran rode rose "
                   "said sang sank saw sent set shot sold sought spent spoke stole stood struck swore taught thought "
                   "threw told took went woke won wore wrote")
# Lower-case "caused" (not "United" or "speed") or an irregular past ("began", "won").
_PAST_TENSE = rf"(?-i:(?:[a-z]\w+(?<!e)ed|{'|'.join(_IRREGULAR_PAST.split())})(?![\w'’-]))"
_DETERMINERS = "the|a|an|his|her|their|its|this|these|those"
_PREPOSITIONS = ("of|in|on|at|to|for|from|by|with|through|near|against|over|under|into|onto|across|behind|about|"
                 "between|among|around|after|before|during|without|within|toward|towards|upon|via|like|as|per")

# "What was the (average household) size?", "What is the estimated population of ...?": a quantity.
_QUANTITY = re.compile(
    r"\bwhat\s+(?:is|was|are|were)\s+(?:the|its|their|[\w.-]+['’]s)\s+(?:[\w'’-]+\s+){0,2}?(?-i:population|number|"
    r"amount|percentage|proportion|cost|price|size|length|height|distance|temperature|speed|rate|total|"
    r"budget|revenue|salary|income|capacity|attendance|density|weight|depth|width|elevation|altitude|age)"
    r"(?=\s*(?:[?,.]|$|(?:of|in|for|at|on|during|by|per|from|among|when|after|before)\b))", re.I)

_TYPE_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b(how (many|much|long|far|old|large|big|tall|high|often|fast))\b|\bwhat (percentage|percent|"
                r"number|amount|size)\b", re.I), "number"),
    (_QUANTITY, "number"),
    (re.compile(r"\bwhen\b|\bwhat (years?|dates?|days?|months?|century|centuries|decades?|time|period)\b|"
                r"\bin which year\b", re.I), "date"),
    # A colour is an attribute, not a name: "What colour are they?", "What is the colour of ...?", "... are what color?"
    (re.compile(r"\b(?:what|which)\s+colou?rs?\b|\bwhat(?:['’]s|\s+(?:is|was|are|were))\s+(?:the|its|their)\s+"
                r"colou?rs?\b", re.I), "colour"),
    (re.compile(r"\bwho\b|\bwhom\b|\bwhose\b|\bwhat (company|organization|team|person|group|name)\b|\bwhere\b",
                re.I), "entity"),
    # "Which player ...", "What actor ...": a thing named by a noun, often a name. Not when the word after it
    # is a verb: an auxiliary, a past tense, or a word followed by a determiner ("What limits the cycle?",
    # "What caused ...", "What must a teacher have?" ask for a phrase); "which of the ..." stays a name.
    (re.compile(rf"^\s*(which|what)\s+(?!(?:{_AUX})\b|{_PAST_TENSE}\b)\w+\b(?:(?<=\bof)|(?!\s+(?:{_DETERMINERS})\b))",
                re.I),
     "named"),
)

# Questions whose answer is an explanation or a yes/no, never a short span.
_NO_SPAN = re.compile(
    r"^\s*(why|how(?! (many|much|long|far|old|large|big|tall|high|often|fast))|(is|are|was|were|do|does|did|can|"
    r"could|should|will|would|has|have|had)\b)|\b(purpose|reason|message|significance|impact)\b|"
    r"\bthe\s+(?:main\s+)?cause\s+of\b",
    re.I,
)
_ASKS_WHAT = re.compile(r"\b(what|which|name)\b", re.I)

# The focus of "what/which [adjectives] noun ..." questions: the words naming the kind of thing asked for.
_KIND_OF = r"(?:kinds?|types?|sorts?|styles?|forms?|variet(?:y|ies)|class(?:es)?|categor(?:y|ies))\s+of"
_ASKS_KIND = re.compile(rf"\b(?:what|which)\s+{_KIND_OF}\b", re.I)
_FOCUS = re.compile(
    rf"\b(?:what|which)\s+(?:(?:{_KIND_OF}|names?\s+of)\s+)?((?:(?!(?:{_AUX}|{_PREPOSITIONS}|that|{_DETERMINERS}|"
    rf"first|also|still|ever|later|often|usually|most|not|and|or|{_PAST_TENSE}|\w+ly)\b)[\w'’-]+\s*){{1,3}})",
    re.I,
)
_DETERMINER_NEXT = re.compile(rf"\s*\b(?:{_DETERMINERS})\b", re.I)
_PREPOSITION_NEXT = re.compile(rf"\s*\b(?:{_PREPOSITIONS}|{_DETERMINERS})\b", re.I)
_GENERIC_FOCUS = ((re.compile(r"\bwho(m|se)?\b", re.I), "person or organization"),
                  (re.compile(r"\bwhere\b", re.I), "place or location"))


_PAST_WORD = re.compile(rf"{_PAST_TENSE}")


def past_tense(word: str) -> bool:
    """Whether a word reads as a verb in the past tense ("added", "began"; not "United", "speed", "water-cooled")."""
    return _PAST_WORD.fullmatch(word) is not None


def answer_type(question: str) -> str:
    """One of ``number``, ``date``, ``colour``, ``entity``, ``named`` or ``phrase`` (anything else)."""
    asked = _asking_words_only(question)
    for pattern, kind in _TYPE_RULES:
        if pattern.search(asked):
            return kind
    return "phrase"


_WH = re.compile(r"\b(?:what|which|who|whom|whose|when|where|why|how)\b", re.I)
_CLAUSE_FIRST = re.compile(rf"\s*(when|where)\b(?!\s+(?:{_AUX})\b)[^?,]*,\s*(?:what|which|who|whom|whose|when|where|"
                           r"why|how)\b", re.I)


def _asking_words_only(question: str) -> str:
    """The question with the wh-words that do not ask blanked out: after the question's first wh-word, a "when" or
    "where" opens a clause ("What sea bordered the empire when he died?") and a capitalised one is part of a name
    ("What did Doctor Who say?"). A later "who" stays: "the player who scored" asks for a person. (The first
    wh-word always asks, capitalised or not: "Apollo 11: When did it land?")"""
    q = question.strip()
    opener = _CLAUSE_FIRST.match(q)  # "When X happens, what is it called?": the later wh-word asks
    if opener:
        q = "_" * opener.end(1) + q[opener.end(1):]
    asked = False

    def blank(m: re.Match[str]) -> str:
        nonlocal asked
        word = m.group()
        if asked and (word[0].isupper() or word.lower() in ("when", "where")):
            return "_" * len(word)
        asked = True
        return word

    return _WH.sub(blank, q)


_COUNT = re.compile(r"\bhow\s+(?:many|much)\b|\bwhat\s+(?:percentage|percent|number|amount)\b", re.I)


def asks_place(question: str) -> bool:
    """Whether the question's first wh-word is "where" (what a condensed follow-up carries before it aside)."""
    first = _WH.search(question)
    return first is not None and first.group().lower() == "where"


def asks_count(question: str) -> bool:
    """Whether the question asks how many or how much, or for a quantity ("What is the population of ...?"): a
    count answers it, never another phrase."""
    asked = _asking_words_only(question)
    return bool(_COUNT.search(asked) or _QUANTITY.search(asked))


def span_kind(question: str) -> str | None:
    """The answer type when the question asks for a short span; None for why/how/yes-no questions and for
    phrase questions with no wh-word asking for a thing."""
    first = _WH.search(question)  # what a condensed follow-up carries before its wh-word is not asked
    if _NO_SPAN.search(question[first.start():] if first else question):
        return None
    kind = answer_type(question)
    return None if kind == "phrase" and not _ASKS_WHAT.search(question) else kind


def asks_kind(question: str) -> bool:
    """Whether the question asks for a kind of its focus ("what type of tunnels"): the answer is the focus's
    modifier in the sentence ("deep-level tunnels"), not a name."""
    return bool(_ASKS_KIND.search(question))


_ASKS_NAME = re.compile(
    r"\b(?:called|known as|termed|referred to as|named)\s*(?:what\b|\?|$)|\b(?:what|which|another)\s+name\b|"
    r"\bwhat\s+(?:is|was|are|were)\s+(?:the|its|his|her|their)\s+name\b", re.I)
_ASKS_WHO = re.compile(r"^\s*(?:who|whom)\b", re.I)


def asks_name(question: str) -> bool:
    """Whether the question asks what something is called ("What are the hairs called?", "What is the name of
    ...?"), not who ("Who was named player of the year?"): the sentence's naming phrase ("called cilia") answers."""
    return bool(_ASKS_NAME.search(question)) and not _ASKS_WHO.search(question)


def lexical_focus(question: str) -> str | None:
    """The question's own words naming the kind of answer asked for ("what German general" -> "German
    general"), or None."""
    m = _FOCUS.search(question)
    if not m:
        return None
    words = m.group(1).split()
    if len(words) == 1 and _DETERMINER_NEXT.match(question, m.end(1)):
        return None  # one word then a determiner is a verb: "what limits the cycle"
    if len(words) > 1 and _PREPOSITION_NEXT.match(question, m.end(1)):
        words.pop()  # so is a last word before a preposition: "which river flows through"
    return " ".join(words)


def question_focus(question: str) -> str | None:
    """The lexical focus, or a generic type for who/where; None otherwise."""
    focus = lexical_focus(question)
    if focus:
        return focus
    for pattern, generic in _GENERIC_FOCUS:
        if pattern.search(_asking_words_only(question)):
            return generic
    return None


_ASKS_REASON = re.compile(r"\b(?:what|which)\s+(?:is|was|are|were)\s+(?:the|a|one)\s+(?:main\s+|chief\s+|primary\s+)?"
                          r"(?:reason|cause|purpose)\b|\bfor\s+what\s+(?:reason|purpose)\b", re.I)
_HOW_MEANS = re.compile(rf"how\s+(?:{_AUX})\b", re.I)
_HOW_COME = re.compile(r"how\s+come\b", re.I)


def asks_explanation(question: str) -> str | None:
    """``"reason"`` for why questions ("How come ...?", "What was the main reason ...?" too), ``"means"`` for how
    questions asking how something is done ("How did the city cut emissions?", not "How likely ...?" or "How many
    ...?"); None otherwise. The question's first wh-word decides, wherever it stands ("Apollo 13: why ...?")."""
    if _ASKS_REASON.search(question):
        return "reason"
    first = _WH.search(question)
    if first is None:
        return None
    word = first.group().lower()
    if word == "why" or (word == "how" and _HOW_COME.match(question, first.start())):
        return "reason"
    return "means" if word == "how" and _HOW_MEANS.match(question, first.start()) else None

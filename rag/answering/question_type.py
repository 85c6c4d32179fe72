"""What a question asks for: the answer type its wh-word implies and its focus (the kind of thing named).

Read by ``rag.answering.short_answer`` (which spans are candidates) and, through it, by answer picking (whether a
sentence holds a span of the asked-for type). The words the rules read are in ``rag.vocabulary``.
"""

from __future__ import annotations

import re

from rag.vocabulary import (
    AUXILIARIES,
    COLOUR_NOUNS,
    COPULAS,
    COUNT_NOUNS,
    DATE_NOUNS,
    DETERMINERS,
    ENTITY_NOUNS,
    EXPLANATION_NOUNS,
    HOW_COUNT,
    HOW_MEASURE,
    IRREGULAR_PAST,
    KIND_NOUNS,
    NAMING_VERBS,
    NOT_FOCUS_WORDS,
    PREPOSITIONS,
    QUANTITY_NOUNS,
    QUANTITY_PHRASE_ENDS,
    WH_WORDS,
    alternation,
)

_AUX = alternation(AUXILIARIES)
_BE = alternation(COPULAS)
_DETERMINERS = alternation(DETERMINERS)
_PREPOSITIONS = alternation(PREPOSITIONS)
_WH_WORDS = alternation(WH_WORDS)
_HOW_QUANTITY = alternation(HOW_COUNT + HOW_MEASURE)
# A verb in the past tense: lower-case "-ed" ("caused", not "United", "speed" or "freed") or an irregular one ("won").
_PAST_TENSE = rf"(?-i:(?:[a-z]\w+(?<!e)ed|{alternation(IRREGULAR_PAST)})(?![\w'’-]))"

_QUANTITY_NOUN = rf"(?-i:{alternation(QUANTITY_NOUNS)})"
_PHRASE_END = rf"\s*(?:[?,.]|$|(?:{alternation(QUANTITY_PHRASE_ENDS)})\b)"
# A quantity, asked for as a number: "What was the (mean ticket) price?", "What is the estimated length of ...?", and
# "what/which" + a quantity noun ending its phrase ("What speed does it reach?", "At what height ...?"; not "What
# age rating ...?").
_QUANTITY = re.compile(
    rf"\bwhat\s+(?:{_BE})\s+(?:the|its|their|[\w.-]+['’]s)\s+(?:[\w'’-]+\s+){{0,2}}?{_QUANTITY_NOUN}(?={_PHRASE_END})|"
    rf"\b(?:what|which)\s+{_QUANTITY_NOUN}(?=\s+(?:{_AUX})\b|{_PHRASE_END})", re.I)

_TYPE_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    # "How many ...", "How tall ...", "What percentage ...": a count or a measure.
    (re.compile(rf"\b(how ({_HOW_QUANTITY}))\b|\bwhat ({alternation((*COUNT_NOUNS, 'size'))})\b", re.I), "number"),
    (_QUANTITY, "number"),
    # "When ...", "What year ...", "In which year ...": a date.
    (re.compile(rf"\bwhen\b|\bwhat ({alternation(DATE_NOUNS)})\b|\bin which year\b", re.I), "date"),
    # A colour is an attribute, not a name: "What colour are they?", "What is the colour of ...?", "... are what color?"
    (re.compile(rf"\b(?:what|which)\s+(?:{alternation(COLOUR_NOUNS)})\b|\bwhat(?:['’]s|\s+(?:{_BE}))\s+"
                rf"(?:the|its|their)\s+(?:{alternation(COLOUR_NOUNS)})\b", re.I), "colour"),
    # "Who ...", "Where ...", "What company ...": a person, a body or a place, named.
    (re.compile(rf"\bwho\b|\bwhom\b|\bwhose\b|\bwhat ({alternation(ENTITY_NOUNS)})\b|\bwhere\b", re.I), "entity"),
    # "Which player ...", "What actor ...": a thing named by a noun, often a name. Not when the word after it
    # is a verb: an auxiliary, a past tense, or a word followed by a determiner ("What drives the engine?",
    # "What caused ...", "What must a pilot have?" ask for a phrase); "which of the ..." stays a name.
    (re.compile(rf"^\s*(which|what)\s+(?!(?:{_AUX})\b|{_PAST_TENSE}\b)\w+\b(?:(?<=\bof)|(?!\s+(?:{_DETERMINERS})\b))",
                re.I),
     "named"),
)

# Why, how (not how many/long ...) and yes/no questions, and those asking a purpose or a cause: an explanation, never
# a short span.
_NO_SPAN = re.compile(
    rf"^\s*(why|how(?! ({_HOW_QUANTITY}))|({_AUX})\b)|\b({alternation(EXPLANATION_NOUNS)})\b|"
    r"\bthe\s+(?:main\s+)?cause\s+of\b",
    re.I,
)
# A phrase question asks for a span only when a word asks for a thing ("What did they build?").
_ASKS_WHAT = re.compile(r"\b(what|which|name)\b", re.I)

# The focus of "what/which [adjectives] noun ..." questions: the words naming the kind of thing asked for.
_KIND_OF = rf"(?:{alternation(KIND_NOUNS)})\s+of"
_ASKS_KIND = re.compile(rf"\b(?:what|which)\s+{_KIND_OF}\b", re.I)
_FOCUS = re.compile(
    rf"\b(?:what|which)\s+(?:(?:{_KIND_OF}|names?\s+of)\s+)?((?:(?!(?:{_AUX}|{_PREPOSITIONS}|{_DETERMINERS}|"
    rf"{alternation(NOT_FOCUS_WORDS)}|{_PAST_TENSE}|\w+ly)\b)[\w'’-]+\s*){{1,3}})",
    re.I,
)
# A one-word focus followed by a determiner is a verb ("what drives the engine").
_DETERMINER_NEXT = re.compile(rf"\s*\b(?:{_DETERMINERS})\b", re.I)
# A focus's last word before a preposition is a verb ("which canal runs through").
_PREPOSITION_NEXT = re.compile(rf"\s*\b(?:{_PREPOSITIONS}|{_DETERMINERS})\b", re.I)
# Who and where have no focus word: a generic one stands in, for the embedding re-rank to compare spans with.
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


_WH = re.compile(rf"\b(?:{_WH_WORDS})\b", re.I)
# "When X happens, what ...?": a first "when" or "where" that opens a clause (no auxiliary after it) does not ask.
_CLAUSE_FIRST = re.compile(rf"\s*(when|where)\b(?!\s+(?:{_AUX})\b)[^?,]*,\s*(?:{_WH_WORDS})\b", re.I)


def _asking_words_only(question: str) -> str:
    """The question with the wh-words that do not ask blanked out: after the question's first wh-word, a "when" or
    "where" opens a clause ("What sea bordered the empire when he died?") and a capitalised one is part of a name
    ("What did Doctor When invent?"). A later "who" stays: "the runner who won" asks for a person. (The first
    wh-word always asks, capitalised or not: "Skylark 4: When did it land?")"""
    q = question.strip()
    opener = _CLAUSE_FIRST.match(q)  # "When X happens, what do we call it?": the later wh-word asks
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


# "How many ...", "What percentage ...": a count.
_COUNT = re.compile(rf"\bhow\s+(?:{alternation(HOW_COUNT)})\b|\bwhat\s+(?:{alternation(COUNT_NOUNS)})\b", re.I)


def asks_place(question: str) -> bool:
    """Whether the question's first wh-word is "where" (what a condensed follow-up carries before it aside)."""
    first = _WH.search(question)
    return first is not None and first.group().lower() == "where"


def asks_count(question: str) -> bool:
    """Whether the question asks how many or how much, or for a quantity ("What is the town's population?"): a
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
    """Whether the question asks for a kind of its focus ("what type of boats"): the answer is the focus's
    modifier in the sentence ("flat-bottomed boats"), not a name."""
    return bool(_ASKS_KIND.search(question))


# "What is the hill called?", "Give another name for ...", "What is its name?": the name something goes by.
_ASKS_NAME = re.compile(
    rf"\b(?:{alternation(NAMING_VERBS)})\s*(?:what\b|\?|$)|\b(?:what|which|another)\s+name\b|"
    rf"\bwhat\s+(?:{_BE})\s+(?:the|its|his|her|their)\s+name\b", re.I)
# "Who was named ...?" asks for a person, not a name.
_ASKS_WHO = re.compile(r"^\s*(?:who|whom)\b", re.I)


def asks_name(question: str) -> bool:
    """Whether the question asks what something is called ("What are the spikes called?", "What is its name?"),
    not who ("Who was named captain?"): the sentence's naming phrase ("called quills") answers."""
    return bool(_ASKS_NAME.search(question)) and not _ASKS_WHO.search(question)


def lexical_focus(question: str) -> str | None:
    """The question's own words naming the kind of answer asked for ("what Danish painter" -> "Danish
    painter"), or None."""
    m = _FOCUS.search(question)
    if not m:
        return None
    words = m.group(1).split()
    if len(words) == 1 and _DETERMINER_NEXT.match(question, m.end(1)):
        return None  # one word then a determiner is a verb: "what drives the engine"
    if len(words) > 1 and _PREPOSITION_NEXT.match(question, m.end(1)):
        words.pop()  # so is a last word before a preposition: "which canal runs through"
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


# "What was the chief reason ...?", "For what purpose ...?": a why question in other words.
_ASKS_REASON = re.compile(rf"\b(?:what|which)\s+(?:{_BE})\s+(?:the|a|one)\s+(?:main\s+|chief\s+|primary\s+)?"
                          r"(?:reason|cause|purpose)\b|\bfor\s+what\s+(?:reason|purpose)\b", re.I)
# "How did ...", "How can ...": how something is done (not "How likely", "How many").
_HOW_MEANS = re.compile(rf"how\s+(?:{_AUX})\b", re.I)
# "How come ...?" asks why.
_HOW_COME = re.compile(r"how\s+come\b", re.I)


def asks_explanation(question: str) -> str | None:
    """``"reason"`` for why questions ("How come ...?", "What was the chief reason ...?" too), ``"means"`` for how
    questions asking how something is done ("How did the town cut its bills?", not "How likely ...?" or "How many
    ...?"); None otherwise. The question's first wh-word decides, wherever it stands ("Skylark 4: why ...?")."""
    if _ASKS_REASON.search(question):
        return "reason"
    first = _WH.search(question)
    if first is None:
        return None
    word = first.group().lower()
    if word == "why" or (word == "how" and _HOW_COME.match(question, first.start())):
        return "reason"
    return "means" if word == "how" and _HOW_MEANS.match(question, first.start()) else None

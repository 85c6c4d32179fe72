"""A short answer span (number, date, name, place, short phrase) inside the best supporting sentence.

Offline, no extra model: take the answer type the question asks for (``rag.question_type``), list
candidate spans of that type in the sentence, drop what the question already says, and prefer candidates
close to the words the sentence shares with the question (answers sit next to the matched context). When the
sentence says the question's focus noun ("what type of ships", "which airport"), the words that modify it there
("ocean-going patrol ships", "Heathrow Airport") or a name in apposition ("the economist Claudia Goldin")
answer without weighing rivals; so does the sentence's naming phrase when the question asks what something is
called ("a man named John Smith").

When an embedder is passed (the bundled bi-encoder; still offline), names and phrases (the types with many
rival candidates) whose two best heuristic candidates are close are re-ranked by fusing that heuristic with
five more signals, each standardised over the candidates and weighted
equally: how central the span is to its sentence (cosine of span and sentence: the sentence was chosen
because it answers, and the answer is its informative part); how well it fits the question's *focus*
(its lexical answer type: "what German general" -> "German general", "who" -> "person or
organization"); whether it sits right next to a word of the question; whether it ends at a phrase
boundary (punctuation or the sentence's end); and how little of it the question already says.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rag.question_type import (
    answer_type,
    asks_kind,
    asks_name,
    lexical_focus,
    past_tense,
    question_focus,
    span_kind,
)

if TYPE_CHECKING:
    import numpy as np

#: Embeds texts into unit vectors (the pipeline's bi-encoder).
EmbedFn = Callable[[Sequence[str]], "np.ndarray"]

_WORD = re.compile(r"[\w][\w'’.-]*[\w]|[\w]")
_STOP = frozenset(
    "a an the of in on at to for from by with and or as is are was were be been being it its this that these "
    "those which who whom whose what when where why how did do does has have had not no than then into over "
    "under about after before during between through his her their our your my he she they we you i".split()
)
_MONTHS = "january february march april may june july august september october november december"
_NUMBER_WORDS = (
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen "
    "eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand million billion "
    "dozen half"
)
_DIGITS = r"\d(?:[\d,.]*\d)?"  # "8,336,817", "3.5"; never the comma or full stop after a number
_NUM = rf"(?:{_DIGITS}(?:\s?(?:%|percent|million|billion|thousand|hundred))?|(?:{'|'.join(_NUMBER_WORDS.split())})\b)"
_PATTERNS = {
    "date": re.compile(
        rf"\b(?:(?:early |late |mid-)?(?:{'|'.join(_MONTHS.split())})(?: \d{{1,2}})?,? ?\d{{3,4}}|\d{{1,2}} "
        rf"(?:{'|'.join(_MONTHS.split())}) \d{{3,4}}|(?:{'|'.join(_MONTHS.split())}) \d{{1,2}}|"
        rf"\d{{3,4}}s?|\d{{1,2}}(?:st|nd|rd|th) century)\b",
        re.IGNORECASE,
    ),
    "number": re.compile(rf"\b\d{{1,2}}:\d{{2}}\b|\b{_DIGITS}\s?[–—-]\s?{_NUM}|"  # times, ranges
                         rf"(?:[$£€]\s?)?\b{_NUM}(?:[ -][a-z]+)?|\b(?:once|twice|thrice)\b", re.IGNORECASE),
    "entity": re.compile(r"\b(?:[A-Z][\w'’.-]*(?:\s+(?:of|the|de|von|van|and|for|la|le|du)\s+|\s+|-)?)+"),
}

# Words that open a noun phrase without saying what kind of thing it is ("some", "many") or tie it to a clause.
_QUANTIFIERS = frozenset("some many most all other another several few various both each every such certain only "
                         "also now including include includes".split())
# Capitalised words that open clauses rather than names.
_CLAUSE_OPENERS = frozenset(
    "despite while although though however after before during when if in on at as but and since because "
    "following according".split()
)


_PHRASE_PIECE = re.compile(r"(?:[^,;:()\"“”]|(?<=\d),(?=\d))+")


@dataclass(frozen=True)
class Span:
    """A candidate short answer inside the sentence."""

    start: int
    end: int
    text: str
    score: float


def has_typed_span(question: str, sentence: str) -> bool:
    """Whether the sentence holds a new span of the specific type the question asks for."""
    kind = answer_type(question)
    if kind == "phrase":
        return False
    q_terms = {_norm(w) for w in _WORD.findall(question)}
    return bool(_candidates(sentence, "entity" if kind == "named" else kind, q_terms))


#: The heuristics' lead over their runner-up that needs no model call (a typed span against a mere phrase at the
#: same distance, or one an eighth of the sentence closer to the question's words).
CONFIDENT_MARGIN = 0.5
#: How many of the heuristics' best candidates the embedding re-rank reads.
SHORTLIST = 6


def short_answer(question: str, sentence: str, embed: EmbedFn | None = None,
                 sentence_vector: np.ndarray | None = None) -> str | None:
    """The best short span of ``sentence`` answering ``question``, or None when nothing fits.

    ``embed`` (optional) re-ranks name and phrase candidates with the embedding signals described in the
    module docstring (one small model call); ``sentence_vector`` is the sentence's own unit vector when the
    caller has it (the index does), so only the short texts need embedding.
    """
    kind = span_kind(question)
    if kind is None:
        return None
    q_terms = {_norm(w) for w in _WORD.findall(question)}
    anchors = [(m.start(), m.end()) for m in _WORD.finditer(sentence)
               if _norm(m.group()) in q_terms and _norm(m.group()) not in _STOP]
    if kind not in ("number", "date"):
        # The sentence says what the thing is called, or what the question's focus is: no rival needs weighing.
        located = (_named_by(sentence, q_terms) if asks_name(question) else []) or _focus_modifiers(
            question, sentence, q_terms)
        if located:
            return max(located, key=lambda m: _score(m, anchors, len(sentence))).text
    spans = _candidates(sentence, "entity" if kind == "named" else kind, q_terms)
    if kind == "phrase":
        spans = _dedupe(_candidates(sentence, "entity", q_terms) + spans)
    elif not spans:  # "when" is often answered by an event, "who" by a lower-case group
        spans = _candidates(sentence, "phrase", q_terms)
    if not spans:
        return None
    heuristic = [_score(s, anchors, len(sentence)) for s in spans]
    ranked = sorted(range(len(spans)), key=lambda i: -heuristic[i])
    if (embed is None or len(spans) == 1 or kind in ("number", "date")
            or heuristic[ranked[0]] - heuristic[ranked[1]] >= CONFIDENT_MARGIN):
        return spans[ranked[0]].text
    import numpy as np

    from rag.fusion import zscore_fusion

    # One small embedding batch per answer: the focus and the heuristics' shortlist (and the sentence, unless
    # its vector was passed: a long text would pad the whole batch to its length).
    shortlist = ranked[:SHORTLIST]
    focus = question_focus(question)
    texts = [*([focus] if focus else []), *(spans[i].text for i in shortlist)]
    vecs = embed([*texts, *([sentence] if sentence_vector is None else [])])
    span_vecs = vecs[len(texts) - len(shortlist):len(texts)]
    sentence_vec = vecs[-1] if sentence_vector is None else sentence_vector
    words = [(m.start(), m.end(), _norm(m.group())) for m in _WORD.finditer(sentence)]
    signals = [
        np.array([heuristic[i] for i in shortlist]),
        span_vecs @ sentence_vec,
        np.array([_beside_question(spans[i], words, q_terms) for i in shortlist], dtype=np.float64),
        np.array([_ends_phrase(sentence, spans[i]) for i in shortlist], dtype=np.float64),
        -np.array([_known_share(spans[i].text, q_terms) for i in shortlist]),
    ]
    if focus:
        signals.append(span_vecs @ vecs[0])
    fused = zscore_fusion(signals, [1.0] * len(signals))
    return spans[shortlist[int(fused.argmax())]].text


_NAMED_BY = re.compile(r"\b(?:called|known as|named|termed|dubbed|referred to as)\s+(?:variously\s+)?(?:the\s+)?"
                       r"(?!(?:after|by|for|off|on|up|in|out)\b)([\"“'‘])?([^,;:()\"“”’]+)", re.I)
# Where a name given after "called" ends: a full stop (not an abbreviation's: "U.S. Route 66", "St. Louis"), a new
# clause, or a preposition ("a man named John Smith on Friday").
_NAME_END = re.compile(r"(?<![A-Z])(?<!\b[A-Z][a-z])\.(?:\s|$)|\s+(?:and|or|but|while|which|who|that|because|on|in|"
                       r"at|for|from|by|with|after|during|since|until)\s+")
#: Modifiers longer than this are no modifiers but a clause ("Police said attackers carried automatic weapons").
MAX_MODIFIERS = 4


def _named_by(sentence: str, q_terms: set[str]) -> list[Span]:
    """The names the sentence gives after "called", "known as", "named" ... (not "named after", "called for")."""
    out: list[Span] = []
    for m in _NAMED_BY.finditer(sentence):
        quoted, phrase = m.group(1), m.group(2)  # a quoted name runs to its closing quote
        phrase = phrase if quoted else _NAME_END.split(phrase, maxsplit=1)[0]
        text = _strip_stop(_trim_known(phrase.strip(), q_terms)).strip("\"'“”‘’ ")
        start = sentence.find(text, m.start(2)) if text else -1
        if start >= 0:
            out.append(Span(start, start + len(text), text, 1.0))
    return out


def _focus_modifiers(question: str, sentence: str, q_terms: set[str]) -> list[Span]:
    """Where the sentence says the question's focus noun, the words modifying it there.

    "What type of tunnels ...?" is answered by the modifier ("deep-level tunnels" -> "deep-level"). A plain
    "what N" asks for a name, so only capitalised modifiers count, and a capitalised noun is part of the name
    ("Which airport ...?" -> "Heathrow Airport"; "What vaccine ...?" -> "the Novavax vaccine" -> "Novavax"); a
    name right after the noun is the answer ("the economist Claudia Goldin", "Prime Minister Rishi Sunak"). At
    most ``MAX_MODIFIERS`` words, none a count or a verb in the past tense.
    """
    focus = lexical_focus(question)
    focus_words = [_noun_forms(w) for w in _WORD.findall(focus or "")]
    if not focus_words:
        return []
    kind_of = asks_kind(question)
    words = list(_WORD.finditer(sentence))
    known = set().union(*(_noun_forms(t) for t in q_terms))

    def joined(i: int) -> bool:  # word i runs straight into word i + 1
        return not sentence[words[i].end():words[i + 1].start()].strip()

    def modifier(word: str) -> bool:
        n = _norm(word)
        if n in _NUMBER_WORDS.split() or (kind_of and word[0].isdigit()):
            return False  # a count is not a kind: "two ocean-going patrol ships"
        if (n in _STOP or _noun_forms(n) & known or n in _QUANTIFIERS or n in _CLAUSE_OPENERS or past_tense(word)
                or re.search(r"['’]s$", word)):
            return False
        return kind_of or word[0].isupper() or word[0].isdigit()

    out: list[Span] = []
    for j, head in enumerate(words):
        if not _noun_forms(head.group()) & focus_words[-1]:
            continue
        name = _apposition(sentence, words, j, known) if not kind_of else None
        if name is not None:  # a name right after the noun: "the chemist James Dewar", "its chief, Ann Lee"
            out.append(name)
            continue
        i = j - 1
        while i >= 0 and j - i < len(focus_words) and joined(i) and _noun_forms(words[i].group()) & set().union(
                *focus_words):  # the rest of the focus: "heating element"
            i -= 1
        last = i
        while i >= 0 and joined(i) and last - i <= MAX_MODIFIERS:
            n = _norm(words[i].group())
            # "cytotoxic or immunosuppressive drugs", not "grown and responsibilities"
            if not (modifier(words[i].group()) or (n in ("and", "or") and i < last and i > 0 and joined(i - 1)
                                                     and modifier(words[i - 1].group()))):
                break
            i -= 1
        first = i + 1
        if last - first >= MAX_MODIFIERS:
            continue  # more words than modifiers run to: a clause ("Doctors ran blood tests")
        while first <= last and _norm(words[first].group()) in ("and", "or"):
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
    economist Claudia Goldin", "its chief, Ann Lee"); after a capitalised title, the capitalised words that continue
    it ("Prime Minister Rishi Sunak"). None when the question says them all."""
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
    first = _norm(words[k].group())
    if end == k or first in _STOP or first in _CLAUSE_OPENERS or all(
            _noun_forms(_norm(w.group())) & known for w in words[k:end]):
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


def _beside_question(span: Span, words: list[tuple[int, int, str]], q_terms: set[str]) -> int:
    """How many of the span's nearest content words (one before, one after) the question contains."""
    before = next((w for a, b, w in reversed(words) if b <= span.start and w not in _STOP), None)
    after = next((w for a, b, w in words if a >= span.end and w not in _STOP), None)
    return (before in q_terms) + (after in q_terms)


def _ends_phrase(sentence: str, span: Span) -> bool:
    """Whether the span ends where a phrase does: at punctuation, a bracket or the sentence's end."""
    rest = sentence[span.end:].lstrip()
    return not rest or rest[0] in ",.;:()[]\"“”!?—–"


def _known_share(text: str, q_terms: set[str]) -> float:
    words = [_norm(w) for w in _WORD.findall(text)]
    return sum(w in q_terms for w in words) / max(len(words), 1)


def _dedupe(spans: list[Span]) -> list[Span]:
    seen: set[tuple[int, int]] = set()
    out: list[Span] = []
    for s in spans:
        if (s.start, s.end) not in seen:
            seen.add((s.start, s.end))
            out.append(s)
    return out


def _candidates(sentence: str, kind: str, q_terms: set[str]) -> list[Span]:
    pattern = _PATTERNS.get(kind)
    out: list[Span] = []
    if pattern is not None:
        for m in pattern.finditer(sentence):
            text = m.group().strip(" ,;:-")
            words = [_norm(w) for w in _WORD.findall(text)]
            if not words or all(w in q_terms or w in _STOP for w in words):
                continue
            if kind == "entity" and m.start() == 0 and len(words) == 1 and words[0] in _STOP:
                continue
            text = _tidy(_trim_known(text, q_terms), kind)
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
        for w in [*_WORD.finditer(m.group()), None]:
            if w is not None and _norm(w.group()) not in q_terms:
                run.append(w)
                continue
            if run:
                a, b = m.start() + run[0].start(), m.start() + run[-1].end()
                text = _strip_stop(sentence[a:b])
                found = re.compile(r"\s+".join(map(re.escape, text.split()))).search(sentence, a) if text else None
                if found:  # the words are rejoined with single spaces: find them across any whitespace
                    out.append(Span(found.start(), found.end(), text, 0.5))
            run = []
    return out


def _score(span: Span, anchors: list[tuple[int, int]], length: int) -> float:
    words = len(span.text.split())
    gaps = (max(0, a - span.end, span.start - b) for a, b in anchors)
    distance = min(gaps, default=length) / max(length, 1)
    brevity = 1.0 if words <= 5 else 5.0 / words
    return span.score + brevity - 4.0 * distance


def _tidy(text: str, kind: str) -> str:
    """Drop clause openers, possessives and suffixes that are not part of the answer."""
    words = text.split()
    while kind == "entity" and words and words[0].lower() in _CLAUSE_OPENERS:
        words.pop(0)
    text = " ".join(words).rstrip(".,;:")
    text = re.sub(r"['’]s$", "", text)
    if kind == "number":
        text = re.sub(r"-(time|fold|year|old)$", "", text, flags=re.I)
    return text


def _trim_known(text: str, q_terms: set[str]) -> str:
    words = text.split()
    while words and (_norm(words[0]) in q_terms or _norm(words[0]) in _STOP):
        words.pop(0)
    while words and (_norm(words[-1]) in q_terms or _norm(words[-1]) in _STOP):
        words.pop()
    return " ".join(words)


def _strip_stop(text: str) -> str:
    words = text.split()
    while words and _norm(words[0]) in _STOP:
        words.pop(0)
    while words and _norm(words[-1]) in _STOP:
        words.pop()
    if len(words) > 6:
        words = words[:6]
    return " ".join(words).strip(" .")


def _norm(word: str) -> str:
    return word.lower().strip(".'’-")

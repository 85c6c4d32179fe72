"""A short answer span (number, date, name, place, short phrase, a reason) inside the best supporting sentence.

Offline, no extra model: take the answer type the question asks for (``rag.answering.question_type``), list
candidate spans of that type in the sentence, drop what the question already says, and prefer candidates
close to the words the sentence shares with the question (answers sit next to the matched context). Where the
sentence's structure says what is asked (``rag.answering.span_structure``: "the economist Mara Lind" for "what
economist", "a man named Ivo Marsh" for "what is his name"), that answers without weighing rivals. Why and how
questions get the reason or means the sentence marks with a connective (``explanation``), or nothing; so do
questions asking for a count the sentence does not hold (no phrase stands in for a number).

When an embedder is passed (the bundled bi-encoder; still offline), names and phrases (the types with many
rival candidates) whose two best heuristic candidates are close are re-ranked by fusing that heuristic with
five more signals, each standardised over the candidates and weighted
equally: how central the span is to its sentence (cosine of span and sentence: the sentence was chosen
because it answers, and the answer is its informative part); how well it fits the question's *focus*
(its lexical answer type: "what Danish painter" -> "Danish painter", "who" -> "person or
organization"); whether it sits right next to a word of the question; whether it ends at a phrase
boundary (punctuation or the sentence's end); and how little of it the question already says.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rag.answering.explanation import explanation_span
from rag.answering.question_type import answer_type, asks_count, asks_name, asks_place, question_focus, span_kind
from rag.answering.span_structure import focus_modifiers, named_by
from rag.answering.spans import Span, candidates, dedupe, norm, question_terms, said, says_new
from rag.vocabulary import HOW_MEASURE, LOCATIVES, STOP_WORDS, TEMPORAL_CONNECTIVES, WORD, alternation

if TYPE_CHECKING:
    import numpy as np

#: Embeds texts into unit vectors (the pipeline's bi-encoder).
EmbedFn = Callable[[Sequence[str]], "np.ndarray"]


def has_typed_span(question: str, sentence: str) -> bool:
    """Whether the sentence holds a new span of the specific type the question asks for; for "where", a name the
    question does not say after a word that places it ("in Brastow", "on the Velka", "north of Tarnby")."""
    kind = answer_type(question)
    if kind == "phrase":
        return False
    q_terms = question_terms(question)
    if asks_place(question):
        return any(says_new(m.group(1).split(), q_terms) for m in _PLACED.finditer(sentence))
    return bool(candidates(sentence, "entity" if kind == "named" else kind, q_terms))


#: A capitalised name after a locative preposition, maybe through "the town of": where something is, comes from or
#: goes ("on Mill Lane", "in the town of Brastow", "north of Tarnby").
_PLACED = re.compile(rf"\b(?:{alternation(LOCATIVES)})\s+(?:of\s+)?(?:the\s+)?(?:[a-z]+\s+of\s+(?:the\s+)?)?"
                     r"([A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*)")


#: Answer types whose spans a closed pattern finds (numbers, dates, colours): the only one in the sentence settles
#: it, and rivals are ranked by the heuristics alone.
TYPED = ("number", "date", "colour")
#: The heuristics' lead over their runner-up that needs no model call (a typed span against a mere phrase at the
#: same distance, or one an eighth of the sentence closer to the question's words).
CONFIDENT_MARGIN = 0.5
#: The number of the heuristics' best candidates the embedding re-rank reads.
SHORTLIST = 6


@dataclass(frozen=True)
class ShortAnswer:
    """A short answer and whether the sentence itself settles it.

    ``confident``: the sentence's structure gives it ("the economist Mara Lind"), a connective marks it as the
    reason or means, or it is the sentence's only number or date and a number or date was asked. Otherwise it was
    chosen among rival names or phrases by the heuristics (and the re-rank), which is right about half as often
    (docs/evaluation.md, "Short answers by confidence"): front ends show it as uncertain.
    """

    text: str
    confident: bool


def short_answer(question: str, sentence: str, embed: EmbedFn | None = None,
                 sentence_vector: np.ndarray | None = None) -> str | None:
    """The text of ``find_short_answer`` (see there), or None when nothing fits."""
    found = find_short_answer(question, sentence, embed, sentence_vector)
    return found.text if found else None


def find_short_answer(question: str, sentence: str, embed: EmbedFn | None = None,
                      sentence_vector: np.ndarray | None = None) -> ShortAnswer | None:
    """The best short span of ``sentence`` answering ``question``, or None when nothing fits.

    ``embed`` (optional) re-ranks name and phrase candidates with the embedding signals described in the
    module docstring (one small model call); ``sentence_vector`` is the sentence's own unit vector when the
    caller has it (the index does), so only the short texts need embedding.
    """
    kind = span_kind(question)
    if kind is None:
        reason = explanation_span(question, sentence)  # why/how: the reason or means the sentence marks
        return ShortAnswer(reason.text, True) if reason else None
    q_terms = question_terms(question)
    anchors = [(m.start(), m.end()) for m in WORD.finditer(sentence)
               if norm(m.group()) in q_terms and norm(m.group()) not in STOP_WORDS]
    if kind not in TYPED:
        # The sentence says what the thing is called, or what the question's focus is: no rival needs weighing.
        located = (named_by(sentence, q_terms) if asks_name(question) else []) or focus_modifiers(
            question, sentence, q_terms)
        if located:
            return ShortAnswer(max(located, key=lambda m: _score(m, anchors, len(sentence))).text, True)
    spans = candidates(sentence, "entity" if kind == "named" else kind, q_terms)
    # The one number or date in the sentence, asked for a number or date, and of the sort asked (a capitalised name
    # is no such check: nothing says it names a person, a place, or the N of "what N").
    only_typed = len(spans) == 1 and kind in TYPED and fits(kind, question, spans[0].text)
    if kind == "phrase":
        spans = dedupe(candidates(sentence, "entity", q_terms) + spans)
    elif not spans and kind == "date":  # "when" by an event a temporal word introduces ("after the war ended")
        spans = temporal_clauses(sentence, q_terms)
    elif not spans and not (asks_count(question) or kind == "colour"):  # "who" often by a lower-case group; a
        spans = candidates(sentence, "phrase", q_terms)  # count or a colour only by one
    if not spans:
        return None
    heuristic = [_score(s, anchors, len(sentence)) for s in spans]
    ranked = sorted(range(len(spans)), key=lambda i: -heuristic[i])
    clear = len(spans) == 1 or heuristic[ranked[0]] - heuristic[ranked[1]] >= CONFIDENT_MARGIN
    if embed is None or clear or kind in TYPED:
        return ShortAnswer(spans[ranked[0]].text, only_typed)
    import numpy as np

    from rag.retrieval.fusion import zscore_fusion

    # One small embedding batch per answer: the focus and the heuristics' shortlist (and the sentence, unless
    # its vector was passed: a long text would pad the whole batch to its length).
    shortlist = ranked[:SHORTLIST]
    focus = question_focus(question)
    texts = [*([focus] if focus else []), *(spans[i].text for i in shortlist)]
    vecs = embed([*texts, *([sentence] if sentence_vector is None else [])])
    span_vecs = vecs[len(texts) - len(shortlist):len(texts)]
    sentence_vec = vecs[-1] if sentence_vector is None else sentence_vector
    words = [(m.start(), m.end(), norm(m.group())) for m in WORD.finditer(sentence)]
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
    return ShortAnswer(spans[shortlist[int(fused.argmax())]].text, False)


_YEAR = re.compile(r"(?:1\d|20|21)\d\ds?")  # a year or a decade ("1874", "1990s") says when, not how much
_MEASURE = re.compile(rf"\bhow\s+(?:{alternation(HOW_MEASURE)})\b", re.I)  # a measure comes with its unit


def fits(kind: str, question: str, text: str) -> bool:
    """Whether a number or date span is of the sort the question asks for (a colour always is).

    A date says when with a word (a month, a weekday, "century", "today") or a year of four digits; a bare "212"
    may be a count ("212 steps"). A year alone answers no number question ("How tall is it?" is not "1874"), and
    a measure (how long, tall, old, often ...) comes with its unit ("42 metres", "31 years").
    """
    if kind == "colour":
        return True
    if kind == "date":
        return bool(re.search(r"[^\W\d_]", text)) or _YEAR.fullmatch(text) is not None
    if _YEAR.fullmatch(text):
        return False
    return not _MEASURE.search(question) or bool(re.search(r"[^\W\d_]|%", text))


#: A temporal word and the phrase it introduces, up to punctuation: the phrase says when.
_TEMPORAL = re.compile(rf"\b(?:{alternation(TEMPORAL_CONNECTIVES)})\s+([^,;:.!?()\[\]\"“”]{{1,120}})", re.I)
#: Words a temporal phrase keeps at most (an event, not a clause running on).
MAX_TEMPORAL_WORDS = 8


def temporal_clauses(sentence: str, q_terms: set[str]) -> list[Span]:
    """The phrases temporal words introduce ("He died during the war" -> "the war"), where they say something the
    question does not."""
    out: list[Span] = []
    for m in _TEMPORAL.finditer(sentence):
        words = list(WORD.finditer(m.group(1)))[:MAX_TEMPORAL_WORDS]
        if not says_new([w.group() for w in words], q_terms):
            continue
        a, b = m.start(1) + words[0].start(), m.start(1) + words[-1].end()
        out.append(Span(a, b, sentence[a:b], 1.0))
    return out


def _beside_question(span: Span, words: list[tuple[int, int, str]], q_terms: set[str]) -> int:
    """The count of the span's nearest content words (one before, one after) that the question contains."""
    before = next((w for a, b, w in reversed(words) if b <= span.start and w not in STOP_WORDS), None)
    after = next((w for a, b, w in words if a >= span.end and w not in STOP_WORDS), None)
    return (before is not None and said(before, q_terms)) + (after is not None and said(after, q_terms))


def _ends_phrase(sentence: str, span: Span) -> bool:
    """Whether the span ends where a phrase does: at punctuation, a bracket or the sentence's end."""
    rest = sentence[span.end:].lstrip()
    return not rest or rest[0] in ",.;:()[]\"“”!?—–"


def _known_share(text: str, q_terms: set[str]) -> float:
    words = WORD.findall(text)
    return sum(said(w, q_terms) for w in words) / max(len(words), 1)


def _score(span: Span, anchors: list[tuple[int, int]], length: int) -> float:
    words = len(span.text.split())
    gaps = (max(0, a - span.end, span.start - b) for a, b in anchors)
    distance = min(gaps, default=length) / max(length, 1)
    brevity = 1.0 if words <= 5 else 5.0 / words
    return span.score + brevity - 4.0 * distance

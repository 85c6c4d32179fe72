"""A labelled set of (sentence, passage) pairs for measuring the citation verifier (``eval.verifier``).

Every function here is pure and seeded: the same passages and questions give the same pairs. Kinds of pair:

- ``verbatim`` (supported): a sentence of the passage, as the passage says it.
- ``clause_removed`` (supported): such a sentence with a parenthesis, a non-restrictive clause or an opening phrase
  cut out: no longer a verbatim copy, but nothing it says is new.
- ``qa_declarative`` (supported): an XQuAD question whose wh-word is its subject, turned into a statement by putting
  the gold answer in the wh-phrase's place ("Which crew built the dam?" + "the Orrin crew" -> "The Orrin crew built
  the dam."), paired with the passage that holds the answer and most of the question's words: the wording of a
  question writer, not of the passage, which is closer to what an LLM writes than a quote is.
- ``other_passage`` (unsupported): a sentence from another passage of the same article (same names and topic).
- ``swap_name``, ``swap_number``, ``swap_date`` (unsupported): a sentence of the passage with one name, number or
  date replaced by another of the same kind found elsewhere in the corpus and absent from the passage.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

SUPPORTED_KINDS = ("verbatim", "clause_removed", "qa_declarative")
SWAP_KINDS = ("name", "number", "date")
UNSUPPORTED_KINDS = ("other_passage", *(f"swap_{k}" for k in SWAP_KINDS))

_MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
_WEEKDAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
#: A month with an optional day and year ("March", "March 3", "March 3, 1901"), or a year alone (1000-2099).
_DATE = re.compile(rf"\b{_MONTH}(?: \d{{1,2}}(?!\d))?(?:,? \d{{4}})?\b|\b(?:1\d{{3}}|20\d{{2}})\b(?![,.]\d)")
#: A number in digits that is not part of a word ("3rd", "A4"), not a year and not a bracketed page or note mark.
_NUMBER = re.compile(r"(?<![\w.,\[])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\w,\]]|\.\d)|"
                     r"(?<![\w.,\[])\d+(?:\.\d+)?(?![\w,\]]|\.\d)")
#: A run of capitalised words ("Anna Krell", "Port Velmor"), possibly joined by "of" ("Bank of Ostmark").
_NAME = re.compile(r"\b[A-Z][a-z][\w'-]*(?:(?: of)? [A-Z][a-z][\w'-]*)*\b")
#: Capitalised words that are not names when they stand alone.
_NOT_NAMES = frozenset("The A An I It He She They We You This That These Those There Here His Her Their Its In On At "
                       "But And Or If When While After Before As By For From To With".split())
_WORD = re.compile(r"[\w']+")
_NUMBER_WORDS = {w: str(i) for i, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve "
                                                 "thirteen fourteen fifteen sixteen seventeen eighteen nineteen "
                                                 "twenty".split())}

#: A clause that adds to a sentence without changing what the rest says, most specific first.
_CLAUSES = (
    re.compile(r"\s*\([^()]{3,}\)"),  # a parenthesis
    re.compile(r",\s+(?:which|who|whose|where|although|though|while|including|especially|such as)\b[^,;]{3,},"),
    re.compile(r",\s+(?:which|who|whose|where|although|though|while|including|especially|such as)\b[^,;]{3,}"
               r"(?=[.!?]$)"),
)
#: An opening phrase ending at the first comma ("In 1901, ...", "After the storm, ...").
_OPENING = re.compile(r"^(?:In|On|At|After|Before|During|By|From|Since|Following|Although|While|When|As)\b"
                      r"[^,]{2,60},\s+")

#: A question whose wh-phrase is its subject: "Who built ...?", "What caused ...?", "Which crew won ...?".
_SUBJECT_QUESTION = re.compile(
    r"^(?:Who|What|Which(?: [a-z]+)?)\s+(?P<rest>(?:is|was|are|were|has|had|have|can|could|will|would|became|"
    r"won|led|made|took|gave|wrote|built|found|held|lost|left|brought|came|went|beat|ran|sent|began|became|"
    r"[a-z]+ed|[a-z]+es)\b[^?]*)\?\s*$")
#: Last words that show the wh-word was an object after all ("What is it called?", "Who was it named for?").
_OBJECT_ENDS = frozenset("called named known as for of in from to with about on by at like mean means do does did "
                         "consist consists use".split())


@dataclass(frozen=True)
class Passage:
    """A passage as the verifier sees it: a chunk of the index, with its sentences as the index cuts them."""

    dataset: str
    doc_id: str
    chunk_id: int
    text: str
    sentences: tuple[str, ...]


@dataclass(frozen=True)
class QA:
    """A question about an article and its gold answers (for ``qa_declarative`` pairs)."""

    doc_id: str
    question: str
    golds: tuple[str, ...]


@dataclass(frozen=True)
class Pair:
    """A labelled pair: is ``sentence`` supported by passage ``chunk_id``? ``detail`` says what was changed."""

    kind: str
    supported: bool
    sentence: str
    dataset: str
    doc_id: str
    chunk_id: int
    detail: str = ""


def usable(sentence: str) -> bool:
    """A statement of 6 to 45 words that ends like a sentence (no question, no double-quoted speech)."""
    s = sentence.strip()
    n = len(_WORD.findall(s))
    return 6 <= n <= 45 and s[-1:] in ".!" and not any(q in s for q in '"“”?')


def drop_clause(sentence: str) -> str | None:
    """The sentence with one clause that only adds detail cut out, or None when none is found or too little is left.
    """
    s = sentence.strip()
    for pattern in _CLAUSES:
        m = pattern.search(s)
        if m:
            out = re.sub(r"\s+([.,;!])", r"\1", s[: m.start()] + s[m.end():]).strip()
            return out if _kept_enough(s, out) else None
    m = _OPENING.match(s)
    if m:
        rest = s[m.end():]
        out = rest[:1].upper() + rest[1:]
        return out if _kept_enough(s, out) else None
    return None


def _kept_enough(before: str, after: str) -> bool:
    """At least 6 words kept and at least 3 removed."""
    a, b = len(_WORD.findall(after)), len(_WORD.findall(before))
    return a >= 6 and b - a >= 3


def declarative(question: str, answer: str) -> str | None:
    """A subject question with its wh-phrase replaced by the answer, as a statement; None for other questions."""
    m = _SUBJECT_QUESTION.match(question.strip())
    answer = answer.strip().rstrip(".!?,;:")
    if not m or not answer:
        return None
    rest = m.group("rest").strip()
    words = rest.split()
    if words[-1].lower() in _OBJECT_ENDS or len(words) < 2:
        return None
    return f"{answer[0].upper()}{answer[1:]} {rest}."


def spans(sentence: str, kind: str) -> list[tuple[int, int]]:
    """Where the sentence states a name, number or date (``kind``): (start, end) character offsets."""
    if kind == "date":
        return [m.span() for m in _DATE.finditer(sentence)]
    if kind == "number":
        dates = spans(sentence, "date")
        return [m.span() for m in _NUMBER.finditer(sentence)
                if not any(s <= m.start() < e for s, e in dates)]
    if kind == "name":
        out = []
        for m in _NAME.finditer(sentence):
            end = m.end() - (2 if m.group().endswith(("'s", "’s")) else 0)  # "Krell's": the name is "Krell"
            text = sentence[m.start():end]
            if m.start() == 0 or re.fullmatch(rf"{_MONTH}|{_WEEKDAY}", text) or text in _NOT_NAMES:
                continue  # the first word is capitalised anyway; calendar words are dates
            if len(text) < 3 or sentence[: m.start()].rstrip().endswith((".", "!", "?", ":", '"', "“", "'", "‘")):
                continue  # a new sentence or a quotation starts here
            out.append((m.start(), end))
        return out
    raise ValueError(f"unknown kind {kind!r}")


def date_shape(text: str) -> str:
    """A date's shape, so that a year is swapped for a year and a month for a month."""
    if re.fullmatch(r"\d{4}", text):
        return "year"
    day = "-day" if re.search(rf"{_MONTH} \d{{1,2}}\b", text) else ""
    year = "-year" if re.search(r"\d{4}$", text) else ""
    return f"month{day}{year}"


def _shape(kind: str, text: str) -> str:
    if kind == "date":
        return date_shape(text)
    if kind == "number":
        return "digits" if "." not in text else "decimal"
    return f"{min(len(text.split()), 3)}-word"


def absent(phrase: str, passage: str) -> bool:
    """The phrase does not occur in the passage (whole words, any case) and one of its words occurs nowhere in it,
    read as words are meant: "Krell's" says "Krell", "two" says "2", "1,000" says "1000"."""
    low = passage.lower()
    if re.search(rf"(?<!\w){re.escape(phrase.lower())}(?!\w)", low):
        return False
    words = _plain_words(low)
    return any(w not in words for w in _plain_words(phrase.lower()))


def _plain_words(text: str) -> set[str]:
    """Lower-case words without a possessive, numbers as digits without separators ("two", "2"; "1,000", "1000")."""
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text)
    return {_NUMBER_WORDS.get(w, w) for w in (re.sub(r"['’]s$", "", w) for w in _WORD.findall(text))}


def swap_pool(sentences: Sequence[str], kind: str) -> dict[str, list[str]]:
    """Every distinct name, number or date (``kind``) the sentences state, by shape, in first-seen order. A one-word
    "name" the sentences also write in lower case is an ordinary word ("Fairy" in a title, "fairy" elsewhere), not
    a name."""
    lower = {w for s in sentences for w in _WORD.findall(s) if w.islower()} if kind == "name" else set()
    pool: dict[str, dict[str, None]] = {}
    for s in sentences:
        for a, b in spans(s, kind):
            if " " not in s[a:b] and s[a:b].lower() in lower:
                continue
            pool.setdefault(_shape(kind, s[a:b]), {})[s[a:b]] = None
    return {shape: list(texts) for shape, texts in pool.items()}


def swap(sentence: str, passage: str, kind: str, pool: dict[str, list[str]], rng: random.Random
         ) -> tuple[str, str] | None:
    """The sentence with one of its ``kind`` spans (one the pool holds) replaced by another pool entry of the same
    shape that the passage does not state, and "old -> new"; None when there is no such span or entry."""
    found = spans(sentence, kind)
    rng.shuffle(found)
    for a, b in found:
        old = sentence[a:b]
        if old not in pool.get(_shape(kind, old), ()):
            continue  # not a name, number or date the pool holds (an ordinary capitalised word)
        options = [t for t in pool.get(_shape(kind, old), ()) if t.lower() != old.lower() and absent(t, passage)]
        if options:
            new = rng.choice(options)
            return f"{sentence[:a]}{new}{sentence[b:]}", f"{old} -> {new}"
    return None


def answer_passage(qa: QA, passages: Sequence[Passage]) -> Passage | None:
    """The passage of the question's article that holds a gold answer and most of the question's words."""
    q = {w for w in _WORD.findall(qa.question.lower()) if len(w) > 3}
    best: tuple[int, Passage] | None = None
    for p in passages:
        if p.doc_id != qa.doc_id or not any(g.strip() and g.lower() in p.text.lower() for g in qa.golds):
            continue
        score = len(q & set(_WORD.findall(p.text.lower())))
        if best is None or score > best[0]:
            best = (score, p)
    return None if best is None else best[1]


def build(passages: Sequence[Passage], questions: Sequence[QA], *, per_kind: int, seed: int = 0) -> list[Pair]:
    """Up to ``per_kind`` pairs of each kind (fewer where the data has fewer), drawn with ``seed``; each kind draws
    its (passage, sentence) slots in its own shuffled order."""
    rng = random.Random(seed)
    slots = [(p, s) for p in passages for s in p.sentences if usable(s)]
    by_doc: dict[str, list[Passage]] = {}
    for p in passages:
        by_doc.setdefault(p.doc_id, []).append(p)
    pairs: list[Pair] = []

    def take(kind: str, supported: bool, candidates: Iterable[tuple[Passage, str, str] | None]) -> None:
        n = 0
        for c in candidates:
            if n == per_kind:
                return
            if c is not None:
                p, sentence, detail = c
                pairs.append(Pair(kind, supported, sentence, p.dataset, p.doc_id, p.chunk_id, detail))
                n += 1

    def shuffled() -> list[tuple[Passage, str]]:
        return rng.sample(slots, len(slots))

    take("verbatim", True, ((p, s, "") for p, s in shuffled()))
    take("clause_removed", True, (_or_none(p, drop_clause(s), s) for p, s in shuffled()))
    take("qa_declarative", True, (_declared(qa, by_doc.get(qa.doc_id, ()))
                                  for qa in rng.sample(list(questions), len(questions))))
    take("other_passage", False, (_elsewhere(p, by_doc[p.doc_id], rng) for p, _ in shuffled()))
    corpus = [s for p in passages for s in p.sentences]
    for kind in SWAP_KINDS:
        pool = swap_pool(corpus, kind)
        take(f"swap_{kind}", False, (_swapped(p, s, kind, pool, rng) for p, s in shuffled()))
    return pairs


def _swapped(p: Passage, sentence: str, kind: str, pool: dict[str, list[str]], rng: random.Random
             ) -> tuple[Passage, str, str] | None:
    d = swap(sentence, p.text, kind, pool, rng)
    return None if d is None else (p, d[0], d[1])


def _or_none(p: Passage, changed: str | None, original: str) -> tuple[Passage, str, str] | None:
    return None if changed is None else (p, changed, original)


def _declared(qa: QA, passages: Sequence[Passage]) -> tuple[Passage, str, str] | None:
    p = answer_passage(qa, passages)
    if p is None:
        return None
    gold = next(g for g in qa.golds if g.strip() and g.lower() in p.text.lower())
    text = declarative(qa.question, gold)
    return None if text is None else (p, text, qa.question)


def _elsewhere(p: Passage, same_doc: Sequence[Passage], rng: random.Random) -> tuple[Passage, str, str] | None:
    """A usable sentence of another passage of the article that this passage does not contain."""
    others = [s for o in same_doc if o.chunk_id != p.chunk_id for s in o.sentences
              if usable(s) and s not in p.text]
    return None if not others else (p, rng.choice(others), "")

"""Check each sentence of an LLM's reply against the passages it cites, before anyone sees it.

A sentence is supported by a passage when (1) every name, number and date it states appears in that passage, and
(2) its support score reaches the calibrated threshold: the soft coverage of the sentence's content-token vectors
by the passage's (each sentence token's best cosine with any passage token, averaged: BERTScore's recall with the
bundled bi-encoder's contextual token vectors, the signal the extractive answerer ranks with). Without token
vectors the score is the share of the sentence's content words the passage says. No NLI model runs here: the
claim check catches a swapped name, number or date; the score catches a sentence about something else.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rag.answering.spans import candidates, norm
from rag.protocols import TokenEmbedder
from rag.vocabulary import DIGITS, MONTHS, NUMBER_WORDS, POSSESSIVE, STOP_WORDS, WEEKDAYS, WORD

if TYPE_CHECKING:
    import numpy as np

    from rag.protocols import Embedder
    from rag.retrieval.sentence_index import SentenceIndex

#: Citation markers as models write them: "[2]", "[1][3]", "[1, 3]", "[Passage 2]", "[passages 1 and 2]".
MARKER = re.compile(r"\s*\[(?:passages?\s*)?(\d{1,3}(?:\s*(?:,|and|&)\s*\d{1,3})*)\]", re.IGNORECASE)
#: The number words that are one number (one to twenty), compared as their digits: "four" states "4".
_NUMBER_WORDS = {w: str(i) for i, w in enumerate(NUMBER_WORDS[:20], start=1)}
#: A number in digits ("1,000", "3.5", "1874") or a small one in words.
_NUMBER = re.compile(DIGITS + r"|\b(?:" + "|".join(_NUMBER_WORDS) + r")\b", re.IGNORECASE)
#: Codes and acronyms, wherever they stand (a sentence's first word included): letters mixed with digits
#: ("AX-17", "B52") or two capitals or more ("NATO").
_CODE = re.compile(r"\b(?=[\w-]*\d)(?=[\w-]*[A-Za-z])\w[\w-]*\w\b|\b[A-Z]{2,}\b")
#: Month and weekday names: a date's words that are not numbers.
_CALENDAR = re.compile(r"\b(?:" + "|".join([m.capitalize() for m in MONTHS] + list(WEEKDAYS)) + r")\b")


@dataclass(frozen=True)
class Evidence:
    """A passage the reply may cite: its text, and the index rows of its sentences (for their token vectors)."""

    text: str
    rows: tuple[int, ...]
    sentence_texts: tuple[str, ...]


@dataclass(frozen=True)
class Verdict:
    """One reply sentence checked: its text without markers, the passages it cites (0-based, after repair), the
    best support among them, what a cited passage does not state, and which passage sentence matches it best."""

    text: str
    cited: tuple[int, ...]
    support: float
    missing: tuple[str, ...]
    verified: bool
    attributed: bool  # no valid marker was written: the verifier chose the passage
    best_sentence: tuple[int, int] | None = None  # (passage, sentence position) the sentence rests on


def split_markers(sentence: str, passages: int) -> tuple[str, tuple[int, ...], bool]:
    """The sentence without its markers, the passage indexes it cites (0-based, in range, no repeats), and whether
    it wrote a marker out of range (removed)."""
    cited: list[int] = []
    unknown = False
    for m in MARKER.finditer(sentence):
        for n in re.findall(r"\d+", m.group(1)):
            i = int(n) - 1
            if 0 <= i < passages:
                if i not in cited:
                    cited.append(i)
            else:
                unknown = True
    text = MARKER.sub("", sentence).strip()
    return re.sub(r"\s+([.!?,;:])", r"\1", text), tuple(cited), unknown


def claims(sentence: str) -> list[str]:
    """The numbers, dates and names a sentence states (what a supporting passage must also state): every number
    (in digits or a number word), every month or weekday, every capitalised name."""
    out: list[str] = [m.group() for m in _NUMBER.finditer(sentence)]
    out += [m.group() for m in _CALENDAR.finditer(sentence)]
    out += [m.group() for m in _CODE.finditer(sentence)]
    for span in candidates(sentence, "entity", set()):
        if span.start == 0 and " " not in span.text:
            continue  # a lone capitalised first word is how every sentence starts, not a name
        out.append(span.text)
    return list(dict.fromkeys(out))


def states(passage: str, claim: str) -> bool:
    """Whether the passage states the claim: each of its words appears there (case, possessives and thousands
    separators aside; a number word and its digits are the same number)."""
    words = _words(passage)
    return all(w in words for w in _words(claim) if w not in STOP_WORDS)


def _words(text: str) -> set[str]:
    """The text's words normalised as claims are compared: lower case, no possessive, numbers as digits."""
    words = [POSSESSIVE.sub("", norm(w)) for w in WORD.findall(_NUMBER.sub(" ", text))]
    out = {_NUMBER_WORDS.get(w, w) for w in words}
    out.update(part for w in words if "-" in w for part in w.split("-") if part)  # "QRT-TV" states "QRT"
    out.update(_number(m.group()) for m in _NUMBER.finditer(text))
    return out


def _number(text: str) -> str:
    low = text.lower()
    return _NUMBER_WORDS.get(low, low.replace(",", "").rstrip("."))


class Verifier:
    """Judges reply sentences against evidence; ``threshold`` is the calibrated support a sentence needs.

    A passage is read as windows of two consecutive sentences (evidence often spans two): a reply sentence is
    supported when one window states all its claims and covers it to the threshold, so a name and a verb found far
    apart in a long passage do not add up to a claim the passage never makes.
    """

    def __init__(self, embedder: Embedder, sentences: SentenceIndex | None, threshold: float) -> None:
        self.embedder = embedder
        self.sentences = sentences
        self.threshold = threshold

    def check(self, sentences: Sequence[str], evidence: Sequence[Evidence]) -> list[Verdict]:
        """A verdict per reply sentence (one model call for all of them)."""
        parsed = [split_markers(s, len(evidence)) for s in sentences]
        tokens = self._tokens([text for text, _, _ in parsed])
        out: list[Verdict] = []
        for j, (text, cited, _) in enumerate(parsed):
            said = claims(text)
            reads = [self._read(text, None if tokens is None else tokens[j], said, ev) for ev in evidence]
            out.append(_judge(text, cited, reads, self.threshold))
        return out

    def _read(self, text: str, tokens: np.ndarray | None, said: list[str], ev: Evidence) -> Reading:
        """The passage's best window for the sentence: among windows stating every claim the best covered one,
        else the best covered one with what it lacks."""
        cover = self._coverage(text, tokens, ev)
        windows = [_window(ev, i) for i in range(len(cover))]
        if not windows:
            return Reading(0.0, tuple(said), 0)
        # Each claim must be stated within one sentence: a name whose parts sit in two sentences is not stated.
        lacking = [tuple(c for c in said if not any(states(s, c) for s in w)) for w in windows]
        stating = [i for i in range(len(windows)) if not lacking[i]]
        pool = stating or list(range(len(windows)))
        best = max(pool, key=lambda i: cover[i])
        return Reading(cover[best], lacking[best], best)

    def _coverage(self, text: str, tokens: np.ndarray | None, ev: Evidence) -> list[float]:
        """Per window (a passage sentence with the one before it), how much of the reply sentence it covers."""
        index = self.sentences
        if tokens is not None and index is not None and index.tokens is not None and ev.rows:
            import numpy as np

            if not len(tokens):
                return [0.0] * len(ev.rows)
            best = index.tokens.best(np.asarray(tokens, dtype=np.float32), np.asarray(ev.rows, dtype=np.int64))
            pair = np.maximum(best, np.concatenate([best[:, :1], best[:, :-1]], axis=1))  # the first is read alone
            return [float(x) for x in pair.mean(axis=0)]
        words = [w for w in _words(text) if w not in STOP_WORDS]
        return [sum(w in _words(" ".join(_window(ev, i))) for w in words) / max(len(words), 1)
                for i in range(len(ev.sentence_texts))]

    def _tokens(self, texts: Sequence[str]) -> list[np.ndarray] | None:
        if not texts or not isinstance(self.embedder, TokenEmbedder):
            return None
        if self.sentences is None or self.sentences.tokens is None:
            return None
        return self.embedder.embed_with_tokens(list(texts))[1]


@dataclass(frozen=True)
class Reading:
    """How one passage reads against one reply sentence: the support, the claims it lacks, its best window."""

    support: float
    missing: tuple[str, ...]
    sentence: int


def _judge(text: str, cited: tuple[int, ...], reads: Sequence[Reading], threshold: float) -> Verdict:
    def ok(i: int) -> bool:
        return not reads[i].missing and reads[i].support >= threshold

    def verdict(passages: tuple[int, ...], best: int, verified: bool, attributed: bool) -> Verdict:
        r = reads[best]
        return Verdict(text, passages, r.support, r.missing, verified, attributed, (best, r.sentence))

    good = tuple(i for i in cited if ok(i))
    if good:
        return verdict(good, max(good, key=lambda i: reads[i].support), True, False)
    if cited:  # the cited passages do not support it: say so, with what the best of them lacks
        return verdict(cited, max(cited, key=lambda i: reads[i].support), False, False)
    ranked = sorted(range(len(reads)), key=lambda i: -reads[i].support)
    for i in ranked:  # no marker: the passage that supports it best, if one does
        if ok(i):
            return verdict((i,), i, True, True)
    if not ranked:
        return Verdict(text, (), 0.0, tuple(claims(text)), False, True)
    return verdict((), ranked[0], False, True)


def _window(ev: Evidence, i: int) -> tuple[str, ...]:
    """Passage sentence ``i`` with the one before it (the first alone)."""
    return ev.sentence_texts[max(i - 1, 0) : i + 1]

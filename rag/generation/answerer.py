"""The generative answerer: an LLM writes the answer from the retrieved passages, and only what the passages
support reaches the user.

1. Evidence gate: the extractive answerer runs first (milliseconds). When it abstains, so does this one, and the
   LLM is never called. Its answer is also the fallback for every failure below.
2. Prompt hygiene: invisible characters are stripped, passages that read like instructions to a model are withheld
   (and reported in ``Answer.flagged``), the rest go in fenced by a per-request boundary (``prompts``).
3. Verification: every sentence of the reply is checked against the passages it cites (``verify``); unknown
   markers are removed, a sentence without one is attributed to the passage that supports it best, unsupported
   sentences are dropped. No supported sentence, an LLM error or an empty reply: the extractive answer, with
   ``fallback`` saying why. Never an error, never an empty answer.
4. Streaming releases a sentence only once it is verified.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from rag.answering.extractive import ABSTAIN_MESSAGE
from rag.errors import LLMError
from rag.generation.hygiene import instruction_flags, strip_invisible
from rag.generation.prompts import Passage, answer_messages, new_boundary
from rag.generation.verify import Evidence, Verdict, Verifier
from rag.ingest.sentences import sentence_spans
from rag.types import Answer, Citation, Flagged, Hit

if TYPE_CHECKING:
    from rag.answering.answerer import ExtractiveAnswerer
    from rag.models.llm import ChatClient
    from rag.protocols import Embedder
    from rag.retrieval.hybrid import QueryScores
    from rag.retrieval.live import LoadedIndex
    from rag.settings import Settings

log = logging.getLogger(__name__)

#: What an answer stream yields: verified text pieces, then the final ``Answer``.
Piece = str | Answer


@dataclass(frozen=True)
class Prepared:
    """A gated question ready for the LLM: the extractive answer (gate and fallback), the passages sent, the hits
    they came from, what was withheld, and the messages."""

    base: Answer
    hits: tuple[Hit, ...]
    evidence: tuple[Evidence, ...]
    flagged: tuple[Flagged, ...]
    messages: list[dict[str, str]]


class GenerativeAnswerer:
    """Answers with an LLM behind the evidence gate and the per-sentence verifier."""

    def __init__(self, settings: Settings, extractive: ExtractiveAnswerer, llm: Callable[[], ChatClient],
                 embedder: Callable[[], Embedder]) -> None:
        self.settings = settings
        self.extractive = extractive
        self._llm = llm
        self._embedder = embedder

    def answer(self, question: str, qs: QueryScores, hits: Sequence[Hit], loaded: LoadedIndex, *,
               focus: str | None = None, timings: dict[str, float], started: float) -> Answer:
        """The verified LLM answer, or the extractive one (abstention included) with the reason."""
        prep = self.prepare(question, qs, hits, loaded, focus=focus, timings=timings, started=started)
        if isinstance(prep, Answer):
            return prep
        t0 = time.perf_counter()
        try:
            reply = self._llm().complete(prep.messages, max_tokens=self.settings.generation.llm_max_tokens)
        except LLMError as e:
            return self._fallback(prep, f"the LLM failed: {e.message}", timings, started)
        timings["llm_ms"] = (time.perf_counter() - t0) * 1e3
        verdicts = self._verifier(loaded).check(split_sentences(reply), prep.evidence)
        return self._finish(prep, verdicts, loaded, timings, started)

    def stream(self, question: str, qs: QueryScores, hits: Sequence[Hit], loaded: LoadedIndex, *,
               focus: str | None = None, timings: dict[str, float], started: float) -> Iterator[Piece]:
        """Gate now (errors raise before anything streams), then yield each verified sentence as it completes and
        the final answer; a fallback streams the extractive answer instead."""
        prep = self.prepare(question, qs, hits, loaded, focus=focus, timings=timings, started=started)
        if isinstance(prep, Answer):
            return replay(prep)
        return self._stream(prep, loaded, timings, started)

    def _stream(self, prep: Prepared, loaded: LoadedIndex, timings: dict[str, float], started: float
                ) -> Iterator[Piece]:
        verifier = self._verifier(loaded)
        numbers: dict[int, int] = {}
        verdicts: list[Verdict] = []
        shown: list[Verdict] = []
        buffer = ""
        t0 = time.perf_counter()
        try:
            for piece in self._llm().stream(prep.messages, max_tokens=self.settings.generation.llm_max_tokens):
                buffer += piece
                done, buffer = complete_sentences(buffer)
                for v in verifier.check(done, prep.evidence) if done else []:
                    verdicts.append(v)
                    if _shows(v, shown, last=False):
                        shown.append(v)
                        yield render(v, numbers) + " "
            tail = [s for s in split_sentences(buffer) if s]
            for i, v in enumerate(verifier.check(tail, prep.evidence) if tail else []):
                verdicts.append(v)
                if _shows(v, shown, last=i == len(tail) - 1):
                    shown.append(v)
                    yield render(v, numbers) + " "
        except LLMError as e:
            if shown:  # sentences were shown: end with what was verified
                log.warning("the LLM stream broke off: %s", e.message)
            else:
                yield from replay(self._fallback(prep, f"the LLM failed: {e.message}", timings, started))
                return
        timings["llm_ms"] = (time.perf_counter() - t0) * 1e3
        final = self._finish(prep, verdicts, loaded, timings, started, shown)
        if final.answerer != "llm":
            yield from replay(final)
            return
        yield final

    def prepare(self, question: str, qs: QueryScores, hits: Sequence[Hit], loaded: LoadedIndex, *,
                focus: str | None, timings: dict[str, float], started: float) -> Prepared | Answer:
        """The gate and the prompt: an ``Answer`` when the LLM must not be called (abstention, every passage
        withheld), else what to send."""
        base = self.extractive.answer(question, qs, hits, loaded, focus=focus, timings=timings, started=started)
        if base.abstained:
            return base  # the evidence gate: the LLM is never called
        kept: list[Hit] = []
        flagged: list[Flagged] = []
        for h in hits:
            # The title goes into the prompt beside the text: an instruction in either withholds the passage.
            flags = instruction_flags(h.chunk.text) + instruction_flags(loaded.titles.get(h.chunk.doc_id, ""))
            if flags:
                flagged.extend(Flagged(h.chunk.doc_id, h.chunk.chunk_id, f.kind, f.excerpt) for f in flags)
            else:
                kept.append(h)
        prep = Prepared(base, tuple(kept), tuple(self._evidence(kept, loaded)), tuple(flagged), [])
        if not kept:
            return self._fallback(prep, "every retrieved passage read like instructions to a model", timings,
                                  started)
        passages = [Passage(n, strip_invisible(loaded.titles.get(h.chunk.doc_id, h.chunk.doc_id)),
                            strip_invisible(h.chunk.text.strip())) for n, h in enumerate(kept, start=1)]
        messages = answer_messages(strip_invisible(question), passages, ABSTAIN_MESSAGE, new_boundary())
        return replace(prep, messages=messages)

    def _evidence(self, hits: Sequence[Hit], loaded: LoadedIndex) -> list[Evidence]:
        retriever = loaded.retriever
        out = []
        for h in hits:
            rows = tuple(int(r) for r in retriever.sentence_rows(retriever.row_of(h.chunk.chunk_id)))
            out.append(Evidence(h.chunk.text, rows, tuple(retriever.sentences.texts[r] for r in rows)))
        return out

    def _verifier(self, loaded: LoadedIndex) -> Verifier:
        return Verifier(self._embedder(), loaded.retriever.sentences, self.settings.generation.support_threshold)

    def _finish(self, prep: Prepared, verdicts: Sequence[Verdict], loaded: LoadedIndex, timings: dict[str, float],
                started: float, shown: Sequence[Verdict] | None = None) -> Answer:
        """The answer from the sentences shown (``_shows``; decided here unless a stream already decided)."""
        if shown is None:
            kept: list[Verdict] = []
            for i, v in enumerate(verdicts):
                if _shows(v, kept, last=i == len(verdicts) - 1):
                    kept.append(v)
        else:
            kept = list(shown)
        if not kept:
            reason = ("the LLM wrote no answer" if not verdicts else
                      "the LLM found no answer in the passages" if _abstains(verdicts) else
                      "no sentence of the LLM's reply was supported by the passage it cites")
            return self._fallback(prep, reason, timings, started, dropped=len(verdicts))
        numbers: dict[int, int] = {}
        text = " ".join(render(v, numbers) for v in kept)
        cites = tuple(self._citation(n, i, kept, prep, loaded) for i, n in sorted(numbers.items(), key=lambda x: x[1]))
        timings["total_ms"] = (time.perf_counter() - started) * 1e3
        return replace(prep.base, answer=text, citations=cites, short_answer=None, short_answer_confidence=None,
                       answerer="llm", fallback=None, flagged=prep.flagged,
                       dropped_sentences=len(verdicts) - len(kept), timings_ms=timings)

    def _citation(self, n: int, passage: int, kept: Sequence[Verdict], prep: Prepared, loaded: LoadedIndex
                  ) -> Citation:
        """Citation ``n`` for a passage: the passage sentence the strongest sentence citing it rests on."""
        v = max((v for v in kept if passage in v.cited), key=lambda v: v.support)
        hit = prep.hits[passage]
        ev = prep.evidence[passage]
        pos = v.best_sentence[1] if v.best_sentence and v.best_sentence[0] == passage else 0
        chunk = hit.chunk
        if ev.rows:
            s = loaded.retriever.sentences.rows[ev.rows[min(pos, len(ev.rows) - 1)]]
            text, start, end = loaded.retriever.sentences.texts[ev.rows[min(pos, len(ev.rows) - 1)]], s.start, s.end
        else:
            text, start, end = chunk.text, chunk.start, chunk.end
        return Citation(n, chunk.doc_id, loaded.titles.get(chunk.doc_id, chunk.doc_id), chunk.chunk_id, text, start,
                        end, round(hit.score, 4), verified=True, support=round(v.support, 4))

    def _fallback(self, prep: Prepared, reason: str, timings: dict[str, float], started: float, *,
                  dropped: int = 0) -> Answer:
        log.info("answering extractively: %s", reason)
        timings["total_ms"] = (time.perf_counter() - started) * 1e3
        return replace(prep.base, fallback=reason, flagged=prep.flagged, dropped_sentences=dropped, timings_ms=timings)


def render(v: Verdict, numbers: dict[int, int]) -> str:
    """The sentence with its markers renumbered in order of first citation across the answer."""
    marks = "".join(f"[{numbers.setdefault(i, len(numbers) + 1)}]" for i in v.cited)
    text = v.text.rstrip()
    if text and text[-1] in ".!?":
        return f"{text[:-1]} {marks}{text[-1]}" if marks else text
    return f"{text} {marks}".rstrip()


#: Markers written after a sentence's full stop ("... in 1901. [2]"): they belong to that sentence.
_TRAILING_MARKERS = re.compile(r"([.!?][\"'”’)]*)((?:\s*\[[^\[\]]*\d[^\[\]]*\])+)")
#: How a complete sentence ends (a reply cut off by the token limit ends without it).
_ENDS_SENTENCE = re.compile(r"[.!?…][\"'”’)\]]*\s*$")
_OPEN_MARKER = re.compile(r"\[[^\]]*$")


def split_sentences(text: str) -> list[str]:
    """The reply's sentences, each with the markers that cite it."""
    text = _TRAILING_MARKERS.sub(r"\2\1", strip_invisible(text).strip())
    return [text[s:e] for s, e in sentence_spans(text)]


def complete_sentences(buffer: str) -> tuple[list[str], str]:
    """The sentences of a growing reply that are complete (another one has begun after them), and the rest."""
    if _OPEN_MARKER.search(buffer):
        return [], buffer  # a marker is still arriving: it may belong to the sentence before it
    text = _TRAILING_MARKERS.sub(r"\2\1", buffer)
    spans = sentence_spans(text)
    if len(spans) < 2:
        return [], buffer
    cut = spans[-1][0]
    return split_sentences(text[:cut]), text[cut:]


def replay(answer: Answer) -> Iterator[Piece]:
    """An answer as a stream: its text in small pieces, then the answer itself."""
    yield from pieces(answer.answer)
    yield answer


def pieces(text: str, words: int = 3) -> list[str]:
    """Split a text into pieces of a few words; joined back they are the text (markers stay whole)."""
    tokens = re.findall(r"\S+\s*", text)
    lead = text[: len(text) - len(text.lstrip())]
    out = ["".join(tokens[i : i + words]) for i in range(0, len(tokens), words)]
    if lead and out:
        out[0] = lead + out[0]
    return out


def _shows(v: Verdict, shown: Sequence[Verdict], *, last: bool) -> bool:
    """Whether a reply sentence is shown: verified, not a repeat of one shown already, and, as the reply's last
    sentence, complete (a reply cut off by the token limit ends in a fragment)."""
    if not v.verified or any(_same(v.text, s.text) for s in shown):
        return False
    return not last or bool(_ENDS_SENTENCE.search(v.text))


def _same(a: str, b: str) -> bool:
    return " ".join(a.lower().split()) == " ".join(b.lower().split())


def _abstains(verdicts: Sequence[Verdict]) -> bool:
    """Whether the reply is the abstention the prompt asks for when the passages do not answer."""
    return ABSTAIN_MESSAGE.lower().rstrip(".") in " ".join(v.text for v in verdicts).lower()

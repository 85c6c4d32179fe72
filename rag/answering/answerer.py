"""The extractive answerer: quote the retrieved chunks' best sentences with numbered citations, or abstain."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from rag.answering import extractive
from rag.answering.short_answer import ShortAnswer, find_short_answer
from rag.conversation.followup import answers_own_words
from rag.types import Answer, Hit

if TYPE_CHECKING:
    from rag.protocols import Embedder
    from rag.retrieval.hybrid import QueryScores
    from rag.retrieval.live import LoadedIndex
    from rag.settings import Settings


class ExtractiveAnswerer:
    """Picks, cites and abstains from one index generation's sentences (no model beyond the embedder)."""

    def __init__(self, settings: Settings, embedder: Callable[[], Embedder]) -> None:
        self.settings = settings
        self._embedder = embedder  # called only when a short answer's candidates are re-ranked

    def answer(self, question: str, qs: QueryScores, hits: Sequence[Hit], loaded: LoadedIndex, *,
               focus: str | None = None, timings: dict[str, float], started: float) -> Answer:
        """The answer to ``question`` from ``hits`` (retrieved from ``loaded``); ``timings`` gets this stage's
        share, and ``total_ms`` is measured from ``started``."""
        s = self.settings.answer
        generation = loaded.snapshot.path.name  # every citation below comes from this generation
        t1 = time.perf_counter()
        sel = self.select(question, qs, hits, loaded, focus)
        timings["answer_ms"] = (time.perf_counter() - t1) * 1e3
        if (not sel.sentences or sel.evidence < s.abstain_threshold
                or (focus and not answers_own_words(focus, [c.text for c in sel.sentences]))):
            timings["total_ms"] = (time.perf_counter() - started) * 1e3
            return Answer(question, extractive.ABSTAIN_MESSAGE, True, hits=tuple(hits), timings_ms=timings,
                          generation=generation)
        text, cites = extractive.compose(sel, loaded.titles)
        t2 = time.perf_counter()
        short = self.short_answer(question, sel.sentences[0], loaded) if s.short_answers else None
        timings["short_answer_ms"] = (time.perf_counter() - t2) * 1e3
        timings["total_ms"] = (time.perf_counter() - started) * 1e3
        if short is None:
            return Answer(question, text, False, cites, hits=tuple(hits), timings_ms=timings, generation=generation)
        return Answer(question, text, False, cites, short.text, "high" if short.confident else "low", tuple(hits),
                      timings, generation=generation)

    def select(self, question: str, qs: QueryScores, hits: Sequence[Hit], loaded: LoadedIndex,
               focus: str | None = None) -> extractive.Selection:
        """The answer sentences among the hits, and the evidence abstention is decided on."""
        s = self.settings.answer
        cands = extractive.candidates(hits, loaded.retriever, qs, question, cos_weight=s.answer_dense_weight,
                                      bm25_weight=s.answer_bm25_weight, coverage_weight=s.answer_coverage_weight,
                                      alignment_weight=s.answer_alignment_weight, focus=focus)
        return extractive.select(cands, max_sentences=s.answer_sentences, coverage_weight=s.abstain_coverage_weight)

    def short_answer(self, question: str, sentence: extractive.Candidate, loaded: LoadedIndex) -> ShortAnswer | None:
        """The short answer span inside the best answer sentence (``rag.answering.short_answer``); ``loaded`` is
        the generation the sentence was selected from (its row indexes that generation's sentence vectors)."""
        if not self.settings.answer.short_answer_rerank:
            return find_short_answer(question, sentence.text)
        vector = loaded.retriever.sentences.vectors[sentence.row]
        return find_short_answer(question, sentence.text, self._embedder().embed, vector)

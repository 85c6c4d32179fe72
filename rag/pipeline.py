"""The one pipeline every front end calls: search, answer and update over the live index.

It composes the stages: ``Models`` (loaded on first use), ``LiveIndex`` (the generation answered from, watched for
newer ones), the retriever built over it, the answerer (``ExtractiveAnswerer``, or ``GenerativeAnswerer`` when an
LLM writes the answers), the follow-up condenser, and ``update_index`` for writes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rag.answering.answerer import ExtractiveAnswerer
from rag.conversation.condense import Turn, condense_offline, last_user_message
from rag.conversation.followup import prefer
from rag.errors import EmptyDocument, EmptyQuestion, InvalidQuestion, QuestionTooLong
from rag.generation.answerer import GenerativeAnswerer, Piece, replay
from rag.ingest.words import has_words
from rag.models.loading import Models
from rag.protocols import TokenEmbedder
from rag.retrieval.live import LiveIndex, LoadedIndex
from rag.store.compat import expected_manifest
from rag.store.indexing import IndexReport
from rag.types import Answer, Article, Hit

if TYPE_CHECKING:
    from rag.protocols import Embedder
    from rag.retrieval.hybrid import CrossScorer, QueryScores
    from rag.settings import Settings
    from rag.store.manifest import Manifest
    from rag.store.snapshot import Snapshot

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AnswerStream:
    """``Pipeline.stream``'s answer: the index generation it is drawn from, known before the first piece, and the
    pieces (iterate the stream itself)."""

    generation: str
    pieces: Iterator[Piece]

    def __iter__(self) -> Iterator[Piece]:
        return self.pieces


class Pipeline:
    """Holds the models and the live index; safe to share between threads."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.models = Models(settings, embedder)
        self.index = LiveIndex(settings, self._expected_manifest)
        self.extractive = ExtractiveAnswerer(settings, lambda: self.models.embedder)
        self.generative = GenerativeAnswerer(settings, self.extractive, lambda: self.models.llm,
                                             lambda: self.models.embedder)

    def close(self) -> None:
        """Release the LLM client and stop the local model (after the last request)."""
        self.models.close()

    @property
    def embedder(self) -> Embedder:
        """The embedding model, loaded on first use."""
        return self.models.embedder

    @property
    def loaded(self) -> LoadedIndex:
        """The live index, loaded (and checked against the settings) on first use."""
        return self.index.loaded

    @property
    def snapshot(self) -> Snapshot:
        return self.index.loaded.snapshot

    @property
    def current(self) -> Snapshot | None:
        """The live snapshot if the index is loaded already, without loading it."""
        cur = self.index.current
        return None if cur is None else cur.snapshot

    def refresh(self) -> None:
        """Swap in a generation another process published (``LiveIndex.refresh``); call it from a worker thread.

        A generation that fails to load in any way keeps the live one answering (logged), as one built with other
        settings does: a request is never failed by a newer generation it was not going to use."""
        try:
            self.index.refresh()
        except Exception:
            log.exception("not switching to the newest index generation: it failed to load")

    def reload(self) -> None:
        """Swap in the newest published index; requests in flight keep the old one."""
        self.index.reload()

    def _expected_manifest(self) -> Manifest:
        e = self.embedder
        return expected_manifest(self.settings, e.model_id, e.weights_sha256, e.dimension,
                                 isinstance(e, TokenEmbedder))

    def validate(self, question: str) -> str:
        """The question stripped; raises on blank or over-long input."""
        q = (question or "").strip()
        if not q:
            raise EmptyQuestion("the question is empty: ask something about the indexed articles")
        try:
            q.encode("utf-8")
        except UnicodeEncodeError as e:
            raise InvalidQuestion(f"the question is not valid Unicode text (character {e.start})") from None
        limit = self.settings.answer.max_question_chars
        if len(q) > limit:
            raise QuestionTooLong(f"the question has {len(q)} characters; the limit is {limit}")
        return q

    def search(self, question: str, k: int | None = None) -> list[Hit]:
        """Rank chunks for a question with the configured retrievers, fusion and reranking."""
        return self.search_in(question, k)[0]

    def search_in(self, question: str, k: int | None = None) -> tuple[list[Hit], LoadedIndex]:
        """``search``, and the generation the hits come from (their titles and documents are that one's)."""
        q = self.validate(question)
        self.refresh()
        _, hits, loaded = self._retrieve_in(q, k, {}, self.loaded)
        return hits, loaded

    def query_scores(self, q: str, timings: dict[str, float] | None = None, loaded: LoadedIndex | None = None
                     ) -> QueryScores:
        """Embed the question (with its token vectors when the index has them) and score every row once.

        ``loaded``: the index generation to score against (default: the live one). Callers that go on to search
        or select pass the generation they hold, so a reload in between never mixes two generations.
        """
        return self.query_scores_in(q, timings, loaded or self.loaded)[0]

    def query_scores_in(self, q: str, timings: dict[str, float] | None, loaded: LoadedIndex
                   ) -> tuple[QueryScores, LoadedIndex]:
        """``query_scores``, and the index they were scored against: with a store that answers from per-question
        candidates (Milvus), the candidates the question's vector found, which the answer must then read."""
        t0 = time.perf_counter()
        e, qtokens = self.embedder, None
        tokens = (loaded.snapshot.manifest.token_vectors if loaded.narrow is not None
                  else loaded.retriever.sentences.tokens is not None)
        if tokens and isinstance(e, TokenEmbedder):
            vecs, toks = e.embed_with_tokens([q])  # the same forward pass, plus the question's token vectors
            qvec, qtokens = vecs[0], toks[0]
        else:
            qvec = e.embed([q])[0]
        if timings is not None:
            timings["embed_ms"] = (time.perf_counter() - t0) * 1e3
        if loaded.narrow is not None:
            loaded = loaded.narrow(q, qvec)
        return loaded.retriever.score(q, qvec, qtokens), loaded

    def _retrieve(self, q: str, k: int | None, timings: dict[str, float], loaded: LoadedIndex
                  ) -> tuple[QueryScores, list[Hit]]:
        return self._retrieve_in(q, k, timings, loaded)[:2]

    def _retrieve_in(self, q: str, k: int | None, timings: dict[str, float], loaded: LoadedIndex
                     ) -> tuple[QueryScores, list[Hit], LoadedIndex]:
        """Scores and hits, and the index they come from (``query_scores_in``)."""
        t0 = time.perf_counter()
        if loaded.narrow is None:
            qs = self.query_scores(q, timings, loaded)
        else:
            qs, loaded = self.query_scores_in(q, timings, loaded)
        hits = loaded.retriever.search(qs, k or self.settings.search.top_k, self.settings, self._cross_scorer(q))
        timings["retrieve_ms"] = (time.perf_counter() - t0) * 1e3 - timings["embed_ms"]
        return qs, hits, loaded

    def _cross_scorer(self, question: str) -> CrossScorer | None:
        """The cross-encoder bound to the question, when one is configured."""
        model = self.models.cross_encoder
        return None if model is None else (lambda texts: model.score(question, texts))

    def answer(self, question: str, k: int | None = None, *, focus: str | None = None) -> Answer:
        """Retrieve, pick the supporting sentences, cite them, or abstain.

        ``focus``: the user's own words when ``question`` was condensed from a follow-up. The follow-up is then
        also asked as it stands, and ``rag.conversation.followup.prefer`` keeps the answer that says more of them.
        """
        if self.settings.answers_with_llm:
            q, qs, hits, loaded, timings, t0 = self._prepare(question, k)
            return self.generative.answer(q, qs, hits, loaded, focus=focus, timings=timings, started=t0)
        condensed, loaded = self._answer(question, k, focus)
        if not focus or focus.strip() == condensed.question:
            return condensed
        # The follow-up as it stands, from the same generation: whichever answer wins, it is drawn from one.
        return prefer(focus, condensed, self._answer(focus, k, None, loaded)[0])

    def stream(self, question: str, k: int | None = None, *, focus: str | None = None) -> AnswerStream:
        """``answer`` as text pieces then the final ``Answer``, with the generation it is drawn from. Bad input
        raises here, before anything streams; an LLM's sentences are released only once verified."""
        if self.settings.answers_with_llm:
            q, qs, hits, loaded, timings, t0 = self._prepare(question, k)
            pieces = self.generative.stream(q, qs, hits, loaded, focus=focus, timings=timings, started=t0)
            return AnswerStream(loaded.snapshot.path.name, pieces)
        answer = self.answer(question, k, focus=focus)
        return AnswerStream(answer.generation, replay(answer))

    def _answer(self, question: str, k: int | None, focus: str | None, loaded: LoadedIndex | None = None
                ) -> tuple[Answer, LoadedIndex]:
        q, qs, hits, loaded, timings, t0 = self._prepare(question, k, loaded)
        return self.extractive.answer(q, qs, hits, loaded, focus=focus, timings=timings, started=t0), loaded

    def _prepare(self, question: str, k: int | None, loaded: LoadedIndex | None = None
                 ) -> tuple[str, QueryScores, list[Hit], LoadedIndex, dict[str, float], float]:
        t0 = time.perf_counter()
        q = self.validate(question)
        timings: dict[str, float] = {}
        if loaded is None:
            self.refresh()
            loaded = self.loaded  # one generation for the whole answer, whatever is published meanwhile
        timings["load_ms"] = (time.perf_counter() - t0) * 1e3
        qs, hits, loaded = self._retrieve_in(q, k, timings, loaded)
        return q, qs, hits, loaded, timings, t0

    def standalone(self, turns: Sequence[Turn]) -> tuple[str, str | None]:
        """The question to answer for a conversation's last user turn, and the user's own words when it was
        condensed from a follow-up (``answer``'s ``focus``). The LLM condenses when it writes the answers."""
        last = last_user_message(turns)
        if not last.strip():
            raise EmptyQuestion("the last user message is empty: ask something about the indexed articles")
        self.validate(last)
        question = self._condense(turns)[: self.settings.answer.max_question_chars]
        return question, (None if question.strip() == last.strip() else last)

    def _condense(self, turns: Sequence[Turn]) -> str:
        question = last_user_message(turns).strip()
        if not any(t.role == "user" for t in turns[:-1]):
            return question
        if self.settings.answers_with_llm:
            from rag.generation.condense import rewrite

            rewritten = rewrite(turns, self.models.llm)
            if rewritten:
                return rewritten
        return condense_offline(turns)

    def update(
        self,
        *,
        upsert: Sequence[Article] = (),
        remove: Sequence[str] = (),
        prune_sources: Sequence[Path] = (),
        spare: Sequence[Path] = (),
        rebuild: bool = False,
        progress: bool = False,
    ) -> IndexReport:
        """Change the index on disk atomically, then serve the new generation (``update_index``).

        :raises EmptyDocument: an upserted document has no word to search (``rag.ingest.words``); nothing is written.
        """
        for article in upsert:
            if not has_words(article.body):
                raise EmptyDocument(f"document {article.doc_id!r} has no word to search (only spaces, punctuation, "
                                    "single letters or stop words): send text with words")
        report = self.index.store.update(self.embedder, upsert=upsert, remove=remove, prune_sources=prune_sources,
                                         spare=spare, rebuild=rebuild, progress=progress)
        if report.changed or rebuild or self.index.current is not None:
            self.index.reload()
        return report

"""The one pipeline every front end calls: load the index once, search, answer, update."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rag import answering
from rag.compat import check_compatible, expected_manifest
from rag.condense import mentioned, own_names, own_words
from rag.errors import EmptyQuestion, InvalidQuestion, QuestionTooLong, RagError
from rag.indexing import IndexReport, update_index
from rag.protocols import TokenEmbedder
from rag.retrieval import CrossScorer, HybridRetriever, QueryScores
from rag.short_answer import ShortAnswer, find_short_answer
from rag.types import Answer, Article, Hit

if TYPE_CHECKING:
    from rag.cross_encoder import CrossEncoderModel
    from rag.protocols import Embedder
    from rag.settings import Settings
    from rag.store import Snapshot

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Loaded:
    """An index generation with the retrievers built over it (swapped as a whole)."""

    snapshot: Snapshot
    retriever: HybridRetriever
    titles: dict[str, str]


class Pipeline:
    """Holds the model and the live index; safe to share between threads."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self._embedder = embedder
        self._loaded: _Loaded | None = None
        self._lock = threading.RLock()
        self._cross: CrossEncoderModel | None = None
        self._checked = time.monotonic()  # when the index folder was last looked at for a newer generation
        self._refused = ""  # a generation that could not be loaded (built with other settings): not retried

    @property
    def embedder(self) -> Embedder:
        """The embedding model, loaded on first use."""
        if self._embedder is None:
            with self._lock:
                if self._embedder is None:
                    from rag.embedding import SentenceTransformerEmbedder

                    s = self.settings
                    self._embedder = SentenceTransformerEmbedder(
                        s.embedding_model, device=s.embedding_device, batch_size=s.embedding_batch_size
                    )
        return self._embedder

    @property
    def loaded(self) -> _Loaded:
        """The live index, loaded (and checked against the settings) on first use."""
        cur = self._loaded
        if cur is None:
            with self._lock:
                if self._loaded is None:
                    self._loaded = self._load()
                cur = self._loaded
        return cur

    def refresh(self) -> None:
        """Swap in a generation another process published (``rag index`` beside a running server), looking at the
        index folder at most every ``index_watch_seconds``. It may load an index: call it from a worker thread
        (``answer`` and ``search`` do)."""
        cur = self._loaded
        live = None if cur is None else self._published_elsewhere(cur)
        if live is None:
            return
        with self._lock:
            if self._loaded is not cur:
                return
            try:
                self._loaded = self._load()
            except RagError as e:  # e.g. rebuilt with other settings: keep answering from what we have
                self._refused = live
                log.warning("not switching to index generation %s: %s", live, e.message)

    def _published_elsewhere(self, cur: _Loaded) -> str | None:
        """The name of the index folder's live generation when it is not the one loaded (nor one refused before)."""
        every, now = self.settings.index_watch_seconds, time.monotonic()
        if every <= 0 or now - self._checked < every:
            return None
        self._checked = now
        from rag.store import current_generation

        live = current_generation(self.settings.index_dir)
        if live is None or live.name in (cur.snapshot.path.name, self._refused):
            return None
        return live.name

    @property
    def current(self) -> Snapshot | None:
        """The live snapshot if the index is loaded already, without loading it."""
        cur = self._loaded
        return None if cur is None else cur.snapshot

    @property
    def snapshot(self) -> Snapshot:
        return self.loaded.snapshot

    def reload(self) -> None:
        """Swap in the newest published index; requests in flight keep the old one."""
        fresh = self._load()
        with self._lock:
            self._loaded = fresh

    def _load(self) -> _Loaded:
        from rag.store import load_snapshot, read_manifest

        e = self.embedder
        check_compatible(read_manifest(self.settings.index_dir),
                         expected_manifest(self.settings, e.model_id, e.weights_sha256, e.dimension,
                                           isinstance(e, TokenEmbedder)))
        from rag.sentence_index import SentenceIndex

        snap = load_snapshot(self.settings.index_dir)
        _limit_blas_threads(self.settings.blas_threads)
        titles = {d: r.title for d, r in snap.documents.items()}
        return _Loaded(snap, HybridRetriever(snap, SentenceIndex(snap)), titles)

    def _cross_scorer(self, question: str) -> CrossScorer | None:
        """A cross-encoder bound to the question, when one is configured (loaded once)."""
        if not self.settings.cross_encoder or not self.settings.rerank:
            return None
        if self._cross is None:
            with self._lock:
                if self._cross is None:
                    from rag.cross_encoder import load_cross_encoder

                    self._cross = load_cross_encoder(self.settings.cross_encoder, self.settings.embedding_device)
        model = self._cross
        return lambda texts: model.score(question, texts)

    def validate(self, question: str) -> str:
        """The question stripped; raises on blank or over-long input."""
        q = (question or "").strip()
        if not q:
            raise EmptyQuestion("the question is empty: ask something about the indexed articles")
        try:
            q.encode("utf-8")
        except UnicodeEncodeError as e:
            raise InvalidQuestion(f"the question is not valid Unicode text (character {e.start})") from None
        if len(q) > self.settings.max_question_chars:
            raise QuestionTooLong(
                f"the question has {len(q)} characters; the limit is {self.settings.max_question_chars}"
            )
        return q

    def search(self, question: str, k: int | None = None) -> list[Hit]:
        """Rank chunks for a question with the configured retrievers, fusion and reranking."""
        q = self.validate(question)
        self.refresh()
        return self._retrieve(q, k, {})[1]

    def query_scores(self, q: str, timings: dict[str, float] | None = None, loaded: _Loaded | None = None
                     ) -> QueryScores:
        """Embed the question (with its token vectors when the index has them) and score every row once.

        ``loaded``: the index generation to score against (default: the live one). Callers that go on to search
        or select pass the generation they hold, so a reload in between never mixes two generations.
        """
        retriever = (loaded or self.loaded).retriever
        t0 = time.perf_counter()
        e, qtokens = self.embedder, None
        if retriever.sentences.tokens is not None and isinstance(e, TokenEmbedder):
            vecs, toks = e.embed_with_tokens([q])  # the same forward pass, plus the question's token vectors
            qvec, qtokens = vecs[0], toks[0]
        else:
            qvec = e.embed([q])[0]
        if timings is not None:
            timings["embed_ms"] = (time.perf_counter() - t0) * 1e3
        return retriever.score(q, qvec, qtokens)

    def _retrieve(self, q: str, k: int | None, timings: dict[str, float], loaded: _Loaded | None = None
                  ) -> tuple[QueryScores, list[Hit]]:
        loaded = loaded or self.loaded
        t0 = time.perf_counter()
        qs = self.query_scores(q, timings, loaded)
        cross = self._cross_scorer(q)
        hits = loaded.retriever.search(qs, k or self.settings.top_k, self.settings, cross)
        timings["retrieve_ms"] = (time.perf_counter() - t0) * 1e3 - timings["embed_ms"]
        return qs, hits

    def answer(self, question: str, k: int | None = None, *, focus: str | None = None) -> Answer:
        """Retrieve, pick the supporting sentences, cite them, or abstain.

        ``focus``: the user's own words when ``question`` was condensed from a follow-up (see ``select``). The
        follow-up is then also asked as it stands, and that answer is kept when it says more of the user's own
        words than the condensed one's: the earlier turn may not be what a pronoun points at ("Where did he watch
        the parade from?" after a question that names no "he").
        """
        condensed = self._answer(question, k, focus)
        if not focus or focus.strip() == condensed.question:
            return condensed
        alone = self._answer(focus, k, None)
        if not alone.abstained and (condensed.abstained or _says_own(focus, alone) > _says_own(focus, condensed)):
            return alone
        return condensed

    def _answer(self, question: str, k: int | None, focus: str | None) -> Answer:
        t0 = time.perf_counter()
        q = self.validate(question)
        self.refresh()
        timings: dict[str, float] = {}
        loaded = self.loaded
        timings["load_ms"] = (time.perf_counter() - t0) * 1e3
        qs, hits = self._retrieve(q, k, timings, loaded)
        t1 = time.perf_counter()
        s = self.settings
        sel = self.select(q, qs, hits, focus, loaded)
        timings["answer_ms"] = (time.perf_counter() - t1) * 1e3
        if not sel.sentences or sel.evidence < s.abstain_threshold or (focus and not _answers_own_words(focus, sel)):
            timings["total_ms"] = (time.perf_counter() - t0) * 1e3
            return Answer(q, answering.ABSTAIN_MESSAGE, True, hits=tuple(hits), timings_ms=timings)
        text, cites = answering.compose(sel, loaded.titles)
        t2 = time.perf_counter()
        short = self.short_answer(q, sel.sentences[0], loaded) if s.short_answers else None
        timings["short_answer_ms"] = (time.perf_counter() - t2) * 1e3
        timings["total_ms"] = (time.perf_counter() - t0) * 1e3
        if short is None:
            return Answer(q, text, False, cites, hits=tuple(hits), timings_ms=timings)
        return Answer(q, text, False, cites, short.text, "high" if short.confident else "low", tuple(hits), timings)

    def short_answer(self, question: str, sentence: answering.Candidate, loaded: _Loaded) -> ShortAnswer | None:
        """The short answer span inside the best answer sentence (``rag.short_answer``); ``loaded`` is the index
        generation the sentence was selected from (its row indexes that generation's sentence vectors)."""
        if not self.settings.short_answer_rerank:
            return find_short_answer(question, sentence.text)
        vector = loaded.retriever.sentences.vectors[sentence.row]
        return find_short_answer(question, sentence.text, self.embedder.embed, vector)

    def select(self, question: str, qs: QueryScores, hits: Sequence[Hit], focus: str | None = None,
               loaded: _Loaded | None = None) -> answering.Selection:
        """The answer sentences among the hits, and the evidence abstention is decided on."""
        s = self.settings
        retriever = (loaded or self.loaded).retriever
        cands = answering.candidates(hits, retriever, qs, question, cos_weight=s.answer_dense_weight,
                                     bm25_weight=s.answer_bm25_weight, coverage_weight=s.answer_coverage_weight,
                                     alignment_weight=s.answer_alignment_weight, focus=focus)
        return answering.select(cands, max_sentences=s.answer_sentences, coverage_weight=s.abstain_coverage_weight)

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
        """Change the index on disk atomically, then serve the new generation (``update_index``)."""
        report = update_index(self.settings, self.embedder, upsert=upsert, remove=remove,
                              prune_sources=prune_sources, spare=spare, rebuild=rebuild, progress=progress)
        if report.changed or rebuild or self._loaded is not None:
            self.reload()
        return report


def _limit_blas_threads(n: int) -> None:
    """Cap the BLAS pools loaded so far (numpy's, faiss's) for the rest of the process.

    Retrieval does small matrix-vector products; OpenBLAS's idle threads keep spinning afterwards and hold
    the cores the next query embedding needs (measured: ~100 ms per query on 2 cores, see bench/README.md).
    torch's own OpenMP pool is untouched, so batch embedding keeps its threads.
    """
    if n <= 0:
        return
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=n, user_api="blas")


def _says_own(focus: str, answer: Answer) -> int:
    """How many of the follow-up's own content words the answer's first (best) sentence says."""
    return 0 if answer.abstained or not answer.citations else mentioned(own_words(focus), answer.citations[0].text)


def _answers_own_words(focus: str, selection: answering.Selection) -> bool:
    """Whether the sentences say every name and number the user's own follow-up brings in ("And what is the capital
    of France?" is not answered by a sentence about the earlier topic that never says "France"). A follow-up that
    names nothing new ("And when?", "What is his title?") leans wholly on the earlier turns."""
    own = own_names(focus)
    return mentioned(own, " ".join(c.text for c in selection.sentences)) == len(own)

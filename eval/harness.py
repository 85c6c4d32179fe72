"""Run a dataset through the production ``answer()``: fresh temporary index, leakage check, every question."""

from __future__ import annotations

import hashlib
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eval.citation_judge import CitationCheck, VerifierJudge, check_answer
from eval.datasets import Dataset, Question
from eval.embed_cache import CachingEmbedder, caching
from eval.metrics import normalize_answer
from rag.errors import RagError
from rag.ingest.sentences import sentence_spans
from rag.types import Answer, Article, Chunk, FaqPair, Hit

if TYPE_CHECKING:
    from eval.llm_replies import RecordingChatClient
    from rag.pipeline import Pipeline
    from rag.protocols import Embedder
    from rag.settings import Settings

#: The hit@k curve goes this deep (a separate ``search()``; ``answer()`` is asked with the configured k).
CURVE_DEPTH = 10
FAQ_HEADING = "Frequently Asked Questions"


class LeakageError(RagError):
    """The index holds gold answer text it must not hold: the eval would measure copying, not retrieval."""

    code = "eval_leakage"
    status = 500


@dataclass(frozen=True)
class Leakage:
    """What the leakage check looked at and found."""

    checked: bool
    passed: bool
    chunks: int
    faq_chunks: int
    note: str


@dataclass(frozen=True)
class Asked:
    """One question as ``answer()`` answered it, plus the deeper ranking for the hit@k curve."""

    question: Question
    answer: Answer
    ranking: tuple[Hit, ...]
    latency_ms: float
    #: Its citations judged by the verifier (``eval.citation_judge``), shown and, for an LLM, as first written.
    citations: CitationCheck | None = None


@dataclass
class Run:
    """Everything a scorer and a report need from one pass over a dataset."""

    dataset: Dataset
    settings: Settings
    k: int
    with_faq: bool
    leakage: Leakage
    asked: list[Asked]
    embedder: Embedder
    embed_cache: bool
    chunks: int
    timings: dict[str, float] = field(default_factory=dict)


def with_faq_section(article: Article, pairs: Iterable[FaqPair]) -> Article:
    """The article with its gold QA appended as an FAQ section the chunker indexes (the leaky variant)."""
    pairs = tuple(pairs)
    head = f"{article.text[: article.body_end]}\n\n"
    section = "\n\n".join(f"{p.question} {p.answer}" for p in pairs)
    text = f"{head}{FAQ_HEADING}\n\n{section}\n"
    return Article(
        doc_id=article.doc_id, title=article.title, text=text, body_start=article.body_start,
        body_end=article.body_end, sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(), source=article.source,
        date=article.date, faq=pairs, faq_start=len(head), disclaimer=None,
    )


def articles_to_index(ds: Dataset, with_faq: bool) -> list[Article]:
    """The articles as indexed: FAQ-sourced ones as parsed; QA ones get their gold QA appended only with_faq."""
    if ds.origin == "faq" or not with_faq:
        return list(ds.articles)
    by_doc: dict[str, list[FaqPair]] = {}
    for q in ds.questions:
        by_doc.setdefault(q.doc_id, []).append(FaqPair(q.question, q.golds[0]))
    return [with_faq_section(a, by_doc.get(a.doc_id, ())) for a in ds.articles]


def check_leakage(chunks: Sequence[Chunk], ds: Dataset, with_faq: bool) -> Leakage:
    """Fail loudly if the leakage-free index holds an FAQ chunk or an FAQ gold answer verbatim.

    Gold answers of QA datasets (XQuAD spans) are quoted from the body by design, so only FAQ-sourced
    gold answers are searched for; for every dataset no chunk may be of kind ``faq``.
    """
    faq_chunks = [c for c in chunks if c.kind == "faq"]
    if with_faq:
        note = "not checked: the FAQ/gold QA is indexed on purpose (upper bound)"
        if not faq_chunks:
            raise LeakageError("--with-faq indexed no FAQ chunk: the upper-bound run would not be one")
        return Leakage(False, False, len(chunks), len(faq_chunks), note)
    if faq_chunks:
        c = faq_chunks[0]
        raise LeakageError(f"leakage: {len(faq_chunks)} FAQ chunk(s) indexed, e.g. {c.doc_id} chunk {c.chunk_id}")
    if ds.origin == "faq":
        needles = {normalize_answer(g) for q in ds.questions for g in q.golds} - {""}
        for c in chunks:
            hay = f" {normalize_answer(c.text)} "
            leaked = next((n for n in needles if f" {n} " in hay), None)
            if leaked is not None:
                raise LeakageError(f"leakage: {c.doc_id} chunk {c.chunk_id} contains the gold FAQ answer "
                                   f"{leaked[:80]!r}")
        note = f"no FAQ chunk; none of {len(chunks)} chunks contains any of {len(needles)} FAQ answers"
    else:
        note = f"no FAQ chunk among {len(chunks)} (gold answers are quoted from the text by design)"
    return Leakage(True, True, len(chunks), 0, note)


@contextmanager
def temporary_index(ds: Dataset, settings: Settings, embedder: Embedder, *, with_faq: bool = False
                    ) -> Iterator[Pipeline]:
    """A pipeline over a fresh index of the dataset's articles (bodies only unless with_faq), deleted on exit."""
    from rag.pipeline import Pipeline

    with tempfile.TemporaryDirectory(prefix="rag-eval-") as tmp:
        run_settings = settings.replace(**{"index_dir": Path(tmp) / "index", "index_faq": with_faq,
                                           **_own_milvus_index(settings, Path(tmp))})
        pipeline = Pipeline(run_settings, embedder)
        try:
            pipeline.update(upsert=articles_to_index(ds, with_faq), rebuild=True)
            yield pipeline
        finally:
            pipeline.close()  # stops the bundled LLM's server, if one was started
            if run_settings.storage.store == "milvus":
                from rag.store.milvus.store import MilvusStore

                store = pipeline.index.store
                if isinstance(store, MilvusStore):
                    store.drop()
                    store.close()


def _own_milvus_index(settings: Settings, tmp: Path) -> dict[str, Any]:
    """With Milvus, collections of the run's own (a fresh prefix; a Milvus Lite file in the temporary folder)."""
    s = settings.storage
    if s.store != "milvus":
        return {}
    own: dict[str, Any] = {"milvus_prefix": f"{s.milvus_prefix}eval_{uuid.uuid4().hex[:8]}_"}
    if "://" not in s.milvus_uri:
        own["milvus_uri"] = str(tmp / "milvus.db")
    return own


def run(
    ds: Dataset,
    settings: Settings,
    *,
    k: int,
    with_faq: bool = False,
    embedder: Embedder | None = None,
    cache: bool = True,
    progress: bool = True,
) -> Run:
    """Index the dataset in a temporary folder, check it for leakage, and ask every question (with the LLM
    answerer when the settings say so: its raw replies are kept for the citation metrics)."""
    from eval.llm_replies import record_replies
    from rag.pipeline import Pipeline

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    if embedder is None:
        embedder = Pipeline(settings).embedder  # the production model, loaded once for the whole run
    if cache:
        embedder = caching(embedder)
    timings["model_load_s"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    with temporary_index(ds, settings, embedder, with_faq=with_faq) as pipeline:
        run_settings = pipeline.settings
        chunks = list(pipeline.snapshot.chunks.values())
        timings["index_s"] = time.perf_counter() - t1
        leakage = check_leakage(chunks, ds, with_faq)
        t2 = time.perf_counter()
        if isinstance(embedder, CachingEmbedder):
            embedder.warm(warm_texts(ds, chunks))
            timings["warm_s"] = time.perf_counter() - t2
            t2 = time.perf_counter()
        recorder = None
        if run_settings.answers_with_llm:
            recorder = record_replies(pipeline)
            timings["llm_start_s"] = time.perf_counter() - t2
            t2 = time.perf_counter()
        try:
            asked = ask_all(pipeline, ds.questions, k, progress=progress, replies=recorder)
        finally:
            if recorder is not None:
                recorder.close()
        timings["ask_s"] = time.perf_counter() - t2
    return Run(ds, run_settings, k, with_faq, leakage, asked, embedder, cache, len(chunks), timings)


def warm_texts(ds: Dataset, chunks: Sequence[Chunk]) -> list[str]:
    """Every text answer() and the scorer will embed: questions, then the chunks' sentences (as answer() cuts them)."""
    texts = [q.question.strip() for q in ds.questions]
    for c in chunks:
        texts += [c.text[s:e] for s, e in sentence_spans(c.text)]
    return list(dict.fromkeys(texts))


def ask_all(pipeline: Pipeline, questions: Sequence[Question], k: int, *, progress: bool = True,
            replies: RecordingChatClient | None = None) -> list[Asked]:
    """Every question through ``answer()`` (timed), a depth-10 ``search()`` for the curve, and the answer's
    citations judged (after the clock stops; ``replies`` hands over the LLM's raw reply to each question)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    depth = max(CURVE_DEPTH, k)
    out: list[Asked] = []
    whole = pipeline.loaded.whole  # with Milvus: the judge reads every sentence, which answering never does
    judge = VerifierJudge(pipeline.embedder, pipeline.loaded if whole is None else whole(),
                          pipeline.settings.generation.support_threshold)
    columns = (TextColumn("asking"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), disable=not progress, transient=True) as bar:
        task = bar.add_task("asking", total=len(questions))
        for q in questions:
            t = time.perf_counter()
            ans = pipeline.answer(q.question, k)
            latency = (time.perf_counter() - t) * 1e3
            reply = None if replies is None else replies.take()
            ranking = tuple(ans.hits) if k >= depth else tuple(pipeline.search(q.question, depth))
            out.append(Asked(q, ans, ranking, latency, check_answer(judge, ans, reply)))
            bar.advance(task)
    return out

"""A writer killed at any step of a write leaves an index that loads and serves one whole version.

For every crash point (``rag.store.faults.STEPS``) and every writer (``rag index`` in a subprocess, ``POST /documents``
and ``DELETE /documents/{id}`` through a real ``rag serve``), the writer runs with ``RAG_CRASH_AT=<step>`` and is
killed by SIGKILL at that step. Afterwards the index loads; it serves the version before the write (every step before
``after-current``) or the version after it (``after-current``), never a mix: the same document ids, chunk count, answers
and citations as recorded for that version; the next write completes; and nothing of the killed write is left behind.

One seed index is built once (in process, with the session's model) and copied for every case; the versions to compare
against are recorded from the library, which ``rag serve`` and ``ask`` run too. Each killed process pays a model load,
so the kills run two at a time in the background while the checks run (``crashes``). A fresh ``rag serve`` and a
fresh ``ask`` read two of the crashed indexes as well.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from rag.ingest.loaders import article_from_text, load_paths
from rag.pipeline import Pipeline
from rag.settings import Settings
from rag.store.faults import STEPS
from rag.store.generations import current_generation, load_snapshot
from rag.types import Answer, Article
from tests.integration.server import RAG, start_server, stop, wait_for
from tests.paths import ROOT, SEED

pytestmark = [pytest.mark.integration, pytest.mark.slow]

BEES = ("# Honey bees\n\nHoney bees communicate the location of flowers with a waggle dance. "
        "A colony can hold 60,000 workers in summer. The queen lays up to 2,500 eggs a day.\n")
LIGHTHOUSE_TITLE = "The Skarvik lighthouse"
LIGHTHOUSE = (f"# {LIGHTHOUSE_TITLE}\n\nThe Skarvik lighthouse stands 38 metres tall on a granite islet. Its lamp "
              "was first lit in 1871 and can be seen from 22 nautical miles away. The last resident keeper, Ingrid "
              "Falk, left the island in 1968.\n")
NOTE = ("# Sourdough starters\n\nA sourdough starter is fed with rye flour and water every morning. "
        "It doubles in size within six hours when the kitchen is warm.\n")
#: One question per document the writes touch, and one about the seed that no write touches.
QUESTIONS = ("When was the Skarvik lighthouse lamp first lit?", "How many eggs does the queen lay a day?",
             "Who led the Chinese delegation?")
WRITERS = ("rag index", "POST /documents", "DELETE /documents/bees")
#: Cases where a fresh process reads the crashed index too (a server start or an `ask` costs a model load).
#: Seconds a process may take to load the model and run (a shared 2-core machine under load can take minutes).
STARTUP = 480
#: Writers killed at once: each one's start is mostly a single-threaded model load.
PARALLEL = min(2, os.cpu_count() or 1)
FRESH_READER = {("DELETE /documents/bees", "before-rename"): "rag serve", ("rag index", "after-rename"): "ask"}
#: Every step once, every writer twice (each kill pays a model load); RAG_TEST_CRASH_MATRIX=full runs all 18.
CASES = ([(w, s) for w in WRITERS for s in STEPS] if os.environ.get("RAG_TEST_CRASH_MATRIX") == "full"
         else [(WRITERS[i % len(WRITERS)], s) for i, s in enumerate(STEPS)])


@dataclass(frozen=True)
class Version:
    """What an index serves: its documents, its chunk count, and the answers (text, citations) to ``QUESTIONS``."""

    documents: tuple[str, ...]
    chunks: int
    answers: tuple[tuple[str, bool, tuple[tuple[str, int, int, str], ...]], ...]


def answer_key(answer: Answer | dict[str, Any]) -> tuple[str, bool, tuple[tuple[str, int, int, str], ...]]:
    """An answer's text, whether it abstained, and what it cites (document, span, text), from the library or JSON."""
    if isinstance(answer, Answer):
        cites = tuple((c.doc_id, c.start, c.end, c.text) for c in answer.citations)
        return answer.answer, answer.abstained, cites
    cites = tuple((c["doc_id"], c["start"], c["end"], c["text"]) for c in answer["citations"])
    return answer["answer"], answer["abstained"], cites


def served(index: Path, embedder: Any) -> Version:
    """The version the library loads from ``index`` (``load_snapshot``, then the pipeline ``rag serve`` runs)."""
    snap = load_snapshot(index)
    pipeline = Pipeline(Settings(index_dir=index), embedder)
    assert pipeline.snapshot.path == snap.path
    answers = tuple(answer_key(pipeline.answer(q)) for q in QUESTIONS)
    return Version(tuple(sorted(snap.documents)), len(snap.chunks), answers)


def article(doc_id: str, text: str) -> Article:
    return article_from_text(doc_id, text, title=text.splitlines()[0].lstrip("# "), source="upload:json")


def change(writer: str, folder: Path, more: tuple[Article, ...] = ()) -> dict[str, Any]:
    """The writer's change as ``Pipeline.update`` arguments (what ``rag index`` or the route calls), plus ``more``;
    ``folder`` is the one ``rag index`` reads."""
    if writer == "rag index":
        return {"upsert": [*load_paths([folder]), *more], "prune_sources": [folder]}
    if writer == "POST /documents":
        return {"upsert": [article("lighthouse", LIGHTHOUSE), *more]}
    return {"upsert": list(more), "remove": ["bees"]}


DOCS_AFTER = {"rag index": ("000_d024cab3850fab44", "bees", "lighthouse"),
              "POST /documents": ("000_d024cab3850fab44", "bees", "lighthouse"),
              "DELETE /documents/bees": ("000_d024cab3850fab44",)}


@dataclass(frozen=True)
class Seed:
    index: Path
    corpus: Path  # indexed into ``index``, with one more article added since: what ``rag index`` reads
    before: Version
    after: dict[str, Version]


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory, real_embedder: Any) -> Seed:
    """The seed index (the seed article and the bees article, as ``rag index`` builds it) and every version a write
    may leave: before, and after each writer's change."""
    base = tmp_path_factory.mktemp("crash-seed")
    corpus = base / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus)
    (corpus / "bees.md").write_text(BEES)
    index = base / "index"
    Pipeline(Settings(index_dir=index), real_embedder).update(upsert=load_paths([corpus]), prune_sources=[corpus])
    (corpus / "lighthouse.md").write_text(LIGHTHOUSE)  # a document's id is its path: rag index reads this folder
    before = served(index, real_embedder)
    after = {}
    for name in WRITERS:
        copy = base / f"after-{len(after)}"
        shutil.copytree(index, copy / "index")
        Pipeline(Settings(index_dir=copy / "index"), real_embedder).update(**change(name, corpus))
        after[name] = served(copy / "index", real_embedder)
        assert after[name].documents == DOCS_AFTER[name]
        assert after[name].chunks != before.chunks and after[name].answers != before.answers, name
    return Seed(index, corpus, before, after)


def crash(writer: str, step: str, index: Path, corpus: Path, case: Path) -> None:
    """Run ``writer`` with ``RAG_CRASH_AT=step`` on ``index`` and check it died by SIGKILL."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env |= {"RAG_CRASH_AT": step, "HF_HUB_OFFLINE": "1"}
    if writer == "rag index":
        out = subprocess.run([str(RAG), "index", str(corpus), "--index-dir", str(index)], env=env,
                             cwd=ROOT, capture_output=True, text=True, timeout=STARTUP)
        assert out.returncode == -9, (out.returncode, out.stdout, out.stderr)
        return
    log = case / "server.log"
    proc, url = start_server(index, log, {"RAG_CRASH_AT": step})
    try:
        wait_for(url, proc, log, "/readyz", timeout=STARTUP)
        listed = httpx.get(url + "/documents", timeout=30).json()
        assert [d["doc_id"] for d in listed["documents"]] == ["000_d024cab3850fab44", "bees"]
        with pytest.raises(httpx.TransportError):  # the server dies while answering
            if writer == "POST /documents":
                httpx.post(url + "/documents", timeout=120,
                           json={"doc_id": "lighthouse", "title": LIGHTHOUSE_TITLE, "text": LIGHTHOUSE})
            else:
                httpx.delete(url + "/documents/bees", timeout=120)
        assert proc.wait(timeout=30) == -9, log.read_text()
    finally:
        if proc.poll() is None:
            stop(proc)


@dataclass(frozen=True)
class Crash:
    """A killed write: the index it left, and what went wrong if the writer did not die by SIGKILL as it should."""

    index: Path
    error: BaseException | None


@pytest.fixture(scope="module")
def crashes(request: pytest.FixtureRequest, seed: Seed, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[dict[tuple[str, str], Future[Crash]]]:
    """Every selected (writer, step) case killed at its step, ``PARALLEL`` at a time in the background (in the order
    the tests run), each on a copy of the seed; a test waits for its own."""
    cases = [(item.callspec.params["writer"], item.callspec.params["step"]) for item in request.session.items
             if item.module is request.module and hasattr(item, "callspec")]
    root = tmp_path_factory.mktemp("crashes")

    def kill(case: tuple[str, str]) -> Crash:
        folder = root / f"{WRITERS.index(case[0])}-{case[1]}"
        shutil.copytree(seed.index, folder / "index")
        try:
            crash(*case, folder / "index", seed.corpus, folder)
        except BaseException as e:  # reported by the case's own test
            return Crash(folder / "index", e)
        return Crash(folder / "index", None)

    with ThreadPoolExecutor(PARALLEL) as pool:
        yield {case: pool.submit(kill, case) for case in cases}


def fresh_reader(kind: str, index: Path, case: Path) -> Version:
    """The version a freshly started ``rag serve`` or ``ask`` serves from ``index`` (``ask`` answers the first
    question only: each run loads the model)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")} | {"HF_HUB_OFFLINE": "1"}
    snap = load_snapshot(index)  # what the reader must list; its answers are checked separately
    if kind == "ask":
        out = subprocess.run([str(RAG.parent / "ask"), "--json", QUESTIONS[0], "--index-dir", str(index)], env=env,
                             cwd=ROOT, capture_output=True, text=True, timeout=STARTUP)
        assert out.returncode == 0, out.stderr
        data = json.loads(out.stdout)
        assert data["generation"] == snap.path.name
        return Version(tuple(sorted(snap.documents)), len(snap.chunks), (answer_key(data),))
    log = case / "fresh.log"
    proc, url = start_server(index, log)
    try:
        wait_for(url, proc, log, "/readyz", timeout=STARTUP)
        listed = httpx.get(url + "/documents", timeout=30).json()
        assert listed["generation"] == snap.path.name
        answers = [answer_key(httpx.post(url + "/ask", json={"question": q}, timeout=60).json()) for q in QUESTIONS]
        return Version(tuple(d["doc_id"] for d in listed["documents"]), listed["chunks"], tuple(answers))
    finally:
        stop(proc)


def leftovers(index: Path, allowed: set[str]) -> list[str]:
    """What a killed write could leave behind: unfinished folders, pointer files, generations never published."""
    gens = index / "generations"
    extra = [p.name for p in gens.iterdir() if p.name.startswith(".") or p.name not in allowed]
    extra += [p.name for p in index.iterdir() if p.name.startswith(".CURRENT")]
    return extra


@pytest.mark.parametrize(("writer", "step"), CASES)
def test_a_kill_at_any_step_leaves_one_whole_version(seed: Seed, crashes: dict[tuple[str, str], Future[Crash]],
                                                     real_embedder: Any, tmp_path: Path, writer: str, step: str
                                                     ) -> None:
    killed = crashes[(writer, step)].result()
    if killed.error is not None:
        raise killed.error
    index = killed.index
    before_gen = current_generation(seed.index)
    assert before_gen is not None

    # The index loads and serves one whole version: the old one until CURRENT is replaced, the new one after.
    expected = seed.after[writer] if step == "after-current" else seed.before
    assert served(index, real_embedder) == expected
    if (writer, step) in FRESH_READER:
        fresh = fresh_reader(FRESH_READER[(writer, step)], index, tmp_path)
        assert fresh == Version(expected.documents, expected.chunks, expected.answers[: len(fresh.answers)])
    live = current_generation(index)
    assert live is not None and (live.name == before_gen.name) == (step != "after-current")

    # The next write completes (the interrupted change again, plus one more document), and cleans up.
    redo = change(writer, seed.corpus, (article("note", NOTE),))
    if writer == "DELETE /documents/bees" and step == "after-current":
        redo["remove"] = []  # deleted already: a second DELETE is a 404
    report = Pipeline(Settings(index_dir=index), real_embedder).update(**redo)
    assert report.generation
    final = load_snapshot(index)
    assert tuple(sorted(final.documents)) == tuple(sorted((*DOCS_AFTER[writer], "note")))
    assert final.path.name == report.generation
    # Left: the new live generation and the one live before it, nothing else.
    assert leftovers(index, {report.generation, live.name}) == []

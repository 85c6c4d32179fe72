"""Damaged and wrong indexes with the real model, CLI and server: one line and the fix from ``ask`` and ``rag index``,
a clean ``--rebuild``; a server started on a damaged index stays up, not ready, and recovers without a restart; a
running server keeps answering from its last good generation while ``/readyz`` names what is wrong.

One good index is built once (in process) and copied for every damaged case (``tests/damage.py``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from rag.ingest.loaders import load_paths
from rag.pipeline import Pipeline
from rag.settings import Settings
from tests.damage import DAMAGED, OTHER_MODEL, Damage, damage_live, live, publish_copy
from tests.integration.server import RAG, start_server, stop, wait_for
from tests.paths import ROOT, SEED

pytestmark = pytest.mark.integration

BEES = ("# Honey bees\n\nHoney bees communicate the location of flowers with a waggle dance. "
        "A colony can hold 60,000 workers in summer. The queen lays up to 2,500 eggs a day.\n")
QUESTION = "How many eggs does the queen lay a day?"
CASES: dict[str, Damage] = {**DAMAGED, "manifest of another model": OTHER_MODEL}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("damage-corpus")
    shutil.copy(SEED, folder)
    (folder / "bees.md").write_text(BEES)
    return folder


@pytest.fixture(scope="module")
def good(corpus: Path, tmp_path_factory: pytest.TempPathFactory, real_embedder: Any) -> Path:
    """A good index of the corpus, built once; tests damage copies of it."""
    index = tmp_path_factory.mktemp("damage-good") / "index"
    Pipeline(Settings(index_dir=index), real_embedder).update(upsert=load_paths([corpus]), prune_sources=[corpus])
    return index


def copy_of(good: Path, where: Path, damage: Damage | None = None) -> Path:
    index = where / "index"
    shutil.copytree(good, index)
    if damage is not None:
        damage_live(index, damage)
    return index


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")} | {"HF_HUB_OFFLINE": "1"}
    return subprocess.run([str(RAG.parent / args[0]), *args[1:]], capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=480)


def assert_one_line_with_the_fix(out: subprocess.CompletedProcess[str]) -> str:
    assert out.returncode == 2, (out.returncode, out.stderr)
    lines = out.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), out.stderr
    assert "rag index --rebuild" in lines[0] and "Traceback" not in out.stderr
    return lines[0]


@pytest.mark.parametrize("kind", list(CASES))
def test_ask_names_the_damage_and_the_fix_in_one_line(good: Path, tmp_path: Path, kind: str) -> None:
    index = copy_of(good, tmp_path, CASES[kind])
    line = assert_one_line_with_the_fix(run("ask", QUESTION, "--index-dir", str(index)))
    subject = "other/model" if kind == "manifest of another model" else kind.split()[0]
    assert subject in line


def test_rag_index_refuses_a_damaged_index_and_rebuild_leaves_a_clean_one(good: Path, corpus: Path, tmp_path: Path,
                                                                          real_embedder: Any) -> None:
    index = copy_of(good, tmp_path, DAMAGED["chunk_vectors.npy truncated"])
    before = sorted(p.name for p in (index / "generations").iterdir())
    line = assert_one_line_with_the_fix(run("rag", "index", str(corpus), "--index-dir", str(index)))
    assert "chunk_vectors.npy" in line
    assert sorted(p.name for p in (index / "generations").iterdir()) == before

    out = run("rag", "index", str(corpus), "--rebuild", "--index-dir", str(index))
    assert out.returncode == 0, out.stderr
    assert [p.name for p in (index / "generations").iterdir()] == [live(index).name]
    assert not [p for p in index.iterdir() if p.name.startswith(".CURRENT")]
    answer = Pipeline(Settings(index_dir=index), real_embedder).answer(QUESTION)
    assert not answer.abstained and answer.citations[0].doc_id == "bees"


@pytest.fixture
def server_on(tmp_path: Path) -> Iterator[Any]:
    """Start ``rag serve`` on an index (watching it every 0.2 s); stops it afterwards."""
    procs: list[subprocess.Popen[bytes]] = []

    def start(index: Path, ready: str) -> tuple[subprocess.Popen[bytes], str, Path]:
        log = tmp_path / "server.log"
        proc, url = start_server(index, log, {"RAG_INDEX_WATCH_SECONDS": "0.2"})
        procs.append(proc)
        wait_for(url, proc, log, ready, timeout=480)  # a loaded 2-core machine can take minutes
        return proc, url, log

    yield start
    for proc in procs:
        stop(proc)


def poll(url: str, until: Any, seconds: float = 60) -> httpx.Response:
    deadline = time.monotonic() + seconds
    while True:
        r = httpx.get(url + "/readyz", timeout=30)
        if until(r) or time.monotonic() > deadline:
            return r
        time.sleep(0.3)


def test_a_server_started_on_a_damaged_index_stays_up_and_recovers(good: Path, tmp_path: Path, server_on: Any,
                                                                   real_embedder: Any, corpus: Path) -> None:
    index = copy_of(good, tmp_path, DAMAGED["docstore.sqlite garbled"])
    proc, url, log = server_on(index, "/healthz")
    r = poll(url, lambda r: "loading" not in r.text)
    assert r.status_code == 503 and r.json()["status"] == "not_ready"
    assert "docstore.sqlite" in r.json()["reason"] and "rag index --rebuild" in r.json()["reason"]
    for _ in range(3):  # routes that need the index say why, the process stays the same one
        err = httpx.post(url + "/ask", json={"question": QUESTION}, timeout=60)
        assert err.status_code == 503 and err.json()["error"]["code"] == "index_corrupt"
        assert "docstore.sqlite" in err.json()["error"]["message"]
        assert httpx.get(url + "/documents", timeout=30).status_code == 503
        assert httpx.get(url + "/healthz", timeout=30).status_code == 200
        time.sleep(0.5)
    assert proc.poll() is None
    assert "Traceback" not in log.read_text()

    fixed = Pipeline(Settings(index_dir=index), real_embedder).update(
        upsert=load_paths([corpus]), prune_sources=[corpus], rebuild=True)
    r = poll(url, lambda r: r.status_code == 200)
    assert r.status_code == 200 and r.json()["generation"] == fixed.generation and r.json()["problem"] is None
    answer = httpx.post(url + "/ask", json={"question": QUESTION}, timeout=60)
    assert answer.status_code == 200 and answer.json()["citations"][0]["doc_id"] == "bees"
    assert proc.poll() is None


def test_a_running_server_keeps_its_last_good_generation(good: Path, tmp_path: Path, server_on: Any) -> None:
    index = copy_of(good, tmp_path)
    proc, url, log = server_on(index, "/readyz")
    first = httpx.post(url + "/ask", json={"question": QUESTION}, timeout=60)
    good_gen = first.headers["X-Index-Generation"]
    for n, (kind, damage) in enumerate(CASES.items()):
        publish_copy(index, f"29990101T000000-damage{n:02d}", damage)
        r = poll(url, lambda r: r.json().get("problem") is not None)
        assert r.status_code == 200 and r.json()["generation"] == good_gen, (kind, r.text)
        problem = r.json()["problem"]
        assert good_gen in problem and "rag index --rebuild" in problem, (kind, problem)
        again = httpx.post(url + "/ask", json={"question": QUESTION}, timeout=60)
        assert again.status_code == 200 and again.headers["X-Index-Generation"] == good_gen
        assert again.json()["answer"] == first.json()["answer"]
        assert httpx.get(url + "/healthz", timeout=30).status_code == 200
        (index / "CURRENT").write_text(good_gen)  # repaired: the problem clears
        assert poll(url, lambda r: r.json().get("problem") is None).json()["problem"] is None, kind
    assert proc.poll() is None
    assert "Traceback" not in log.read_text()

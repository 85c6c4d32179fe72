"""The Milvus store end to end: the real model, real Milvus (embedded Lite, a shared Lite server, and a standalone
server when asked for), real ``rag`` commands and ``rag serve`` processes on 127.0.0.1, and httpx."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest

from tests.integration.milvus_servers import lite_server, standalone_available, standalone_server
from tests.integration.server import API_KEY, RAG, start_server, stop, wait_for
from tests.paths import ROOT

pytest.importorskip("pymilvus")
pytest.importorskip("milvus_lite")
pytestmark = [pytest.mark.integration, pytest.mark.slow]

SEED = "000_d024cab3850fab44"
PARADE = "Who led the Chinese delegation?"
AUTH = {"Authorization": f"Bearer {API_KEY}"}
TURNIPS = ("Quenville farmers grow Zorblax turnips. The Zorblax turnips of Quenville are bright violet and glow "
           "faintly at night. Every autumn the village holds a turnip fair.")
TURNIP_QUESTION = "What colour are the Zorblax turnips of Quenville?"
BEES = ("# Honey bees\n\nHoney bees communicate the location of flowers with a waggle dance. "
        "A colony can hold 60,000 workers in summer. The queen lays up to 2,500 eggs a day.\n")


def milvus_env(uri: str) -> dict[str, str]:
    return {"RAG_STORE": "milvus", "RAG_MILVUS_URI": uri, "HF_HUB_OFFLINE": "1", "RAG_API_KEYS": json.dumps([API_KEY])}


def rag(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    done = subprocess.run([str(RAG), *args], cwd=cwd, env={**clean, **env}, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    return done


@contextmanager
def serving(env: dict[str, str], folder: Path) -> Iterator[str]:
    """``rag serve`` started in an empty working directory; yields its URL once ready."""
    folder.mkdir(parents=True)
    log = folder.parent / f"{folder.name}.log"
    proc, url = start_server(folder / "index", log, env, cwd=folder)
    try:
        wait_for(url, proc, log, "/readyz", timeout=300)
        yield url
    finally:
        stop(proc)
    assert not (folder / "index").exists()  # a replica holds no index files


def cited(answer: dict[str, object]) -> set[str]:
    return {c["doc_id"] for c in answer["citations"]}  # type: ignore[attr-defined]


def eventually(check: object, seconds: float = 15) -> None:
    """``check()`` holds within ``seconds`` (a replica's document list follows another's writes within
    ``index_watch_seconds``; answers follow at once)."""
    deadline = time.monotonic() + seconds
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "not within the time"
        time.sleep(0.3)


def test_embedded_milvus_lite_indexes_incrementally_and_answers(tmp_path: Path) -> None:
    """``rag index`` and ``ask`` on an embedded Milvus Lite file: a no-op re-index, then one run that adds, updates
    and removes (the API on Milvus is checked on the shared server below: the store code is the same)."""
    env = milvus_env(str(tmp_path / "lite.db"))
    corpus = tmp_path / "corpus"
    shutil.copytree(ROOT / "seeds", corpus)
    (corpus / "bees.md").write_text(BEES, encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    first = rag(["index", str(corpus)], env, work)
    assert "added 2" in first.stdout and "Milvus at" in first.stdout
    again = rag(["index", str(corpus)], env, work)
    assert "unchanged 2" in again.stdout and "0 new chunks" in again.stdout
    answer = json.loads(rag(["ask", PARADE, "--json"], env, work).stdout)
    assert "Liu Guozhong" in answer["answer"] and cited(answer) == {SEED} and answer["generation"]

    seed = corpus / f"{SEED}.txt"
    seed.write_text(seed.read_text(encoding="utf-8") + "\nThe parade ended after midnight.\n", encoding="utf-8")
    (corpus / "bees.md").unlink()
    (corpus / "extra.txt").write_text(TURNIPS, encoding="utf-8")
    changed = rag(["index", str(corpus)], env, work)
    assert "added 1, updated 1, removed 1, unchanged 0" in changed.stdout
    assert list(work.iterdir()) == []  # the commands wrote nothing where they ran


def test_two_replicas_share_one_milvus(tmp_path: Path) -> None:
    """The API on Milvus: upload through one replica, answered and cited by both; delete through the other, gone
    from both."""
    (tmp_path / "milvus").mkdir()
    with lite_server(tmp_path / "milvus") as uri, ExitStack() as stack:
        env = milvus_env(uri)
        job = tmp_path / "job"
        job.mkdir()
        assert "added 1" in rag(["index", str(ROOT / "seeds")], env, job).stdout  # the ingestion job
        a = stack.enter_context(httpx.Client(base_url=stack.enter_context(serving(env, tmp_path / "a")), timeout=60))
        b = stack.enter_context(httpx.Client(base_url=stack.enter_context(serving(env, tmp_path / "b")), timeout=60))
        ready = a.get("/readyz").json()
        assert ready["store"] == "milvus" and ready["warnings"] == [] and ready["documents"] == 1
        hits = a.get("/search", params={"q": "Liu Guozhong delegation", "k": 3}).json()["hits"]
        assert hits[0]["bm25"] > 0  # Milvus's own BM25
        for replica in (a, b):
            assert cited(replica.post("/ask", json={"question": PARADE}).json()) == {SEED}

        r = a.post("/documents", json={"title": "Zorblax turnips", "text": TURNIPS}, headers=AUTH)
        assert r.status_code == 201, r.text
        written = r.headers["X-Index-Generation"]
        assert a.get("/documents/zorblax-turnips").json()["text"].startswith("Quenville")
        for replica in (a, b):
            after = replica.post("/ask", json={"question": TURNIP_QUESTION})
            assert "violet" in after.json()["answer"] and cited(after.json()) == {"zorblax-turnips"}
            assert after.headers["X-Index-Generation"] == written
        eventually(lambda: b.get("/documents/zorblax-turnips").status_code == 200)

        assert b.delete("/documents/zorblax-turnips", headers=AUTH).status_code == 200
        assert b.get("/documents/zorblax-turnips").status_code == 404
        for replica in (a, b):
            gone = replica.post("/ask", json={"question": TURNIP_QUESTION}).json()
            assert "violet" not in gone["answer"] and "zorblax-turnips" not in cited(gone)
        eventually(lambda: a.get("/documents/zorblax-turnips").status_code == 404)
        eventually(lambda: "zorblax-turnips" not in {d["doc_id"] for d in a.get("/documents").json()["documents"]})


@pytest.mark.skipif(os.environ.get("RAG_TEST_MILVUS_SERVER") != "1" or not standalone_available(),
                    reason="a Milvus standalone server: set RAG_TEST_MILVUS_SERVER=1 with `milvus-server` on PATH "
                           "(pip install milvus==2.3.5); it takes minutes to start")
def test_a_milvus_standalone_server_without_bm25_runs_dense_only_and_says_so(tmp_path: Path) -> None:
    with standalone_server(tmp_path) as uri:
        env = milvus_env(uri)
        work = tmp_path / "work"
        work.mkdir()
        indexed = rag(["index", str(ROOT / "seeds")], env, work)
        assert "added 1" in indexed.stdout and "dense-only" in indexed.stderr
        with serving(env, tmp_path / "api") as url, httpx.Client(base_url=url, timeout=60) as client:
            ready = client.get("/readyz").json()
            assert ready["store"] == "milvus" and any("dense-only" in w for w in ready["warnings"])
            answer = client.post("/ask", json={"question": PARADE}).json()
            assert "Liu Guozhong" in answer["answer"] and cited(answer) == {SEED}
            r = client.post("/documents", json={"title": "Zorblax turnips", "text": TURNIPS}, headers=AUTH)
            assert r.status_code == 201, r.text
            assert cited(client.post("/ask", json={"question": TURNIP_QUESTION}).json()) == {"zorblax-turnips"}
            assert client.delete("/documents/zorblax-turnips", headers=AUTH).status_code == 200
            assert "zorblax-turnips" not in cited(client.post("/ask", json={"question": TURNIP_QUESTION}).json())

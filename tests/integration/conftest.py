"""One seed index, one real uvicorn server and one bundled LLM server per test session, on 127.0.0.1 and free
ports."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.llm_server import LLMProcess, local_llm_missing
from tests.integration.server import API_KEY, RAG, Server, start_server, stop, wait_for
from tests.paths import ROOT

ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``rag index seeds`` into a temporary folder, once per session, with the real bundled model."""
    index_dir = tmp_path_factory.mktemp("api") / "index"
    subprocess.run(
        [str(RAG), "index", "seeds", "--index-dir", str(index_dir)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=300,
    )
    return index_dir


@pytest.fixture(scope="session")
def server(seed_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The real app under uvicorn, with an API key configured so write routes need it."""
    log = tmp_path_factory.mktemp("logs") / "server.log"
    proc, url = start_server(seed_index, log, {"RAG_API_KEYS": json.dumps([API_KEY])})
    try:
        wait_for(url, proc, log, "/readyz")
        yield Server(url, seed_index, log)
    finally:
        stop(proc)


@pytest.fixture(scope="session")
def local_llm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LLMProcess]:
    """``rag llm serve`` (the bundled model under llama.cpp), started once for every test that only talks to it; a
    test that kills its LLM starts its own."""
    missing = local_llm_missing()
    if missing:
        pytest.skip(f"the local LLM is not installed ({missing}); run `make install-llm`")
    p = LLMProcess(tmp_path_factory.mktemp("llm") / "llm.log")
    try:
        yield p
    finally:
        p.kill()


@pytest.fixture
def client(server: Server) -> Iterator[httpx.Client]:
    """An httpx client bound to the session server."""
    with httpx.Client(base_url=server.url, timeout=60) as c:
        yield c


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """``test-artifacts/`` (git-ignored) for screenshots."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS

"""One seed index and one real uvicorn server per test session, on 127.0.0.1 and a free port."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
RAG = Path(sys.executable).parent / "rag"
API_KEY = "test-key-123"
ARTIFACTS = ROOT / "test-artifacts"


@dataclass(frozen=True)
class Server:
    """A running ``rag serve`` process."""

    url: str
    index_dir: Path
    log: Path
    api_key: str = API_KEY

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_server(index_dir: Path, log: Path, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``rag serve`` in a subprocess; returns the process and its base URL (not yet ready)."""
    port = free_port()
    # The developer's own RAG_* settings (keys, an LLM) must not leak into the server under test.
    clean = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    full_env = {**clean, "RAG_INDEX_DIR": str(index_dir), **(env or {})}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                str(RAG),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--index-dir",
                str(index_dir),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=full_env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return proc, f"http://127.0.0.1:{port}"


def wait_for(url: str, proc: subprocess.Popen[bytes], log: Path, path: str, timeout: float = 180) -> httpx.Response:
    """Poll ``path`` until it answers 200 (or the process dies / the time runs out)."""
    deadline = time.monotonic() + timeout
    last: httpx.Response | None = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{log.read_text()}")
        try:
            last = httpx.get(url + path, timeout=5)
            if last.status_code == 200:
                return last
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{path} not ready after {timeout}s (last: {last and last.text}):\n{log.read_text()}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate the server we started, then kill it if it lingers."""
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


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

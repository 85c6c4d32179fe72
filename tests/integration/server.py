"""A real ``rag serve`` process on 127.0.0.1 and a free port: start it, wait until it answers, stop it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.paths import ROOT

RAG = Path(sys.executable).parent / "rag"
API_KEY = "test-key-123"


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


def start_server(index_dir: Path, log: Path, env: dict[str, str] | None = None, log_level: str = "warning",
                 cwd: Path = ROOT) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``rag serve`` in a subprocess (in ``cwd``); returns the process and its base URL (not yet ready)."""
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
                log_level,
            ],
            cwd=cwd,
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

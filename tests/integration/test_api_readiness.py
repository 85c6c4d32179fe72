"""``/readyz`` on a server with no index says so, and what to run."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.integration.server import start_server, stop, wait_for

pytestmark = pytest.mark.integration


def test_readyz_explains_a_missing_index(tmp_path: Path) -> None:
    proc, url = start_server(tmp_path / "empty-index", tmp_path / "server.log")
    try:
        wait_for(url, proc, tmp_path / "server.log", "/healthz", timeout=60)
        deadline = time.monotonic() + 30
        while True:
            r = httpx.get(url + "/readyz", timeout=5)
            if "rag index" in r.text or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert r.status_code == 503
        assert r.json()["status"] == "not_ready" and "rag index" in r.json()["reason"]
        err = httpx.post(url + "/ask", json={"question": "anything?"}, timeout=60)
        assert err.status_code == 503 and err.json()["error"]["code"] == "index_not_found"
    finally:
        stop(proc)

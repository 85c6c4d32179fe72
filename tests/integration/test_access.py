"""Access on a real server: the rate limit answers 429 with Retry-After, and API keys never reach the log."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.server import Server, start_server, stop, wait_for

pytestmark = pytest.mark.integration

KEYS = ("k3y-Alpha-5e1f0c", "k3y-Bravo-93d2aa")


@pytest.fixture(scope="module")
def limited(seed_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server with two keys, a small rate limit that applies to loopback clients too, logging at debug level."""
    log = tmp_path_factory.mktemp("access") / "server.log"
    env = {"RAG_API_KEYS": json.dumps(list(KEYS)), "RAG_RATE_LIMIT": "6/minute", "RAG_RATE_LIMIT_WRITES": "3/minute",
           "RAG_RATE_LIMIT_LOOPBACK": "true"}
    # Its own copy of the index: the writes below must not touch the session's.
    index = tmp_path_factory.mktemp("access-index") / "index"
    shutil.copytree(seed_index, index)
    proc, url = start_server(index, log, env, log_level="debug")
    try:
        wait_for(url, proc, log, "/healthz")  # /readyz polls would spend the address's budget
        yield Server(url, index, log, KEYS[0])
    finally:
        stop(proc)


def test_over_the_limit_is_429_with_retry_after(limited: Server) -> None:
    keyed = {"Authorization": f"Bearer {KEYS[1]}"}  # counted under the key: the fixture's own polls are not
    with httpx.Client(base_url=limited.url, timeout=60) as c:
        codes = [c.get("/healthz", headers=keyed).status_code for _ in range(8)]
        assert codes == [200] * 6 + [429] * 2, codes
        r = c.get("/documents", headers=keyed)  # every route, reads too
        assert r.status_code == 429 and r.headers["content-type"] == "application/json"
        assert r.json()["error"]["code"] == "too_many_requests" and set(r.json()["error"]) == {"code", "message"}
        assert 1 <= int(r.headers["Retry-After"]) <= 60
        # the address (no key) has a budget of its own, untouched by the key's
        assert c.get("/healthz").status_code == 200


def test_api_keys_never_reach_the_log(limited: Server) -> None:
    doc = {"doc_id": "keyed-turnips", "title": "Turnips", "text": "Zorblax turnips glow violet at night."}
    with httpx.Client(base_url=limited.url, timeout=120) as c:
        for key in KEYS:
            r = c.post("/documents", json=doc, headers={"Authorization": f"Bearer {key}"})
            assert r.status_code in (200, 201, 429), r.text
        wrong = c.post("/documents", json=doc, headers={"Authorization": f"Bearer {KEYS[0]}-but-wrong"})
        assert wrong.status_code in (401, 429) and KEYS[0] not in wrong.text
        c.delete("/documents/keyed-turnips", headers={"Authorization": f"Bearer {KEYS[1]}"})
    text = limited.log.read_text(errors="replace")
    assert "POST /documents" in text  # the requests were logged (access log at debug level) ...
    for key in KEYS:
        assert key not in text and key[4:] not in text  # ... their keys were not, whole or in part
    assert "Bearer" not in text

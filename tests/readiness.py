"""Waiting for an in-process app's readiness (its background warm-up may still run right after startup)."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient


def readyz(client: TestClient) -> dict[str, object]:
    """/readyz once the background warm-up has finished (or after 30 s)."""
    deadline = time.monotonic() + 30
    while True:
        r = client.get("/readyz").json()
        if "loading" not in str(r.get("reason", "")) or time.monotonic() > deadline:
            return r  # type: ignore[no-any-return]
        time.sleep(0.05)

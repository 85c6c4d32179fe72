"""A throwaway ``rag serve`` on 127.0.0.1 over a fresh seed index, and what its /metrics says it answered."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.integration.server import RAG, Server, start_server, stop, wait_for
from tests.paths import ROOT

API_KEY = "reliability-key-7f3a"
_SAMPLE = re.compile(r'^rag_http_requests_total\{(?P<labels>[^}]*)\} (?P<value>[0-9.e+]+)$', re.MULTILINE)


def build_seed_index(index_dir: Path) -> None:
    """``rag index seeds`` into ``index_dir`` with the real bundled model."""
    subprocess.run([str(RAG), "index", "seeds", "--index-dir", str(index_dir)], cwd=ROOT, check=True,
                   capture_output=True, timeout=300)


@contextmanager
def live_server(workdir: Path, env: dict[str, str] | None = None) -> Iterator[Server]:
    """A ``rag serve`` of its own (writes change its index, not a shared one), with an API key; stopped after."""
    index_dir, log = workdir / "index", workdir / "server.log"
    if not index_dir.exists():
        build_seed_index(index_dir)
    proc, url = start_server(index_dir, log, {"RAG_API_KEYS": API_KEY, **(env or {})})
    try:
        wait_for(url, proc, log, "/readyz")
        yield Server(url, index_dir, log, API_KEY)
    finally:
        stop(proc)


def responses_by_status(url: str) -> dict[str, int]:
    """Responses the server has sent so far, by status (from ``rag_http_requests_total``)."""
    text = httpx.get(url + "/metrics", timeout=10).text
    counts: dict[str, int] = {}
    for m in _SAMPLE.finditer(text):
        status = dict(re.findall(r'(\w+)="([^"]*)"', m["labels"]))["status"]
        counts[status] = counts.get(status, 0) + int(float(m["value"]))
    return dict(sorted(counts.items()))


def since(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """The responses counted in ``after`` but not yet in ``before`` (e.g. the 503s of /readyz while loading)."""
    return {s: n - before.get(s, 0) for s, n in after.items() if n > before.get(s, 0)}


def server_errors(counts: dict[str, int]) -> int:
    """Responses with a status of 500 or more."""
    return sum(n for status, n in counts.items() if int(status) >= 500)


def tracebacks(log: Path) -> list[str]:
    """Lines of the server log that start a traceback or report an unhandled error."""
    return [line for line in log.read_text(errors="replace").splitlines()
            if line.startswith("Traceback") or "unhandled error" in line]

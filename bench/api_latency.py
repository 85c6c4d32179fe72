"""Latency of ``POST /ask`` against a running server: N sequential requests, p50/p95 printed.

make run                           # in one shell (or: rag serve --port 8000)
.venv/bin/python bench/api_latency.py --url http://127.0.0.1:8000 -n 200
.venv/bin/python bench/api_latency.py --smoke      # seconds: its own server on the seed index, 3 requests
"""

from __future__ import annotations

import argparse
import shutil
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

QUESTIONS = (
    "What was the purpose of the parade in North Korea?",
    "Why did Kim Jong Un invite Chinese and Russian guests to the parade?",
    "Is there a potential meeting between Kim Jong Un and Vladimir Putin?",
    "Why is China concerned about a Russia-North Korea arms deal?",
    "Who led the Chinese delegation?",
)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))]


def wait_ready(client: httpx.Client, timeout: float) -> bool:
    """Poll /readyz until 200 (the server may still be starting)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if client.get("/readyz").status_code == 200:
                return True
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    return False


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", default="http://127.0.0.1:8000")
    ap.add_argument("-n", type=int, default=200, help="Measured requests (after --warmup).")
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--smoke", action="store_true",
                    help="Start a rag serve of its own on the seed index (not --url), 1 + 3 requests, then stop it.")
    args = ap.parse_args()
    if args.smoke:
        return smoke()
    return measure(args.url, args.n, args.warmup)


def smoke() -> int:
    """``measure`` against a ``rag serve`` started here on the seed index (``bench/load.py``'s helpers)."""
    from load import LAYOUTS, build_index, free_port, start_server, stop

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the server on the way out
    tmp = Path(tempfile.mkdtemp(prefix="rag-bench-api-smoke-"))
    try:
        build_index(tmp / "index", "float32", smoke=True)
        port = free_port()
        proc = start_server(LAYOUTS["batched"], tmp / "index", port, tmp / "serve.log")
        try:
            code = measure(f"http://127.0.0.1:{port}", 3, 1)
        finally:
            stop(proc)
        if code:
            print((tmp / "serve.log").read_text()[-3000:], file=sys.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if code == 0:
        print("smoke: ok", file=sys.stderr)
    return code


def measure(url: str, n: int, warmup: int) -> int:
    """``warmup`` then ``n`` sequential ``POST /ask``; the figures are printed."""
    with httpx.Client(base_url=url, timeout=120) as client:
        if not wait_ready(client, timeout=120):
            print(f"server at {url} not ready after 120 s", file=sys.stderr)
            return 1
        for i in range(warmup):
            client.post("/ask", json={"question": QUESTIONS[i % len(QUESTIONS)]}).raise_for_status()
        wall: list[float] = []
        server: list[float] = []
        for i in range(n):
            t0 = time.perf_counter()
            r = client.post("/ask", json={"question": QUESTIONS[i % len(QUESTIONS)]})
            wall.append((time.perf_counter() - t0) * 1e3)
            r.raise_for_status()
            server.append(float(r.json()["timings_ms"].get("total_ms", 0.0)))

    print(f"POST /ask x{n} sequential, {len(QUESTIONS)} seed questions, {url}")
    print(
        f"  client p50 {percentile(wall, 50):7.1f} ms   p95 {percentile(wall, 95):7.1f} ms   "
        f"p99 {percentile(wall, 99):7.1f} ms   mean {statistics.fmean(wall):7.1f} ms   max {max(wall):7.1f} ms"
    )
    print(
        f"  server p50 {percentile(server, 50):7.1f} ms   p95 {percentile(server, 95):7.1f} ms   (timings_ms.total_ms)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

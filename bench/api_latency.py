"""Latency of ``POST /ask`` against a running server: N sequential requests, p50/p95 printed.

make run                           # in one shell (or: rag serve --port 8000)
.venv/bin/python bench/api_latency.py --url http://127.0.0.1:8000 -n 200
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

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
    args = ap.parse_args()

    with httpx.Client(base_url=args.url, timeout=120) as client:
        if not wait_ready(client, timeout=120):
            print(f"server at {args.url} not ready after 120 s", file=sys.stderr)
            return 1
        for i in range(args.warmup):
            client.post("/ask", json={"question": QUESTIONS[i % len(QUESTIONS)]}).raise_for_status()
        wall: list[float] = []
        server: list[float] = []
        for i in range(args.n):
            t0 = time.perf_counter()
            r = client.post("/ask", json={"question": QUESTIONS[i % len(QUESTIONS)]})
            wall.append((time.perf_counter() - t0) * 1e3)
            r.raise_for_status()
            server.append(float(r.json()["timings_ms"].get("total_ms", 0.0)))

    print(f"POST /ask x{args.n} sequential, {len(QUESTIONS)} seed questions, {args.url}")
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

"""Throughput of ``POST /ask`` under concurrent clients, through a real ``rag serve`` on 127.0.0.1.

.venv/bin/python bench/load.py                                   # the layouts below, 1/8/32 clients, 3 rounds
.venv/bin/python bench/load.py --layouts batched --rounds 1      # one layout, once
.venv/bin/python bench/load.py --smoke                           # seconds: the script itself, on the seed index

The index holds the seed article and the XQuAD and FairytaleQA validation articles (bodies, no FAQ chunks), built
once into ``--index-dir`` (reused when it is there). The questions are those two datasets' questions, read from
``../shared/data`` at run time, shuffled with a fixed seed. For each round and each layout (in a rotating order,
so load from other jobs falls on them alike) a server is started, warmed up, and driven by N closed-loop clients
for each N in ``--clients``: each client sends its next question as soon as its previous answer arrives. A level
stops at ``--requests`` answers or ``--seconds``, whichever comes first. Reported per level: answers per second,
client-side latency p50/p95/p99, errors (any status but 200, or a transport error), the batches the embedder ran,
and the CPU time this load generator spent (it shares the machine with the server).

The clients are asyncio tasks over one ``httpx.AsyncClient`` with keep-alive connections: httpx is already a
dependency, and one event loop drives 32 clients with a few percent of a core, where a thread or process per
client would compete with the server for the two cores.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from corpus import DATA_DIR, FAIRYTALEQA, SEEDS, XQUAD, load_corpus_or_skip
from measure import machine_state, percentile, write_results

ROOT = Path(__file__).resolve().parent.parent
RAG = Path(sys.executable).parent / "rag"


@dataclass(frozen=True)
class Layout:
    """How the server runs: its environment (``RAG_*`` settings, thread counts)."""

    name: str
    env: dict[str, str]
    note: str


#: The layouts compared by default; ``--layouts`` picks some by name.
LAYOUTS = {
    "unbatched": Layout("unbatched", {"RAG_EMBED_BATCH_WAIT_MS": "0"},
                        "1 worker, torch 2 threads, no batching (every request its own forward pass)"),
    "batched": Layout("batched", {}, "1 worker, torch 2 threads, batching (defaults)"),
    "batched-torch1": Layout("batched-torch1", {"OMP_NUM_THREADS": "1"}, "1 worker, torch 1 thread, batching"),
    "batched-threads8": Layout("batched-threads8", {"RAG_REQUEST_THREADS": "8"},
                               "1 worker, 8 request threads, torch 2 threads, batching"),
    "2workers": Layout("2workers", {"RAG_WORKERS": "2", "OMP_NUM_THREADS": "1"},
                       "2 workers, torch 1 thread each, batching"),
    "batched-blas2": Layout("batched-blas2", {"RAG_BLAS_THREADS": "2"}, "as batched, BLAS pools at 2 threads"),
    "int8": Layout("int8", {"RAG_EMBEDDING_PRECISION": "int8"}, "as batched, int8 embedding model (its own index)"),
}
DEFAULT_LAYOUTS = ("unbatched", "batched", "batched-torch1", "2workers")


@dataclass
class Level:
    """One level of concurrency against one server."""

    clients: int
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    client_cpu_s: float = 0.0
    server_cpu_s: float = 0.0
    batches: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        ms = [x * 1e3 for x in self.latencies]
        ok = len(ms)
        return {
            "clients": self.clients,
            "answers": ok,
            "errors": sum(self.errors.values()),
            "error_kinds": self.errors,
            "seconds": round(self.seconds, 3),
            "req_per_s": round(ok / self.seconds, 2) if self.seconds else 0.0,
            "p50_ms": round(percentile(ms, 50), 2) if ms else None,
            "p95_ms": round(percentile(ms, 95), 2) if ms else None,
            "p99_ms": round(percentile(ms, 99), 2) if ms else None,
            "mean_ms": round(statistics.fmean(ms), 2) if ms else None,
            "client_cpu_share": round(self.client_cpu_s / self.seconds, 3) if self.seconds else 0.0,
            # CPU the server spent per answer: what it costs, steadier than wall time on a shared machine.
            "server_cpu_ms_per_answer": round(self.server_cpu_s * 1e3 / ok, 2) if ok else None,
            "server_cpu_share": round(self.server_cpu_s / self.seconds, 3) if self.seconds else 0.0,
            **self.batches,
        }


def questions(data_dir: Path, seed: int) -> list[str]:
    """XQuAD's and FairytaleQA validation's questions, shuffled (read now, never stored)."""
    from rag.ingest.loaders import load_qa_jsonl

    out = [q for path in (XQUAD, FAIRYTALEQA) for _, qa in load_qa_jsonl(data_dir / path) for q, _ in qa if q.strip()]
    random.Random(seed).shuffle(out)
    return out


def build_index(index_dir: Path, precision: str, smoke: bool) -> None:
    """The benchmark index (seed + both dev sets' articles, no FAQ chunks), unless one is there already."""
    if (index_dir / "CURRENT").is_file():
        return
    from rag.ingest.loaders import load_paths
    from rag.pipeline import Pipeline
    from rag.settings import Settings

    if smoke:
        articles = load_paths([SEEDS])
    else:
        corpus = load_corpus_or_skip()
        if corpus is None:
            raise SystemExit(0)
        articles = list(corpus.articles)
    settings = Settings(index_dir=index_dir, index_faq=False, embedding_precision=precision,  # type: ignore[arg-type]
                        embed_batch_wait_ms=0)
    t0 = time.perf_counter()
    report = Pipeline(settings).update(upsert=articles, rebuild=True)
    print(f"indexed {len(articles)} articles, {report.total_chunks} chunks into {index_dir} "
          f"({time.perf_counter() - t0:.0f} s)", file=sys.stderr)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(layout: Layout, index_dir: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    """``rag serve`` with the layout's environment (nothing else of ours leaks in)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env |= {"RAG_INDEX_DIR": str(index_dir), "RAG_INDEX_FAQ": "false", "HF_HUB_OFFLINE": "1",
            "OMP_WAIT_POLICY": "PASSIVE", **layout.env}
    with log.open("ab") as out:
        return subprocess.Popen([str(RAG), "serve", "--host", "127.0.0.1", "--port", str(port), "--log-level",
                                 "warning"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 600, in_a_row: int = 8) -> None:
    """Until ``/readyz`` answers 200 ``in_a_row`` times, each on a new connection: with several workers, each
    connection may reach another one, and every worker must have loaded its model and index."""
    deadline = time.monotonic() + timeout
    ready = 0
    while time.monotonic() < deadline and ready < in_a_row:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            ok = httpx.get(url + "/readyz", timeout=5).status_code == 200
        except httpx.TransportError:
            ok = False
        ready = ready + 1 if ok else 0
        time.sleep(0.1 if ok else 0.5)
    if ready < in_a_row:
        raise RuntimeError(f"server at {url} not ready after {timeout} s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


async def drive(url: str, qs: list[str], clients: int, requests: int, seconds: float, start: int) -> Level:
    """``clients`` closed-loop clients until ``requests`` answers or ``seconds`` have passed."""
    level = Level(clients)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    next_q = start
    sent = 0
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:
        deadline = time.monotonic() + seconds

        async def one_client() -> None:
            nonlocal next_q, sent
            while sent < requests and time.monotonic() < deadline:
                sent += 1
                q = qs[next_q % len(qs)]
                next_q += 1
                t0 = time.perf_counter()
                try:
                    r = await client.post("/ask", json={"question": q})
                    kind = None if r.status_code == 200 else str(r.status_code)
                except httpx.HTTPError as e:
                    kind = type(e).__name__
                if kind is None:
                    level.latencies.append(time.perf_counter() - t0)
                else:
                    level.errors[kind] = level.errors.get(kind, 0) + 1

        c0, t0 = time.process_time(), time.perf_counter()
        await asyncio.gather(*(one_client() for _ in range(clients)))
        level.seconds = time.perf_counter() - t0
        level.client_cpu_s = time.process_time() - c0
    return level


def tree_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and all its descendants, from /proc (0 where it cannot be read)."""
    tick = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    tree, total = {pid}, 0.0
    changed = True
    while changed:
        changed = False
        for p, (ppid, _) in stats.items():
            if ppid in tree and p not in tree:
                tree.add(p)
                changed = True
    for p in tree:
        total += stats.get(p, (0, 0.0))[1]
    return total


def batch_counts(url: str) -> tuple[float, float]:
    """(batches, calls) the server's embedding batcher ran so far, from /metrics (0, 0 when it has none)."""
    try:
        text = httpx.get(url + "/metrics", timeout=10).text
    except httpx.HTTPError:
        return 0.0, 0.0
    found = {}
    for line in text.splitlines():
        for name in ("rag_embedding_batches", "rag_embedding_batched_calls"):
            if line.startswith(name + " "):
                found[name] = float(line.split()[1])
    return found.get("rag_embedding_batches", 0.0), found.get("rag_embedding_batched_calls", 0.0)


def run_layout(layout: Layout, index_dir: Path, qs: list[str], args: argparse.Namespace, log: Path
               ) -> list[dict[str, Any]]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = start_server(layout, index_dir, port, log)
    out = []
    try:
        wait_ready(url, proc)
        asyncio.run(drive(url, qs, 4, args.warmup, 60, start=len(qs) // 2))  # untimed: first requests are slow
        for n in args.clients:
            b0, c0 = batch_counts(url), tree_cpu_seconds(proc.pid)
            level = asyncio.run(drive(url, qs, n, args.requests, args.seconds, start=0))
            b1, c1 = batch_counts(url), tree_cpu_seconds(proc.pid)
            level.server_cpu_s = c1 - c0
            if b1[0] > b0[0]:
                level.batches = {"embed_batches": b1[0] - b0[0],
                                 "calls_per_batch": round((b1[1] - b0[1]) / (b1[0] - b0[0]), 2)}
            s = level.summary()
            out.append(s)
            print(f"  {layout.name:18s} {n:3d} clients: {s['req_per_s']:7.1f} req/s  p50 {s['p50_ms']} ms  "
                  f"p95 {s['p95_ms']} ms  p99 {s['p99_ms']} ms  errors {s['errors']}  "
                  f"calls/batch {s.get('calls_per_batch', '-')}  server CPU {s['server_cpu_ms_per_answer']} ms/answer  "
                  f"load {os.getloadavg()[0]:.2f}", file=sys.stderr)
    finally:
        stop(proc)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layouts", nargs="+", default=list(DEFAULT_LAYOUTS), choices=sorted(LAYOUTS))
    ap.add_argument("--clients", nargs="+", type=int, default=[1, 8, 32])
    ap.add_argument("--requests", type=int, default=600, help="Answers per level at most.")
    ap.add_argument("--seconds", type=float, default=20.0, help="Seconds per level at most.")
    ap.add_argument("--warmup", type=int, default=40, help="Untimed requests after the server is ready.")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--index-dir", type=Path, default=Path(tempfile.gettempdir()) / "rag-bench-load-index",
                    help="Built here when absent (float32; the int8 layout uses <dir>-int8).")
    ap.add_argument("--smoke", action="store_true", help="Seed index, seed questions, a few requests: seconds.")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="load")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the server on the way out

    if args.smoke:
        from api_latency import QUESTIONS

        qs = list(QUESTIONS)
        args.layouts, args.clients, args.requests, args.seconds, args.warmup, args.rounds = (
            ["batched"], [1, 4], 12, 10.0, 2, 1)
    else:
        if load_corpus_or_skip() is None:
            return 0
        qs = questions(DATA_DIR, args.seed)
    before = machine_state()
    rounds: list[dict[str, list[dict[str, Any]]]] = []
    log = Path(tempfile.gettempdir()) / f"rag-bench-{args.out}.log"
    for r in range(args.rounds):
        order = args.layouts[r % len(args.layouts):] + args.layouts[: r % len(args.layouts)]
        print(f"round {r + 1}/{args.rounds}", file=sys.stderr)
        results: dict[str, list[dict[str, Any]]] = {}
        for name in order:
            layout = LAYOUTS[name]
            precision = layout.env.get("RAG_EMBEDDING_PRECISION", "float32")
            index_dir = args.index_dir if precision == "float32" else Path(f"{args.index_dir}-{precision}")
            if args.smoke:
                index_dir = Path(tempfile.mkdtemp(prefix="rag-bench-load-smoke-")) / "index"
            build_index(index_dir, precision, args.smoke)
            results[name] = run_layout(layout, index_dir, qs, args, log)
        rounds.append(results)
    summary = {name: [median_level([rnd[name][i] for rnd in rounds]) for i in range(len(args.clients))]
               for name in args.layouts}
    payload = {"command": " ".join(["bench/load.py", *sys.argv[1:]]),
               "layouts": {n: {"env": LAYOUTS[n].env, "note": LAYOUTS[n].note} for n in args.layouts},
               "clients": args.clients, "requests_per_level": args.requests, "seconds_per_level": args.seconds,
               "questions": len(qs), "rounds": rounds, "summary": summary,
               "machine_before": before, "machine_after": machine_state()}
    if args.smoke:
        errors = sum(level["errors"] for rnd in rounds for levels in rnd.values() for level in levels)
        print(f"smoke: {errors} errors", file=sys.stderr)
        return 1 if errors else 0
    print(f"wrote {write_results(args.out, payload)}", file=sys.stderr)
    return 0


def median_level(levels: list[dict[str, Any]]) -> dict[str, Any]:
    """The median of each figure over rounds, with the spread (min, max) of req/s and p99."""
    out: dict[str, Any] = {"clients": levels[0]["clients"], "rounds": len(levels)}
    for key in ("req_per_s", "p50_ms", "p95_ms", "p99_ms", "calls_per_batch", "client_cpu_share",
                "server_cpu_ms_per_answer", "server_cpu_share"):
        values = [lv[key] for lv in levels if lv.get(key) is not None]
        if values:
            out[key] = round(statistics.median(values), 2)
    out["errors"] = sum(lv["errors"] for lv in levels)
    out["answers"] = sum(lv["answers"] for lv in levels)
    out["req_per_s_range"] = [min(lv["req_per_s"] for lv in levels), max(lv["req_per_s"] for lv in levels)]
    out["p99_ms_range"] = [min(lv["p99_ms"] or 0 for lv in levels), max(lv["p99_ms"] or 0 for lv in levels)]
    return out


if __name__ == "__main__":
    sys.exit(main())

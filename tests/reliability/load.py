"""A bounded concurrent load on a live ``rag serve`` while documents come and go, checked generation by generation.

Readers ask (``/ask``, ``/chat`` with and without streaming), search and list documents; meanwhile one writer adds
and deletes documents through the API and another process runs ``rag index`` over a folder whose files change
between runs. A watcher copies each generation's documents and chunks from ``generations/<name>/`` (``open_generation``)
as soon as it is published. At the end every response is checked against the generation it names (header and JSON
field): each citation's document is in that generation and its text is that document's text at ``start:end``; each
hit is that generation's chunk; each listing is exactly that generation's documents; each write's generation holds
(or no longer holds) its document. All traffic goes to 127.0.0.1; the run stops at its time or request budget.

    python -m tests.reliability.load [--seconds 150] [--requests 3000] [--readers 3] [--cli-runs 4]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from rag.store.generations import open_generation
from tests.integration.server import RAG, Server
from tests.reliability.live import live_server, responses_by_status, server_errors, since
from tests.sse import events

RESULTS = Path(__file__).parent / "results"
HEADER = "x-index-generation"
#: Questions about the seed article (README examples) and about the invented documents the writers add.
SEED_QUESTIONS = ("Why is China concerned about a Russia-North Korea arms deal?", "What was the purpose of the parade?",
                  "Who led the Chinese delegation?")
COLOURS = ("violet", "amber", "teal", "crimson", "ochre", "silver")


def api_doc(n: int) -> dict[str, str]:
    colour = COLOURS[n % len(COLOURS)]
    return {"doc_id": f"api-{n}", "title": f"The lighthouse of Quenville{n}",
            "text": f"The lighthouse of Quenville{n} was painted {colour} in {1900 + n}. Its keeper, Ada Morn{n}, "
                    f"lit the lamp every night for forty years. Ships from Varn{n} steered by its {colour} light."}


def cli_doc(n: int) -> str:
    return (f"The glass harps of Tallinn{n} ring at dawn. They were tuned by Oskar Vell{n} in {1800 + n}. "
            f"Each harp of Tallinn{n} has {20 + n} bowls of green glass.")


def questions(n_api: int, n_cli: int) -> list[str]:
    qs = list(SEED_QUESTIONS)
    qs += [f"What colour was the lighthouse of Quenville{i} painted?" for i in range(n_api)]
    qs += [f"Who tuned the glass harps of Tallinn{i}?" for i in range(n_cli)]
    return qs


@dataclass
class Generation:
    """What the watcher copied of one published generation."""

    documents: dict[str, tuple[str, str]]  # doc_id -> (title, text)
    chunks: dict[int, tuple[str, str]]  # chunk_id -> (doc_id, text)


@dataclass
class LoadResult:
    """Counts of one run; ``mismatches`` and ``errors`` hold the first few of each, described."""

    seconds: float
    requests: dict[str, int]
    api_writes: dict[str, int]
    cli_runs: int
    cli_changes: dict[str, int]
    errors: int
    error_samples: list[str]
    generations_published: int
    generations_answered_from: int
    citations_checked: int
    hits_checked: int
    listings_checked: int
    writes_checked: int
    mismatches: int
    mismatch_samples: list[str]
    unverified: int
    server_responses: dict[str, int] = field(default_factory=dict)
    server_errors: int = 0

    @property
    def clean(self) -> bool:
        return not (self.errors or self.mismatches or self.unverified or self.server_errors)


class Run:
    """The shared state of one load run (threads append; checks happen at the end)."""

    def __init__(self, server: Server, workdir: Path, deadline: float, max_requests: int) -> None:
        self.server, self.workdir = server, workdir
        self.deadline, self.max_requests = deadline, max_requests
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.generations: dict[str, Generation] = {}
        self.requests: Counter[str] = Counter()
        self.api_writes: Counter[str] = Counter()
        self.cli_changes: Counter[str] = Counter()
        self.cli_runs = 0
        self.errors: list[str] = []
        # (kind, generation, payload) to check once every generation is copied
        self.observed: list[tuple[str, str, Any]] = []
        self.live_docs = {"api": 0, "cli": 0}  # how many ids each writer has used (for the readers' questions)

    def over(self) -> bool:
        with self.lock:
            done = sum(self.requests.values()) >= self.max_requests
        return self.stop.is_set() or done or time.monotonic() >= self.deadline

    def error(self, what: str) -> None:
        with self.lock:
            self.errors.append(what)

    def observe(self, kind: str, gen: str, payload: Any) -> None:
        with self.lock:
            self.observed.append((kind, gen, payload))

    # --- the watcher ---------------------------------------------------------------------------------------

    def watch(self) -> None:
        gens = self.server.index_dir / "generations"
        while not self.stop.is_set():
            self.capture(gens)
            time.sleep(0.02)
        self.capture(gens)

    def capture(self, gens: Path) -> None:
        for path in sorted(gens.iterdir()) if gens.is_dir() else []:
            if path.name.startswith(".") or path.name in self.generations:
                continue
            try:
                snap = open_generation(self.server.index_dir, path)
                docs, chunks = dict(snap.documents.items()), dict(snap.chunks.items())
            except Exception:  # pruned meanwhile, or not there yet: nothing to copy
                continue
            self.generations[path.name] = Generation({d: (r.title, r.text) for d, r in docs.items()},
                                                     {i: (c.doc_id, c.text) for i, c in chunks.items()})

    # --- the readers -----------------------------------------------------------------------------------------

    def read(self, seed: int) -> None:
        rnd = random.Random(seed)
        with httpx.Client(base_url=self.server.url, timeout=120) as client:
            while not self.over():
                with self.lock:
                    pool = questions(self.live_docs["api"], self.live_docs["cli"])
                q = rnd.choice(pool)
                kind = rnd.choices(["ask", "chat", "chat-stream", "search", "documents"], [4, 2, 2, 3, 1])[0]
                try:
                    self.one(client, kind, q)
                except Exception as e:  # a transport failure is an error like a 5xx
                    self.error(f"{kind}: {type(e).__name__}: {e}")
                with self.lock:
                    self.requests[kind] += 1

    def one(self, client: httpx.Client, kind: str, q: str) -> None:
        messages = [{"role": "user", "content": q}]
        if kind == "chat-stream":
            with client.stream("POST", "/chat", json={"messages": messages, "stream": True}) as r:
                body = r.read().decode()
            if not self.ok(r, kind):
                return
            evs = events(body)
            meta = next((json.loads(d) for e, d in evs if e == "citations"), None)
            if meta is None or any(e == "error" for e, _ in evs):
                self.error(f"{kind}: no citations event or an error event: {body[-300:]}")
                return
            self.same_generation(kind, r.headers[HEADER], meta["generation"])
            self.observe("citations", meta["generation"], meta["citations"])
            return
        if kind == "ask":
            r = client.post("/ask", json={"question": q})
        elif kind == "chat":
            r = client.post("/chat", json={"messages": messages})
        elif kind == "search":
            r = client.get("/search", params={"q": q, "k": 5})
        else:
            r = client.get("/documents")
        if not self.ok(r, kind):
            return
        data = r.json()
        self.same_generation(kind, r.headers[HEADER], data["generation"])
        if kind in ("ask", "chat"):
            self.observe("citations", data["generation"], data["citations"])
        elif kind == "search":
            self.observe("hits", data["generation"], data["hits"])
        else:
            self.observe("listing", data["generation"], sorted(d["doc_id"] for d in data["documents"]))

    def ok(self, r: httpx.Response, kind: str) -> bool:
        if r.status_code // 100 != 2:
            self.error(f"{kind}: HTTP {r.status_code}: {r.text[:300]}")
            return False
        return True

    def same_generation(self, kind: str, header: str, body: str) -> None:
        if header != body:
            self.observe("mismatch", body, f"{kind}: header {header} but JSON {body}")

    # --- the writers -----------------------------------------------------------------------------------------

    def write_api(self, pause: float) -> None:
        auth = self.server.auth
        with httpx.Client(base_url=self.server.url, timeout=120, headers=auth) as client:
            n = 0
            while not self.over():
                try:
                    r = client.post("/documents", json=api_doc(n))
                    if self.ok(r, "POST /documents"):
                        self.observe("added", r.json()["generation"], f"api-{n}")
                        with self.lock:
                            self.live_docs["api"] = n + 1
                            self.api_writes["added"] += 1
                    if n >= 2:
                        r = client.delete(f"/documents/api-{n - 2}")
                        if self.ok(r, "DELETE /documents"):
                            self.observe("deleted", r.json()["generation"], f"api-{n - 2}")
                            with self.lock:
                                self.api_writes["deleted"] += 1
                except Exception as e:
                    self.error(f"write: {type(e).__name__}: {e}")
                n += 1
                time.sleep(pause)

    def write_cli(self, runs: int) -> None:
        folder = self.workdir / "cli-docs"
        folder.mkdir(exist_ok=True)
        for n in range(runs):
            if self.over():
                return
            (folder / f"cli-{n}.txt").write_text(cli_doc(n))
            self.cli_changes["added"] += 1
            if n >= 2:
                (folder / f"cli-{n - 2}.txt").unlink()
                self.cli_changes["removed"] += 1
            proc = subprocess.run([str(RAG), "index", str(folder), "--index-dir", str(self.server.index_dir)],
                                  capture_output=True, text=True, timeout=300)
            self.cli_runs += 1
            if proc.returncode != 0:
                self.error(f"rag index exited {proc.returncode}: {proc.stderr[-300:]}")
            with self.lock:
                self.live_docs["cli"] = n + 1

    # --- the checks ------------------------------------------------------------------------------------------

    def check(self) -> tuple[Counter[str], list[str], int]:
        """Checked items by kind, mismatches, and responses whose generation the watcher never saw."""
        checked: Counter[str] = Counter()
        bad: list[str] = []
        unverified = 0
        for kind, gen, payload in self.observed:
            if kind == "mismatch":
                bad.append(payload)
                continue
            g = self.generations.get(gen)
            if g is None:
                unverified += 1
                continue
            if kind == "citations":
                for c in payload:
                    checked["citations"] += 1
                    doc = g.documents.get(c["doc_id"])
                    if doc is None or doc[1][c["start"]:c["end"]] != c["text"] or doc[0] != c["title"]:
                        bad.append(f"citation of {c['doc_id']} {c['start']}:{c['end']} is not in generation {gen}")
            elif kind == "hits":
                for h in payload:
                    checked["hits"] += 1
                    if g.chunks.get(h["chunk_id"]) != (h["doc_id"], h["text"]):
                        bad.append(f"hit chunk {h['chunk_id']} of {h['doc_id']} is not generation {gen}'s")
            elif kind == "listing":
                checked["listings"] += 1
                if payload != sorted(g.documents):
                    bad.append(f"listing of generation {gen} differs: {payload} vs {sorted(g.documents)}")
            else:
                checked["writes"] += 1
                if (payload in g.documents) != (kind == "added"):
                    bad.append(f"{payload} {kind} but generation {gen} says otherwise")
        return checked, bad, unverified


def run_load(workdir: Path, seconds: float, max_requests: int, readers: int = 3, cli_runs: int = 3,
             write_pause: float = 0.5, seed: int = 7) -> LoadResult:
    """Start a server over a fresh seed index in ``workdir`` and run the load against it; see the module docstring."""
    with live_server(workdir) as server:
        before = responses_by_status(server.url)
        t0 = time.monotonic()
        run = Run(server, workdir, t0 + seconds, max_requests)
        watcher = threading.Thread(target=run.watch, daemon=True)
        watcher.start()
        workers = [threading.Thread(target=run.read, args=(seed + i,)) for i in range(readers)]
        workers += [threading.Thread(target=run.write_api, args=(write_pause,)),
                    threading.Thread(target=run.write_cli, args=(cli_runs,))]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        elapsed = time.monotonic() - t0
        run.stop.set()
        watcher.join()
        counts = since(before, responses_by_status(server.url))
    checked, bad, unverified = run.check()
    answered_from = {gen for _, gen, _ in run.observed}
    return LoadResult(
        seconds=round(elapsed, 1), requests=dict(run.requests), api_writes=dict(run.api_writes),
        cli_runs=run.cli_runs, cli_changes=dict(run.cli_changes), errors=len(run.errors),
        error_samples=run.errors[:5], generations_published=len(run.generations),
        generations_answered_from=len(answered_from), citations_checked=checked["citations"],
        hits_checked=checked["hits"], listings_checked=checked["listings"], writes_checked=checked["writes"],
        mismatches=len(bad), mismatch_samples=bad[:5], unverified=unverified, server_responses=counts,
        server_errors=server_errors(counts),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=150)
    parser.add_argument("--requests", type=int, default=3000, help="reader requests at most")
    parser.add_argument("--readers", type=int, default=3)
    parser.add_argument("--cli-runs", type=int, default=4)
    parser.add_argument("--out", type=Path, default=RESULTS / "load.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rag-load-") as tmp:
        result = run_load(Path(tmp), args.seconds, args.requests, args.readers, args.cli_runs)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({**asdict(result), "clean": result.clean}, indent=2) + "\n")
    print(f"{sum(result.requests.values())} requests, {sum(result.api_writes.values())} API writes, "
          f"{result.cli_runs} `rag index` runs in {result.seconds} s over {result.generations_answered_from} "
          f"generations: {result.errors} errors, {result.mismatches} mismatches "
          f"({result.citations_checked} citations, {result.hits_checked} hits checked), "
          f"{result.unverified} unverified -> {args.out}")
    sys.exit(0 if result.clean else 1)


if __name__ == "__main__":
    main()

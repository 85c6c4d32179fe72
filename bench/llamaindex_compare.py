"""Ingest and query latency: our pipeline vs LlamaIndex (SentenceSplitter 1024/200 and 256/32), same texts.

.venv/bin/python bench/llamaindex_compare.py                 # 2 rounds, 300 questions
.venv/bin/python bench/llamaindex_compare.py --rounds 1 -n 100
.venv/bin/python bench/llamaindex_compare.py --threads 1 --out llamaindex_compare-threads1
.venv/bin/python bench/llamaindex_compare.py --smoke      # the seed article, 1 round, 2 questions, nothing written

LlamaIndex lives in its own venv (never in ours; see bench/README.md for the install). Per round, three
worker processes start one after the other, each loading the model (timed apart) and ingesting the whole
corpus alone (the others idle): LlamaIndex 1024/200 and 256/32 via ``bench/llamaindex_worker.py`` in
``--li-python``, ours via ``--worker ours`` here. Then the sampled XQuAD questions go to all of them in
lock-step, one request at a time in a rotating order, so every system sees the same background load; each
worker's turn starts with one untimed request, so every timed request runs on warm caches. The start order
flips between rounds. Writes bench/results/llamaindex_compare.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import IO, Any

from corpus import Corpus, load_corpus_or_skip, sample_questions, seed_corpus
from measure import Timer, machine_state, ratio, summary_ms, write_results
from worker_protocol import serve

HERE = Path(__file__).resolve().parent
DEFAULT_LI_PYTHON = "/tmp/li-venv/bin/python"
LI_CONFIGS = ((1024, 200), (256, 32))  # LlamaIndex's default SentenceSplitter, and one near our chunk size
OURS_MODES = ("search", "answer", "search_dense", "floor")
LI_MODES = ("retrieve", "floor")
TOP_K = 5
WARMUP = 10
PRIME = "warm the caches of this worker"


def ours_worker(corpus: Corpus) -> int:
    """Our side: model load, full ingest, one JSON line, then timed requests (``worker_protocol.serve``)."""
    import torch

    from rag.models.embedding import SentenceTransformerEmbedder
    from rag.pipeline import Pipeline
    from rag.settings import Settings

    out: dict[str, Any] = {"system": "ours", "torch_threads": torch.get_num_threads()}
    with Timer() as t:
        embedder = SentenceTransformerEmbedder()
    out["model_load_s"] = t.seconds
    embedder.embed(["warm up the kernels"] * 8)
    with tempfile.TemporaryDirectory(prefix="bench-li-ours-") as tmp:
        index_dir = Path(tmp) / "index"
        pipe = Pipeline(Settings(index_dir=index_dir, index_faq=False, top_k=TOP_K), embedder)
        with Timer() as t:
            report = pipe.update(upsert=corpus.articles)
        out["ingest_s"], out["ingest_cpu_s"], out["nodes"] = t.seconds, t.cpu_seconds, report.total_chunks
        dense = Pipeline(Settings(index_dir=index_dir, index_faq=False, top_k=TOP_K, retrieval="dense",
                                  rerank=False), embedder)
        dense.snapshot  # noqa: B018  (load before timing)
        index = pipe.loaded.retriever.dense
        k = min(TOP_K, index.snap.chunk_rows.live)
        print(json.dumps(out), flush=True)
        serve({"search": pipe.search, "answer": pipe.answer, "search_dense": dense.search,
               "floor": lambda q: index.search(embedder.embed([q])[0], k)})
    return 0


class Worker:
    """A benchmark subprocess: its ingest report, then one timed request at a time."""

    def __init__(self, name: str, cmd: list[str], log: IO[str], env: dict[str, str]) -> None:
        self.name = name
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True,
                                     env=env)
        self.log = log

    def ready(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(timeout=60)
            self.log.seek(0)
            raise RuntimeError(f"worker {self.name} exited {self.proc.returncode}:\n{self.log.read()[-3000:]}")
        return dict(json.loads(line))

    def ask(self, q: str, mode: str) -> float:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"q": q, "mode": mode}) + "\n")
        self.proc.stdin.flush()
        return float(json.loads(self.proc.stdout.readline())["s"])

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=120)


def li_available(li_python: str) -> str | None:
    """None when LlamaIndex imports in ``li_python``, else the reason it does not."""
    if not Path(li_python).exists():
        return f"{li_python} does not exist (create the LlamaIndex venv first, see bench/README.md)"
    probe = subprocess.run([li_python, "-c", "import llama_index.core, llama_index.embeddings.huggingface"],
                           capture_output=True, text=True, timeout=300)
    return None if probe.returncode == 0 else probe.stderr.strip().splitlines()[-1]


def run_round(r: int, jobs: list[tuple[str, list[str], tuple[str, ...]]], questions: list[str],
              tmp: Path, env: dict[str, str]) -> dict[str, Any]:
    """Start the workers one at a time (each ingests alone), then query them all in lock-step."""
    workers: list[tuple[Worker, tuple[str, ...]]] = []
    info: dict[str, Any] = {}
    try:
        for name, cmd, modes in jobs:
            load = machine_state()["loadavg"][0]
            w = Worker(name, cmd, open(tmp / f"{name}-{r}.log", "w+"), env)  # noqa: SIM115 (closed with it)
            workers.append((w, modes))
            info[name] = w.ready() | {"loadavg_1m_before_ingest": load}
            print(f"round {r} {name:22s} ingest {info[name]['ingest_s']:7.2f}s  nodes {info[name]['nodes']:5d}  "
                  f"load {load}", flush=True)
        for q in questions[:WARMUP]:
            for w, modes in workers:
                for m in modes:
                    w.ask(q, m)
        lat: dict[str, list[float]] = {f"{w.name}:{m}": [] for w, modes in workers for m in modes}
        for i, q in enumerate(questions):
            # Rotate the workers and each worker's modes; an untimed request first, so no timed request
            # is the one that pays for switching processes (cold caches after another worker ran).
            for w, modes in _rotated(workers, i):
                w.ask(PRIME, modes[-1])
                for m in _rotated(list(modes), i):
                    lat[f"{w.name}:{m}"].append(w.ask(q, m))
    finally:
        for w, _ in workers:
            w.close()
            w.log.close()
    return {"workers": info, "latency_s": lat, "loadavg_1m_after": machine_state()["loadavg"][0]}


def _rotated(items: list[Any], i: int) -> list[Any]:
    k = i % len(items)
    return items[k:] + items[:k]


def summarise(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-system medians over rounds, and ours/LlamaIndex ratios taken within each round."""

    def med(values: list[float]) -> float:
        return round(statistics.median(values), 3)

    def p50(rd: dict[str, Any], key: str) -> float:
        return summary_ms(rd["latency_s"][key])["p50_ms"]

    def paired(rd: dict[str, Any], a: str, b: str) -> float:
        return statistics.median(x / y for x, y in zip(rd["latency_s"][a], rd["latency_s"][b], strict=True))

    out: dict[str, Any] = {"ours": {
        "ingest_s": med([rd["workers"]["ours"]["ingest_s"] for rd in rounds]),
        "ingest_cpu_s": med([rd["workers"]["ours"]["ingest_cpu_s"] for rd in rounds]),
        "nodes": rounds[0]["workers"]["ours"]["nodes"],
        **{f"{m}_p50_ms": med([p50(rd, f"ours:{m}") for rd in rounds]) for m in OURS_MODES},
    }}
    for size, overlap in LI_CONFIGS:
        li = f"llamaindex_{size}_{overlap}"
        out[li] = {
            "ingest_s": med([rd["workers"][li]["ingest_s"] for rd in rounds]),
            "ingest_cpu_s": med([rd["workers"][li]["ingest_cpu_s"] for rd in rounds]),
            "nodes": rounds[0]["workers"][li]["nodes"],
            **{f"{m}_p50_ms": med([p50(rd, f"{li}:{m}") for rd in rounds]) for m in LI_MODES},
            "ratio_ours_ingest_over_li": med([rd["workers"]["ours"]["ingest_s"] / rd["workers"][li]["ingest_s"]
                                              for rd in rounds]),
            "cpu_ratio_ours_ingest_over_li": med(
                [rd["workers"]["ours"]["ingest_cpu_s"] / rd["workers"][li]["ingest_cpu_s"] for rd in rounds]),
            "ratio_ours_chunks_over_li_nodes": ratio(out["ours"]["nodes"], rounds[0]["workers"][li]["nodes"]),
        }
        for m in ("search", "answer", "search_dense"):
            out[li][f"ratio_ours_{m}_over_li_retrieve_p50"] = med(
                [p50(rd, f"ours:{m}") / p50(rd, f"{li}:retrieve") for rd in rounds])
            out[li][f"ratio_ours_{m}_over_li_retrieve_paired_median"] = med(
                [paired(rd, f"ours:{m}", f"{li}:retrieve") for rd in rounds])
        out[li]["ratio_ours_floor_over_li_floor_p50"] = med(
            [p50(rd, "ours:floor") / p50(rd, f"{li}:floor") for rd in rounds])
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("-n", type=int, default=300, help="XQuAD questions sampled (seed 0); 0 means all.")
    ap.add_argument("--li-python", default=DEFAULT_LI_PYTHON)
    ap.add_argument("--threads", type=int, default=0,
                    help="OMP_NUM_THREADS for every worker, i.e. torch's intra-op threads (0 keeps the default).")
    ap.add_argument("--worker", choices=["ours"], help=argparse.SUPPRESS)
    ap.add_argument("--out", default="llamaindex_compare")
    ap.add_argument("--smoke", action="store_true",
                    help="The seed article, 1 round, 2 questions, nothing written (skipped without --li-python).")
    args = ap.parse_args()
    if args.smoke:
        from api_latency import QUESTIONS

        corpus: Corpus | None = seed_corpus(QUESTIONS)
        args.rounds, args.n = 1, 2
    else:
        corpus = load_corpus_or_skip()
    if corpus is None:
        return 0
    if args.worker == "ours":
        return ours_worker(corpus)
    reason = li_available(args.li_python)
    if reason:
        print(f"skipped: LlamaIndex unavailable: {reason}", file=sys.stderr)
        if not args.smoke:
            write_results(args.out, {"benchmark": "llamaindex_compare", "skipped": reason,
                                     "machine": machine_state()})
        return 0

    before = machine_state()
    questions = sample_questions(corpus.xquad_questions, args.n)
    rounds: list[dict[str, Any]] = []
    env = dict(os.environ) | ({"OMP_NUM_THREADS": str(args.threads)} if args.threads else {})
    with tempfile.TemporaryDirectory(prefix="bench-li-") as tmp:
        src = Path(tmp) / "input.json"
        # LlamaIndex gets each article's body: exactly what our index chunks when index_faq=False.
        src.write_text(json.dumps({"documents": [{"id": a.doc_id, "text": a.body} for a in corpus.articles]}))
        li_cmd = [args.li_python, str(HERE / "llamaindex_worker.py"), str(src)]
        jobs: list[tuple[str, list[str], tuple[str, ...]]] = [
            (f"llamaindex_{size}_{overlap}", [*li_cmd, str(size), str(overlap)], LI_MODES)
            for size, overlap in LI_CONFIGS
        ]
        ours_cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", "ours", *(["--smoke"] * args.smoke)]
        jobs.insert(1, ("ours", ours_cmd, OURS_MODES))
        for r in range(1, args.rounds + 1):
            rounds.append(run_round(r, jobs if r % 2 else jobs[::-1], questions, Path(tmp), env))

    summary = summarise(rounds)
    result: dict[str, Any] = {
        "benchmark": "llamaindex_compare",
        "machine_before": before,
        "machine_after": machine_state(),
        "corpus": corpus.describe(),
        "questions": len(questions),
        "sample_seed": 0,
        "top_k": TOP_K,
        "omp_num_threads": args.threads or None,
        "rounds": [{"workers": rd["workers"], "loadavg_1m_after": rd["loadavg_1m_after"],
                    "latency": {k: summary_ms(v) for k, v in rd["latency_s"].items()}} for rd in rounds],
        "summary": summary,
    }
    print(json.dumps(summary, indent=2))
    if args.smoke:
        print("smoke: ok", file=sys.stderr)
        return 0
    path = write_results(args.out, result)
    print(f"load {before['loadavg']} -> {result['machine_after']['loadavg']}; wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

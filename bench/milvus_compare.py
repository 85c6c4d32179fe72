"""The FAISS store and the Milvus store side by side: ingest time, index bytes per chunk, query latency.

.venv/bin/python bench/milvus_compare.py                 # 200 XQuAD questions, embedded Milvus Lite
.venv/bin/python bench/milvus_compare.py --uri http://127.0.0.1:19530   # a Milvus server instead (it must be up)
.venv/bin/python bench/milvus_compare.py --smoke         # seconds: the seed article, 3 questions, nothing written

Both indexes are built from the XQuAD articles with the same loaded model (its load time is left out); each
question is asked of both stores in alternating order (``search`` and ``answer``), so load spikes from other
jobs hit them alike. Bytes per chunk: the FAISS generation folder, and the Milvus Lite data file (Lite only).
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from corpus import load_corpus_or_skip, sample_questions, seed_corpus
from measure import Timer, machine_state, ratio, summary_ms, torch_threads, write_results

TOP_K = 5
WARMUP = 10


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=200, help="Questions sampled (seed 0); 0 means all.")
    ap.add_argument("--uri", default="", help="Milvus URI (default: Milvus Lite in a temporary folder).")
    ap.add_argument("--out", default="milvus_compare", help="Result name under bench/results/ (without .json).")
    ap.add_argument("--smoke", action="store_true",
                    help="The seed article and 3 of its questions on Milvus Lite (or --uri), nothing written.")
    args = ap.parse_args()
    needed = ("pymilvus",) if args.uri else ("pymilvus", "milvus_lite")
    missing = [m for m in needed if importlib.util.find_spec(m) is None]
    if missing:
        print(f"skipped: {', '.join(missing)} not installed (pip install -e '.[milvus]')", file=sys.stderr)
        return 0
    if args.smoke:
        from api_latency import QUESTIONS

        corpus = seed_corpus(QUESTIONS)
        args.n = 3
    else:
        corpus = load_corpus_or_skip()
    if corpus is None:
        return 0
    questions = sample_questions(corpus.xquad_questions, args.n)
    before = machine_state()

    from rag.models.embedding import SentenceTransformerEmbedder
    from rag.pipeline import Pipeline
    from rag.settings import Settings

    embedder = SentenceTransformerEmbedder()
    embedder.embed(["warm up"])
    with tempfile.TemporaryDirectory(prefix="bench-milvus-") as tmp:
        base = {"index_dir": Path(tmp) / "index", "index_faq": False, "top_k": TOP_K}
        lite = Path(tmp) / "lite.db"
        stores = {
            "faiss": Settings(**base),
            "milvus": Settings(**base, store="milvus", milvus_uri=args.uri or str(lite),
                               milvus_prefix="bench_compare_"),
        }
        pipelines: dict[str, Any] = {}
        ingest: dict[str, Any] = {}
        for name, settings in stores.items():
            p = Pipeline(settings, embedder)
            with Timer() as t:
                report = p.update(upsert=corpus.xquad_articles, rebuild=True)
            p.snapshot  # noqa: B018 - load before timing queries
            pipelines[name] = p
            ingest[name] = {"seconds": round(t.seconds, 3), "chunks": report.total_chunks,
                            "articles": len(corpus.xquad_articles)}
        gen = pipelines["faiss"].snapshot.path
        ingest["faiss"]["bytes"] = folder_bytes(gen)
        if not args.uri:
            ingest["milvus"]["bytes"] = folder_bytes(Path(tmp)) - folder_bytes(Path(tmp) / "index")
        for v in ingest.values():
            if "bytes" in v:
                v["bytes_per_chunk"] = round(v["bytes"] / v["chunks"])

        for q in questions[:WARMUP]:
            for p in pipelines.values():
                p.answer(q)
        variants = [(s, op) for s in pipelines for op in ("search", "answer")]
        times: dict[str, list[float]] = {f"{s}_{op}": [] for s, op in variants}
        stages: dict[str, dict[str, list[float]]] = {s: {} for s in pipelines}
        same_top = 0
        for i, q in enumerate(questions):
            order = variants[i % len(variants):] + variants[: i % len(variants)]
            tops: dict[str, Any] = {}
            for s, op in order:
                t0 = time.perf_counter()
                out = getattr(pipelines[s], op)(q)
                times[f"{s}_{op}"].append(time.perf_counter() - t0)
                if op == "answer":
                    for k, v in out.timings_ms.items():
                        stages[s].setdefault(k, []).append(v)
                else:
                    tops[s] = out[0].chunk.text if out else None
            same_top += tops["faiss"] == tops["milvus"]
        if not args.uri:
            pipelines["milvus"].index.store.drop()

    stats = {n: summary_ms(v) for n, v in times.items()}
    result: dict[str, Any] = {
        "benchmark": "milvus_compare",
        "machine_before": before,
        "machine_after": machine_state(),
        "torch_threads": torch_threads(),
        "milvus": args.uri or "Milvus Lite (embedded, temporary file)",
        "questions": len(questions),
        "sample_seed": 0,
        "top_k": TOP_K,
        "ingest": ingest,
        "latency": stats,
        "answer_stage_p50_ms": {s: {k: round(statistics.median(x), 3) for k, x in d.items()}
                                for s, d in stages.items()},
        "milvus_over_faiss_p50": {op: ratio(stats[f"milvus_{op}"]["p50_ms"], stats[f"faiss_{op}"]["p50_ms"])
                                  for op in ("search", "answer")},
        "same_top_passage": round(same_top / max(len(questions), 1), 4),
    }
    path = None if args.smoke else write_results(args.out, result)
    for name, v in ingest.items():
        print(f"ingest {name:7s} {v['seconds']:8.1f} s  {v['chunks']} chunks  {v.get('bytes_per_chunk', '-')} B/chunk")
    for n, s in stats.items():
        print(f"  {n:15s} p50 {s['p50_ms']:8.2f} ms   p95 {s['p95_ms']:8.2f} ms")
    print(f"same top passage: {result['same_top_passage']}; load {before['loadavg']} -> "
          f"{result['machine_after']['loadavg']}; wrote {path or 'nothing'}")
    if args.smoke:
        print("smoke: ok", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

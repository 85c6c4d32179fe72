"""Query latency on the XQuAD index: hybrid+rerank vs dense-only vs the floor (one embed + one FAISS search).

.venv/bin/python bench/query.py            # 300 sampled XQuAD questions, writes bench/results/query.json
.venv/bin/python bench/query.py -n 0       # all 1190 questions
.venv/bin/python bench/query.py --threads 1 --out query-threads1   # one intra-op thread
.venv/bin/python bench/query.py --blas-threads 0 --out query-blas-uncapped  # leave the BLAS pools uncapped
.venv/bin/python bench/query.py --smoke    # seconds: the seed article's index and 3 of its questions, nothing written

Every question runs through five variants in a rotating order, so load spikes from other jobs hit them
alike: the floor, ``search`` and ``answer`` with the default settings (hybrid + rerank), and ``search`` and
``answer`` with ``Settings(retrieval="dense", rerank=False)``. Ratios are of p50s measured in this one run,
plus the median of per-question ratios (paired, so robust to load that drifts during the run).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from corpus import load_corpus_or_skip, sample_questions, seed_corpus
from measure import Timer, machine_state, ratio, set_torch_threads, summary_ms, torch_threads, write_results

TOP_K = 5
WARMUP = 10


def build_variants(index_dir: Path, embedder: Any, blas_threads: int) -> dict[str, Callable[[str], Any]]:
    """The five things timed per question, keyed by name."""
    from rag.pipeline import Pipeline
    from rag.settings import Settings

    base = {"index_dir": index_dir, "index_faq": False, "top_k": TOP_K, "blas_threads": blas_threads}
    hybrid = Pipeline(Settings(**base), embedder)
    dense = Pipeline(Settings(**base, retrieval="dense", rerank=False), embedder)
    index = hybrid.loaded.retriever.dense  # loads (and checks) the index before any timing
    dense.snapshot  # noqa: B018  (same: load outside the timed loop)
    k = min(TOP_K, index.snap.chunk_rows.live)

    def floor(q: str) -> Any:
        return index.search(embedder.embed([q])[0], k)

    return {
        "floor": floor,
        "search_hybrid": hybrid.search,
        "answer_hybrid": hybrid.answer,
        "search_dense": dense.search,
        "answer_dense": dense.answer,
    }


def _threadpools() -> list[dict[str, Any]]:
    """Each loaded BLAS/OpenMP library and its thread count (what actually ran)."""
    from threadpoolctl import threadpool_info

    return [{k: i.get(k) for k in ("internal_api", "num_threads", "threading_layer", "prefix")}
            for i in threadpool_info()]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=300, help="Questions sampled (seed 0); 0 means all.")
    ap.add_argument("--out", default="query", help="Result name under bench/results/ (without .json).")
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0 keeps torch's default).")
    ap.add_argument("--blas-threads", type=int, default=1,
                    help="Settings.blas_threads: cap numpy's/faiss's BLAS pools (0 leaves them alone).")
    ap.add_argument("--smoke", action="store_true", help="The seed article and 3 of its questions, nothing written.")
    args = ap.parse_args()
    set_torch_threads(args.threads)
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
    with tempfile.TemporaryDirectory(prefix="bench-query-") as tmp:
        index_dir = Path(tmp) / "index"
        with Timer() as t_index:
            build = Settings(index_dir=index_dir, index_faq=False, blas_threads=args.blas_threads)
            report = Pipeline(build, embedder).update(upsert=corpus.xquad_articles)
        variants = build_variants(index_dir, embedder, args.blas_threads)
        names = list(variants)
        for q in questions[:WARMUP]:
            for fn in variants.values():
                fn(q)
        times: dict[str, list[float]] = {n: [] for n in names}
        stage_ms: dict[str, dict[str, list[float]]] = {"answer_hybrid": {}, "answer_dense": {}}
        for i, q in enumerate(questions):
            for name in names[i % len(names):] + names[: i % len(names)]:
                t0 = time.perf_counter()
                out = variants[name](q)
                times[name].append(time.perf_counter() - t0)
                if name in stage_ms:
                    for k, v in out.timings_ms.items():
                        stage_ms[name].setdefault(k, []).append(v)

    stats = {n: summary_ms(v) for n, v in times.items()}

    def p50(n: str) -> float:
        return stats[n]["p50_ms"]

    def paired(a: str, b: str) -> float:
        return round(statistics.median(x / y for x, y in zip(times[a], times[b], strict=True)), 3)

    ratios = {
        "answer_hybrid_over_dense_p50": ratio(p50("answer_hybrid"), p50("answer_dense")),
        "answer_hybrid_over_dense_p95": ratio(stats["answer_hybrid"]["p95_ms"], stats["answer_dense"]["p95_ms"]),
        "answer_hybrid_over_dense_paired_median": paired("answer_hybrid", "answer_dense"),
        "search_hybrid_over_dense_p50": ratio(p50("search_hybrid"), p50("search_dense")),
        "search_hybrid_over_dense_p95": ratio(stats["search_hybrid"]["p95_ms"], stats["search_dense"]["p95_ms"]),
        "search_hybrid_over_dense_paired_median": paired("search_hybrid", "search_dense"),
        "answer_hybrid_over_floor_p50": ratio(p50("answer_hybrid"), p50("floor")),
        "search_hybrid_over_floor_p50": ratio(p50("search_hybrid"), p50("floor")),
        "answer_dense_over_floor_p50": ratio(p50("answer_dense"), p50("floor")),
        "search_dense_over_floor_p50": ratio(p50("search_dense"), p50("floor")),
    }
    result: dict[str, Any] = {
        "benchmark": "query",
        "machine_before": before,
        "machine_after": machine_state(),
        "torch_threads": torch_threads(),
        "blas_threads": args.blas_threads or None,
        "threadpools": _threadpools(),
        "index": {"articles": len(corpus.xquad_articles), "chunks": report.total_chunks,
                  "build_s": round(t_index.seconds, 3)},
        "questions": len(questions),
        "sample_seed": 0,
        "top_k": TOP_K,
        "latency": stats,
        "answer_stage_p50_ms": {
            v: {k: round(statistics.median(xs), 3) for k, xs in d.items()} for v, d in stage_ms.items()
        },
        "ratios": ratios,
        "requirement_hybrid_over_dense_max": 2.0,
    }
    path = None if args.smoke else write_results(args.out, result)
    print(f"{len(questions)} questions, index of {report.total_chunks} chunks, top_k {TOP_K}")
    for n, s in stats.items():
        print(f"  {n:14s} p50 {s['p50_ms']:8.2f} ms   p95 {s['p95_ms']:8.2f} ms   mean {s['mean_ms']:8.2f} ms")
    for k, v in ratios.items():
        print(f"  {k:42s} {v}x")
    print(f"  answer stages p50 ms: {result['answer_stage_p50_ms']}")
    print(f"load {before['loadavg']} -> {result['machine_after']['loadavg']}; wrote {path or 'nothing'}")
    if args.smoke:
        print("smoke: ok", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

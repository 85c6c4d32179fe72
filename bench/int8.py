"""The int8 embedding path against float32: ingest, one question's embedding, and one whole ``answer()``.

.venv/bin/python bench/int8.py                 # 2 ingest rounds, 200 questions; writes bench/results/int8.json
.venv/bin/python bench/int8.py --rounds 1 -n 100
.venv/bin/python bench/int8.py --smoke         # seconds: the script itself, on the seed article

Both models are loaded first (the bundled all-MiniLM-L6-v2, and the same weights with every linear layer
quantised dynamically to int8, ``RAG_EMBEDDING_PRECISION=int8``). Then, in one process and in a rotating order so
that load from other jobs falls on both alike:

- **ingest**: ``Pipeline.update`` over the benchmark corpus (seeds, XQuAD, FairytaleQA validation; no FAQ chunks),
  each precision into its own fresh index, per round; wall and process CPU time;
- **one question**: ``embed_with_tokens([question])``, what a query costs the model, for each sampled XQuAD
  question at both precisions, one after the other;
- **answer()**: the default ``answer()`` over each precision's own index, for the same questions.

Ratios are float32 / int8 (above 1: int8 is faster), as ratios of medians and as the median of per-question ratios.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from corpus import load_corpus_or_skip, sample_questions
from measure import Timer, machine_state, percentile, ratio, set_torch_threads, torch_threads, write_results

PRECISIONS = ("float32", "int8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("-n", type=int, default=200, help="XQuAD questions (seed 0).")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default).")
    ap.add_argument("--out", default="int8")
    ap.add_argument("--smoke", action="store_true", help="The seed article and 3 questions, nothing written.")
    args = ap.parse_args()

    if args.smoke:
        from api_latency import QUESTIONS
        from corpus import SEEDS, Corpus

        from rag.ingest.loaders import load_paths

        corpus: Corpus | None = Corpus(tuple(load_paths([SEEDS])), (), QUESTIONS[:3])
        args.rounds, args.n = 1, 3
    else:
        corpus = load_corpus_or_skip()
    if corpus is None:
        return 0
    set_torch_threads(args.threads)
    from rag.models.embedding import SentenceTransformerEmbedder
    from rag.pipeline import Pipeline
    from rag.settings import Settings

    before = machine_state()
    load_s: dict[str, float] = {}
    models: dict[str, SentenceTransformerEmbedder] = {}
    for p in PRECISIONS:
        t0 = time.perf_counter()
        models[p] = SentenceTransformerEmbedder(precision=p)
        models[p].embed(["warm up"])
        load_s[p] = round(time.perf_counter() - t0, 3)

    tmp = Path(tempfile.mkdtemp(prefix="rag-bench-int8-"))
    ingest: list[dict[str, Any]] = []
    pipelines: dict[str, Pipeline] = {}
    for r in range(args.rounds):
        row: dict[str, Any] = {}
        for p in PRECISIONS[r % 2:] + PRECISIONS[: r % 2]:
            settings = Settings(index_dir=tmp / f"{p}-{r}" / "index", index_faq=False,
                                embedding_precision=p)  # type: ignore[arg-type]
            pipeline = Pipeline(settings, models[p])
            with Timer() as t:
                report = pipeline.update(upsert=corpus.articles)
            row[p] = {"wall_s": round(t.seconds, 3), "cpu_s": round(t.cpu_seconds, 3), "chunks": report.total_chunks}
            pipelines[p] = pipeline
            print(f"round {r + 1} ingest {p}: {t.seconds:.1f} s wall, {t.cpu_seconds:.1f} s CPU", file=sys.stderr)
        row["wall_ratio"] = ratio(row["float32"]["wall_s"], row["int8"]["wall_s"])
        row["cpu_ratio"] = ratio(row["float32"]["cpu_s"], row["int8"]["cpu_s"])
        ingest.append(row)

    questions = sample_questions(corpus.xquad_questions, args.n)
    embed: dict[str, list[float]] = {p: [] for p in PRECISIONS}
    answer: dict[str, list[float]] = {p: [] for p in PRECISIONS}
    for p in PRECISIONS:  # untimed: first calls are slow
        pipelines[p].answer(questions[0])
    for i, q in enumerate(questions):
        for p in PRECISIONS[i % 2:] + PRECISIONS[: i % 2]:
            t0 = time.perf_counter()
            models[p].embed_with_tokens([q])
            embed[p].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            pipelines[p].answer(q)
            answer[p].append(time.perf_counter() - t0)

    def stats(values: list[float]) -> dict[str, float]:
        ms = [v * 1e3 for v in values]
        return {"p50_ms": round(percentile(ms, 50), 3), "p95_ms": round(percentile(ms, 95), 3),
                "mean_ms": round(statistics.fmean(ms), 3)}

    def paired(series: dict[str, list[float]]) -> dict[str, Any]:
        a, b = series["float32"], series["int8"]
        return {**{p: stats(series[p]) for p in PRECISIONS},
                "p50_ratio": ratio(percentile(a, 50), percentile(b, 50)),
                "median_paired_ratio": round(statistics.median(x / y for x, y in zip(a, b, strict=True)), 3)}

    summary = {
        "ingest_wall_ratio_median": round(statistics.median(r["wall_ratio"] for r in ingest), 3),
        "ingest_cpu_ratio_median": round(statistics.median(r["cpu_ratio"] for r in ingest), 3),
        "embed_one_question": paired(embed),
        "answer": paired(answer),
    }
    payload = {"command": " ".join(["bench/int8.py", *sys.argv[1:]]), "corpus": corpus.describe(),
               "questions": len(questions), "model_load_s": load_s, "torch_threads": torch_threads(),
               "ingest_rounds": ingest, "summary": summary, "machine_before": before, "machine_after": machine_state()}
    print(summary, file=sys.stderr)
    if args.smoke:
        print("smoke: ok", file=sys.stderr)
    else:
        print(f"wrote {write_results(args.out, payload)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

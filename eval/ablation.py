"""The ablation: the harness under each retrieval, answering and chunking variant, as a markdown table with CIs.

``python -m eval.ablation`` runs every row on XQuAD and FairytaleQA through the same ``evaluate()`` as
``rag eval`` (a fresh index per run, memoised embeddings per run; only the loaded model is shared), writes
each run's usual output folder and prints the table. ``--reuse`` re-renders from folders already written.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rag.protocols import Embedder
    from rag.settings import Settings


@dataclass(frozen=True)
class Row:
    """One ablation row: a label and the settings it changes from the defaults."""

    label: str
    slug: str
    overrides: dict[str, Any] = field(default_factory=dict)


NO_MMR = {"mmr_lambda": 1.0}
#: Each row names every setting it depends on, so the table means the same whatever the defaults are;
#: rows whose effective settings coincide share one run, and the one equal to the defaults is marked.
#: The rerank without its token-alignment signal (rows before it is added).
NO_ALIGN_RERANK = {"rerank_alignment_weight": 0.0}
#: The rerank reading each sentence alone (rows before the sentence-pair row).
ALONE = {"rerank_with_previous": False}
ROWS = (
    Row("dense only", "dense", {"retrieval": "dense", "rerank": False, **NO_MMR}),
    Row("dense only, chunk vectors encoded by the model", "dense-encoded",
        {"retrieval": "dense", "rerank": False, "chunk_vectors": "encoded", **NO_MMR}),
    Row("BM25 only", "bm25", {"retrieval": "bm25", "rerank": False, **NO_MMR}),
    Row("hybrid, RRF k=60, equal weights", "hybrid-rrf", {"fusion": "rrf", "rerank": False, **NO_MMR}),
    Row("hybrid, z-score fusion", "hybrid-zscore", {"fusion": "zscore", "rerank": False, **NO_MMR}),
    Row("+ sentence rerank (cosine, BM25)", "rerank-sentence",
        {"fusion": "zscore", "rerank": True, "rerank_coverage_weight": 0.0, **NO_ALIGN_RERANK, **ALONE, **NO_MMR}),
    Row("+ term coverage in the rerank", "rerank-coverage",
        {"fusion": "zscore", "rerank": True, "rerank_coverage_weight": 1.0, **NO_ALIGN_RERANK, **ALONE, **NO_MMR}),
    Row("+ token alignment in the rerank", "rerank-alignment",
        {"fusion": "zscore", "rerank": True, "rerank_coverage_weight": 1.0, "rerank_alignment_weight": 1.0,
         **ALONE, **NO_MMR}),
    Row("+ each sentence read with the one before it in the rerank", "rerank",
        {"fusion": "zscore", "rerank": True, "rerank_coverage_weight": 1.0, "rerank_alignment_weight": 1.0,
         "rerank_with_previous": True, **NO_MMR}),
    Row("+ MMR λ=0.7", "mmr", {"fusion": "zscore", "rerank": True, "rerank_coverage_weight": 1.0,
                              "rerank_alignment_weight": 1.0, "rerank_with_previous": True, "mmr_lambda": 0.7}),
    Row("shipped default, answer picked without token alignment", "no-answer-alignment",
        {"answer_alignment_weight": 0.0}),
    Row("shipped default, answer picked without term coverage", "no-answer-coverage", {"answer_coverage_weight": 0.0}),
    Row("shipped default, short answers without the embedding re-rank", "no-short-rerank",
        {"short_answer_rerank": False}),
    Row("shipped default, chunks 128/32", "chunks-128", {"chunk_tokens": 128, "chunk_overlap": 32}),
    Row("shipped default, chunks 200/40", "chunks-200", {"chunk_tokens": 200, "chunk_overlap": 40}),
    Row("shipped default, chunks 256/64", "default", {"chunk_tokens": 256, "chunk_overlap": 64}),
    Row("shipped default + title header", "title-header", {"title_header": True}),
    Row("shipped default, chunk vectors encoded by the model", "chunks-encoded", {"chunk_vectors": "encoded"}),
)
DATASETS = ("xquad", "fairytaleqa")
K = 5
COLUMNS = (f"answer_hit@{K}", f"mrr@{K}", f"doc_hit@{K}", "first_sentence_contains", "short_f1", "latency_p50_ms")


def settings_for(row: Row) -> Settings:
    """The configured settings (the defaults, in a clean environment) with the row's overrides."""
    from rag.cli import load_settings

    return load_settings(**row.overrides)


def settings_key(settings: Settings) -> str:
    """What a run depends on: every setting but the index location."""
    return json.dumps({k: v for k, v in settings.flat("json").items() if k != "index_dir"}, sort_keys=True)


def run_row(settings: Settings, dataset: str, out: Path, data_dir: Path | None, embedder: Embedder
            ) -> dict[str, Any]:
    """One harness run with these settings; writes ``out`` like ``rag eval --out`` and returns the summary."""
    from eval import datasets
    from eval.report import write_all
    from eval.runner import evaluate

    summary, rows = evaluate(datasets.load(dataset, data_dir), settings, k=K, embedder=embedder, progress=False)
    write_all(out, summary, rows)
    return summary


def cell(summary: dict[str, Any], metric: str) -> str:
    """``mean [lo, hi]`` (latency in ms with one decimal)."""
    v = summary["metrics"].get(metric)
    if v is None or v["mean"] is None:
        return "–"
    fmt = "{:.1f}" if metric.startswith("latency") else "{:.3f}"
    lo, hi = v["ci95"]
    return f"{fmt.format(v['mean'])} [{fmt.format(lo)}, {fmt.format(hi)}]"


def table(summaries: dict[tuple[str, str], dict[str, Any]], rows: tuple[Row, ...] = ROWS,
          shipped: frozenset[str] = frozenset()) -> str:
    """One markdown table per dataset: a line per row (keyed by slug), a column per metric (mean and 95% CI)."""
    parts: list[str] = []
    for ds in DATASETS:
        heads = [c.replace("_ms", " (ms)") for c in COLUMNS]
        lines = [f"**{ds}** (k = {K}; mean [95% CI])", "", "| row | " + " | ".join(heads) + " |",
                 "|---|" + "---|" * len(COLUMNS)]
        for row in rows:
            s = summaries.get((row.slug, ds))
            if s is not None:
                label = f"**{row.label}** (shipped default)" if row.slug in shipped else row.label
                lines.append(f"| {label} | " + " | ".join(cell(s, c) for c in COLUMNS) + " |")
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.ablation", description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=Path("eval/runs/ablation"), help="one folder per run: <row>-<dataset>")
    p.add_argument("--data-dir", type=Path, default=None, help="folder holding xquad/ and fairytaleqa/")
    p.add_argument("--reuse", action="store_true", help="skip runs whose summary.json already exists")
    p.add_argument("--table", type=Path, default=None, help="also write the markdown table to this file")
    args = p.parse_args(argv)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as rag eval: idle threads sleep on a busy machine
    env = sorted(k for k in os.environ if k.startswith("RAG_") and k != "RAG_EVAL_DATA")
    if env:
        print(f"note: {', '.join(env)} set: every row starts from them, not from the defaults", file=sys.stderr)

    from rag.cli import load_settings

    default_key = settings_key(load_settings())
    embedder: Embedder | None = None
    summaries: dict[tuple[str, str], dict[str, Any]] = {}
    by_key: dict[tuple[str, str], dict[str, Any]] = {}  # rows with the same effective settings share a run
    shipped: set[str] = set()
    for row in ROWS:
        settings = settings_for(row)
        key = settings_key(settings)
        if key == default_key:
            shipped.add(row.slug)
        for ds in DATASETS:
            if (key, ds) in by_key:
                summaries[row.slug, ds] = by_key[key, ds]
                continue
            folder = args.out / f"{row.slug}-{ds}"
            if args.reuse and (folder / "summary.json").is_file():
                summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
            else:
                if embedder is None:
                    from rag.pipeline import Pipeline

                    embedder = Pipeline(settings).embedder  # loaded once; each run caches on its own
                t = time.perf_counter()
                summary = run_row(settings, ds, folder, args.data_dir, embedder)
                print(f"{row.slug}-{ds}: {time.perf_counter() - t:.0f} s", file=sys.stderr)
            summaries[row.slug, ds] = by_key[key, ds] = summary
    text = table(summaries, shipped=frozenset(shipped))
    if args.table is not None:
        args.table.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Each benchmark script's ``--smoke`` mode end to end, so that the scripts keep running as the code under them
changes: exit code 0, the script's ``smoke:`` line (or its ``skipped:`` line when an optional dependency is
absent), and nothing written or rewritten under ``bench/results/``."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from tests.paths import ROOT

pytestmark = [pytest.mark.integration, pytest.mark.slow]

RESULTS = ROOT / "bench" / "results"
LLAMAINDEX_PYTHON = Path("/tmp/li-venv/bin/python")  # bench/llamaindex_compare.py's default --li-python


def results_files() -> dict[str, tuple[int, int]]:
    """Every file under bench/results/ with its modification time and size."""
    return {str(p.relative_to(RESULTS)): (p.stat().st_mtime_ns, p.stat().st_size)
            for p in RESULTS.rglob("*") if p.is_file()}


def smoke(script: str) -> subprocess.CompletedProcess[str]:
    """``bench/<script> --smoke`` from the repository root; it must exit 0 and leave bench/results/ as it was."""
    before = results_files()
    r = subprocess.run([sys.executable, f"bench/{script}", "--smoke"], cwd=ROOT, capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    assert results_files() == before, "a smoke run wrote under bench/results/"
    return r


def test_int8_benchmark_smoke() -> None:
    """bench/int8.py on the seed article: both precisions ingest and answer."""
    r = smoke("int8.py")
    assert "'answer'" in r.stderr and "ingest_wall_ratio_median" in r.stderr and "smoke: ok" in r.stderr


def test_load_benchmark_smoke() -> None:
    """bench/load.py on the seed index: a real server, 1 and 4 clients, a few requests, no errors."""
    r = smoke("load.py")
    assert "smoke: 0 errors" in r.stderr


def test_coldstart_benchmark_smoke() -> None:
    """bench/coldstart.py: a cold ``ask``, a cold ``rag serve`` up to /readyz, a cold import."""
    r = smoke("coldstart.py")
    assert "smoke: ok" in r.stderr and "serve_readyz" in r.stderr


def test_scale_benchmark_smoke() -> None:
    """bench/scale.py: a synthetic index in HNSW segments, measured in a fresh process, searched, written to."""
    r = smoke("scale.py")
    assert "smoke: ok (300 chunks" in r.stderr and "'hnsw'" in r.stderr
    assert '"add_one_document_ms"' in r.stderr and '"recall_at_10"' in r.stderr


def test_query_benchmark_smoke() -> None:
    """bench/query.py on the seed index: the floor, search and answer, hybrid and dense."""
    r = smoke("query.py")
    assert "smoke: ok" in r.stderr
    for variant in ("floor", "search_hybrid", "answer_hybrid", "search_dense", "answer_dense"):
        assert variant in r.stdout


def test_ingest_benchmark_smoke() -> None:
    """bench/ingest.py on the seed article: our ingest against the bare encoder, stage by stage."""
    r = smoke("ingest.py")
    assert "smoke: ok" in r.stderr and "ours/floor(chunks)" in r.stdout and "'chunking'" in r.stdout


def test_milvus_compare_benchmark_smoke() -> None:
    """bench/milvus_compare.py on the seed article with Milvus Lite, or its skip line without the Milvus extra."""
    r = smoke("milvus_compare.py")
    if all(importlib.util.find_spec(m) for m in ("pymilvus", "milvus_lite")):
        assert "smoke: ok" in r.stderr and "ingest milvus" in r.stdout and "milvus_answer" in r.stdout
    else:
        assert "skipped:" in r.stderr and "smoke:" not in r.stderr


def test_llamaindex_compare_benchmark_smoke() -> None:
    """bench/llamaindex_compare.py on the seed article, or its skip line without the LlamaIndex venv."""
    r = smoke("llamaindex_compare.py")
    if LLAMAINDEX_PYTHON.exists():
        assert "smoke: ok" in r.stderr
    else:
        assert "skipped: LlamaIndex unavailable" in r.stderr and "smoke:" not in r.stderr


def test_api_latency_benchmark_smoke() -> None:
    """bench/api_latency.py against a rag serve of its own on the seed index."""
    r = smoke("api_latency.py")
    assert "smoke: ok" in r.stderr and "client p50" in r.stdout and "server p50" in r.stdout

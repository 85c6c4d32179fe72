"""Timing helpers shared by the benchmarks: percentiles, machine state, result files."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"
RAG_SOURCES = Path(__file__).resolve().parent.parent / "rag"


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100), as in ``bench/api_latency.py``."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))]


def summary_ms(seconds: Sequence[float]) -> dict[str, float]:
    """p50 / p95 / mean / max of a list of durations, in milliseconds."""
    ms = [s * 1e3 for s in seconds]
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 3),
        "p95_ms": round(percentile(ms, 95), 3),
        "mean_ms": round(statistics.fmean(ms), 3),
        "max_ms": round(max(ms), 3),
    }


def ratio(a: float, b: float) -> float:
    return round(a / b, 3) if b else float("nan")


def machine_state() -> dict[str, Any]:
    """Date, load average, `uptime` and core count: the context every number must be read in."""
    try:
        uptime = subprocess.run(["uptime"], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        uptime = ""
    load1, load5, load15 = os.getloadavg()
    return {
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "uptime": uptime,
        "loadavg": [round(load1, 2), round(load5, 2), round(load15, 2)],
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "rag_sources_sha256": rag_fingerprint(),
    }


def rag_fingerprint() -> str:
    """sha256 (first 12 hex) of the ``rag/*.py`` sources measured: rag/ changes under us while we run."""
    h = hashlib.sha256()
    for path in sorted(RAG_SOURCES.glob("*.py")):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:12]


def set_torch_threads(n: int) -> None:
    """``torch.set_num_threads(n)``; 0 keeps torch's default."""
    if n:
        import torch

        torch.set_num_threads(n)


def torch_threads() -> int:
    import torch

    return int(torch.get_num_threads())


def write_results(name: str, payload: dict[str, Any]) -> Path:
    """Write ``bench/results/<name>.json`` (small, sorted, commit-worthy)."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")
    return path


class Timer:
    """``with Timer() as t: ...`` then ``t.seconds`` (wall) and ``t.cpu_seconds`` (this process, all threads).

    CPU time barely moves when other jobs share the cores, so its ratios are the steadier ones here.
    """

    def __enter__(self) -> Timer:
        self._t0, self._c0 = time.perf_counter(), time.process_time()
        self.seconds = self.cpu_seconds = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self._t0
        self.cpu_seconds = time.process_time() - self._c0

"""One call from a dataset to scored rows and a summary: harness, then scoring, then the summary dict."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from eval import harness
from eval.report import build_summary
from eval.scoring import Scored, score_run

if TYPE_CHECKING:
    from eval.datasets import Dataset
    from rag.protocols import Embedder
    from rag.settings import Settings


def evaluate(
    ds: Dataset,
    settings: Settings,
    *,
    k: int,
    with_faq: bool = False,
    embedder: Embedder | None = None,
    cache: bool = True,
    progress: bool = True,
) -> tuple[dict[str, Any], list[Scored]]:
    """Index, check leakage, ask every question, score; the summary's timings cover all of it."""
    t0 = time.perf_counter()
    run = harness.run(ds, settings, k=k, with_faq=with_faq, embedder=embedder, cache=cache, progress=progress)
    t1 = time.perf_counter()
    rows = score_run(run)
    run.timings["score_s"] = time.perf_counter() - t1
    run.timings["total_s"] = time.perf_counter() - t0
    summary = build_summary(run, rows)
    return summary, rows

"""Side by side: eval runs of the extractive and the LLM answerer (``python -m eval.answerers LABEL=summary.json ...``).

Reads each run's ``summary.json`` and prints one markdown table: answer quality, citation recall and precision as
shown and as the LLM first wrote them (judged by the citation verifier, see ``eval.citations``), the share of the
LLM's sentences dropped, the fallback rate and the real (uncached) latency.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

#: (column, metric in summary["metrics"] or summary["answerers"]["metrics"]); then "dropped (pooled)" from
#: summary["answerers"] and the latency.
COLUMNS = (
    ("semantic sim.", "semantic_similarity"),
    ("SQuAD F1", "f1"),
    ("contains answer", "contains_answer"),
    ("abstained", "abstained"),
    ("citation recall", "citation_recall"),
    ("citation precision", "citation_precision"),
    ("raw citation recall", "raw_citation_recall"),
    ("raw citation precision", "raw_citation_precision"),
    ("raw sentences with a marker", "raw_marked_share"),
    ("fallback", "fallback"),
)


def load(path: Path) -> dict[str, Any]:
    """A run's summary (a run folder or its summary.json)."""
    path = path / "summary.json" if path.is_dir() else path
    summary: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return summary


def _cell(metric: dict[str, Any] | None, ci: bool = True) -> str:
    if metric is None or metric.get("mean") is None:
        return "–"
    lo, hi = metric["ci95"]
    return f"{metric['mean']:.3f}" + (f" [{lo:.3f}, {hi:.3f}]" if ci and lo is not None else "")


def table(runs: Sequence[tuple[str, dict[str, Any]]]) -> str:
    """One row per run: the columns above, then dropped share (pooled) and latency p50 / p95 in seconds."""
    head = ["run", "questions", *(c for c, _ in COLUMNS), "dropped (pooled)", "latency p50 / p95 (s)"]
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    for label, s in runs:
        m = {**s["metrics"], **s.get("answerers", {}).get("metrics", {})}
        cells = [label, str(s["questions"])] + [_cell(m.get(name)) for _, name in COLUMNS]
        pooled = s.get("answerers", {}).get("dropped_share_pooled")
        dropped = "–" if pooled is None else (f"{pooled:.3f} ({s['answerers']['llm_sentences_dropped']}/"
                                              f"{s['answerers']['llm_sentences_written']})")
        p50, p95 = m["latency_p50_ms"]["mean"], m["latency_p95_ms"]["mean"]
        cells += [dropped, f"{p50 / 1e3:.2f} / {p95 / 1e3:.2f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", metavar="LABEL=PATH", help="a label and a run folder or summary.json")
    args = parser.parse_args(argv)
    runs = []
    for item in args.runs:
        label, _, path = item.partition("=")
        runs.append((label, load(Path(path))))
    print(table(runs), end="")


if __name__ == "__main__":
    main()

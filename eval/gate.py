"""The regression gate: committed baselines per dataset, checked against a run's summary."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.errors import RagError

BASELINES = Path(__file__).resolve().parent / "baselines"
#: Metric families gated by default (retrieval ones are spelled with the run's k).
GATED = ("answer_hit@k", "doc_hit@k", "mrr@k", "evidence_hit@k", "first_sentence_contains", "contains_answer", "f1",
         "short_f1", "semantic_similarity")
#: The settings a baseline records as what it was measured with.
MEASURED_WITH = ("retrieval", "fusion", "chunk_tokens", "chunk_overlap", "title_header", "chunk_vectors", "top_k",
                 "rerank", "rerank_coverage_weight", "rerank_with_previous", "mmr_lambda", "answer_coverage_weight",
                 "short_answer_rerank", "abstain_threshold", "abstain_coverage_weight", "embedding_model_id")
MIN_TOLERANCE = 0.01
ROUNDING = 0.005  # tolerances are multiples of this


class BaselineError(RagError):
    """A baseline file that is missing or malformed, or does not fit the run."""

    code = "baseline_error"
    status = 400


@dataclass(frozen=True)
class GateResult:
    """One gated metric: what was measured against what it must not fall below."""

    metric: str
    value: float | None
    baseline: float
    tolerance: float
    floor: float
    measured_as: str = ""

    @property
    def passed(self) -> bool:
        return self.value is not None and not math.isnan(self.value) and self.value >= self.floor - 1e-9

    def line(self) -> str:
        shown = "missing" if self.value is None else f"{self.value:.4f}"
        verdict = "ok  " if self.passed else "FAIL"
        alias = f" (as {self.measured_as})" if self.measured_as and self.measured_as != self.metric else ""
        return (f"{verdict} {self.metric}{alias}: {shown} (baseline {self.baseline:.4f}, "
                f"tolerance {self.tolerance:.4f}, floor {self.floor:.4f})")


def family(name: str) -> str:
    """``answer_hit@5`` -> ``answer_hit@k``: retrieval metrics are matched whatever k a run used."""
    return name.split("@", 1)[0] + "@k" if "@" in name else name


def baseline_path(dataset: str, folder: Path = BASELINES) -> Path:
    return folder / f"{dataset}.json"


def load_baseline(dataset: str, folder: Path = BASELINES) -> dict[str, Any]:
    """The committed baseline for a dataset; raises ``BaselineError`` when there is none."""
    path = baseline_path(dataset, folder)
    if not path.is_file():
        raise BaselineError(f"no baseline for {dataset!r} at {path}: create it with `rag eval {dataset} "
                            "--write-baseline`")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        metrics = data["metrics"]
        for name, spec in metrics.items():
            if not ("baseline" in spec or "min" in spec) or not isinstance(spec.get("tolerance", 0.0), (int, float)):
                raise ValueError(f"metric {name} needs 'baseline' or 'min' and a numeric 'tolerance'")
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise BaselineError(f"malformed baseline {path}: {e}") from e
    return dict(data)


def check(summary: dict[str, Any], baseline: dict[str, Any]) -> list[GateResult]:
    """Each gated metric of the baseline against the run (matched by family, so ``--k 1`` is still judged)."""
    by_family = {family(name): (name, v.get("mean")) for name, v in summary["metrics"].items()}
    results: list[GateResult] = []
    for name, spec in baseline["metrics"].items():
        tol = float(spec.get("tolerance", 0.0))
        base = float(spec["baseline"] if "baseline" in spec else spec["min"])
        floor = base - tol if "baseline" in spec else base
        measured, value = by_family.get(family(name), ("", None))
        results.append(GateResult(name, None if value is None else float(value), base, tol, floor, measured))
    return results


def tolerance_for(mean: float, ci95: list[float | None], questions: int) -> float:
    """A bit wider than the noise: half the CI's half-width, just under one question's worth (capped), >= 0.01.

    Just under: the pipeline is deterministic, so on a tiny set (seeds: 5 questions) one flipped question is a
    regression and fails, while a continuous metric (f1) keeps nearly a question's worth of slack.
    """
    lo, hi = ci95
    half = 0.0 if lo is None or hi is None else (hi - lo) / 2
    tol = max(MIN_TOLERANCE, half / 2, min(1.0 / max(questions, 1), 0.2) - ROUNDING)
    return math.ceil(round(tol * 200, 6)) / 200  # round up to a multiple of ROUNDING (0.005)


def make_baseline(summary: dict[str, Any], gated: tuple[str, ...] = GATED) -> dict[str, Any]:
    """A baseline from a measured run: the gated metrics with tolerances derived from their CIs."""
    if summary["faq_indexed"]:
        raise BaselineError("baselines come from the leakage-free run: drop --with-faq")
    metrics: dict[str, Any] = {}
    for name, v in summary["metrics"].items():
        if family(name) in gated and v["mean"]:  # a metric at 0 has nothing to protect (e.g. seeds' EM)
            metrics[name] = {"baseline": round(v["mean"], 4),
                             "tolerance": tolerance_for(v["mean"], v["ci95"], summary["questions"]),
                             "ci95": v["ci95"]}
    cfg = summary["config"]
    return {
        "dataset": summary["dataset"], "questions": summary["questions"], "k": summary["k"],
        "measured_with": {key: cfg.get(key) for key in MEASURED_WITH},
        "regenerate": f"rag eval {summary['dataset']} --write-baseline",
        "metrics": metrics,
    }


def write_baseline(summary: dict[str, Any], folder: Path = BASELINES) -> Path:
    """Write (or replace) ``eval/baselines/<dataset>.json`` from a run's summary."""
    path = baseline_path(summary["dataset"], folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(make_baseline(summary), indent=2) + "\n", encoding="utf-8")
    return path

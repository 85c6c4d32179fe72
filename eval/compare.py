"""``rag eval --compare A B``: per-metric deltas with paired article-bootstrap CIs, and the flipped questions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval.bootstrap import paired_bootstrap_delta
from eval.gate import family
from eval.report import QUESTIONS
from rag.errors import RagError

#: 0/1 metrics whose per-question changes are listed as flips.
BINARY = ("answer_hit@k", "doc_hit@k", "contains_answer", "exact_match", "abstained")


class CompareError(RagError):
    """Two runs that cannot be compared (missing files, different datasets or questions)."""

    code = "compare_error"
    status = 400


@dataclass(frozen=True)
class Delta:
    """B minus A for one metric, with its paired-bootstrap 95% CI."""

    metric: str
    a: float
    b: float
    delta: float
    lo: float
    hi: float

    @property
    def significant(self) -> bool:
        return self.lo > 0 or self.hi < 0


@dataclass(frozen=True)
class Flip:
    """A question whose 0/1 metric changed between the runs."""

    metric: str
    qid: str
    question: str
    a: float
    b: float


def load_run(summary_path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A run's summary.json and the questions.jsonl beside it."""
    if summary_path.is_dir():
        summary_path = summary_path / "summary.json"
    rows_path = summary_path.parent / QUESTIONS
    for p in (summary_path, rows_path):
        if not p.is_file():
            raise CompareError(f"cannot compare: {p} does not exist (pass a run's summary.json or its folder)")
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    rows = [json.loads(line) for line in rows_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return summary, rows


def compare(a_path: Path, b_path: Path, *, n_boot: int = 2000, seed: int = 0) -> tuple[list[Delta], list[Flip]]:
    """Deltas (B - A) of every metric both runs report, paired by question, resampled by article."""
    (sa, ra), (sb, rb) = load_run(a_path), load_run(b_path)
    if sa["dataset"] != sb["dataset"]:
        raise CompareError(f"different datasets: {sa['dataset']!r} vs {sb['dataset']!r}")
    a_by, b_by = {r["qid"]: r for r in ra}, {r["qid"]: r for r in rb}
    qids = [q for q in a_by if q in b_by]
    if not qids:
        raise CompareError("the two runs share no question")
    groups = [a_by[q]["doc_id"] for q in qids]
    if len(set(groups)) == 1:
        groups = list(qids)  # one article: resample questions, as the runs themselves do
    b_names = {family(n): n for n in rb[0]["scores"]}
    deltas: list[Delta] = []
    flips: list[Flip] = []
    for a_name in ra[0]["scores"]:
        b_name = b_names.get(family(a_name))
        if b_name is None:
            continue
        xa = [_val(a_by[q]["scores"].get(a_name)) for q in qids]
        xb = [_val(b_by[q]["scores"].get(b_name)) for q in qids]
        d, lo, hi = paired_bootstrap_delta(xa, xb, groups, n_boot=n_boot, seed=seed)
        label = a_name if a_name == b_name else f"{a_name} → {b_name}"
        deltas.append(Delta(label, sum(xa) / len(xa), sum(xb) / len(xb), d, lo, hi))
        if family(a_name) in BINARY:
            flips += [Flip(label, q, a_by[q]["question"], x, y) for q, x, y in zip(qids, xa, xb, strict=True) if x != y]
    return deltas, flips


def _val(v: float | None) -> float:
    return 0.0 if v is None else float(v)


def render(deltas: list[Delta], flips: list[Flip], *, max_flips: int = 20) -> str:
    """A plain-text table of deltas and the flipped questions, for the terminal."""
    lines = [f"{'metric':<28} {'A':>9} {'B':>9} {'B-A':>9}  95% CI (paired, by article)"]
    for d in deltas:
        mark = " *" if d.significant else ""
        lines.append(f"{d.metric:<28} {d.a:>9.4f} {d.b:>9.4f} {d.delta:>+9.4f}  [{d.lo:+.4f}, {d.hi:+.4f}]{mark}")
    lines.append("(* the CI excludes 0)")
    by_metric: dict[str, list[Flip]] = {}
    for f in flips:
        by_metric.setdefault(f.metric, []).append(f)
    for metric, fs in by_metric.items():
        up = sum(f.b > f.a for f in fs)
        lines += ["", f"{metric}: {len(fs)} flipped ({up} up, {len(fs) - up} down)"]
        for f in fs[:max_flips]:
            lines.append(f"  {'+' if f.b > f.a else '-'} {f.qid}: {f.question[:90]}")
        if len(fs) > max_flips:
            lines.append(f"  ... {len(fs) - max_flips} more")
    return "\n".join(lines)


def to_json(deltas: list[Delta], flips: list[Flip]) -> dict[str, Any]:
    """The comparison as JSON (``--json``)."""
    return {
        "deltas": {d.metric: {"a": d.a, "b": d.b, "delta": d.delta, "ci95": [d.lo, d.hi]} for d in deltas},
        "flips": [{"metric": f.metric, "qid": f.qid, "question": f.question, "a": f.a, "b": f.b} for f in flips],
    }

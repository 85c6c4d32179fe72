"""The abstention run's report: rates with CIs at the configured threshold and the operating point, a coarse
sweep, and JSON that holds no NaN or infinity (``python -m eval.abstention`` writes both)."""

from __future__ import annotations

import math
from typing import Any


def _r(row: dict[str, Any]) -> str:
    lo, hi = row["ci95"]
    return f"{row['mean']:.3f} [{lo:.3f}, {hi:.3f}]"


def markdown(summary: dict[str, Any], step: float = 0.05) -> str:
    """The rates with CIs at the configured threshold and at the operating point, and a coarse sweep."""
    lines = [f"# Abstention (k = {summary['k']}, threshold {summary['threshold']})", "",
             "| direction | questions | articles | error | at threshold " + f"{summary['threshold']} |",
             "|---|---:|---:|---|---|"]
    lines += [f"| {r['direction']} | {r['n']} | {r['articles']} | {r['error']} | {_r(r)} |"
              for r in summary["at_threshold"]]
    op = summary["operating_point"]
    exact = ", ".join(f"{name} {'none' if t is None else f'{t:.4f}'}"
                      for name, t in op["threshold_exact_per_set"].items())
    lines += ["", f"Highest threshold with ≤ {op['max_false_refusal']:.0%} false refusals on every answerable set: "
              f"**{op['threshold']}** (exact per set: {exact})"
              + (", the configured one." if op["threshold"] == summary["threshold"] else "."), ""]
    if op["rates"]:
        lines += ["| direction | error | at threshold " + f"{op['threshold']} |", "|---|---|---|"]
        lines += [f"| {r['direction']} | {r['error']} | {_r(r)} |" for r in op["rates"]]
    sw = [p for p in summary["sweep"] if abs(p["threshold"] / step - round(p["threshold"] / step)) < 1e-6]
    if sw:
        fr, fa = list(sw[0]["false_refusal"]), list(sw[0]["false_answer"])
        lines += ["", "Sweep (rates had answer() used the threshold; from the recorded evidence):", "",
                  "| threshold | " + " | ".join(f"false refusal: {n}" for n in fr)
                  + " | " + " | ".join(f"false answer: {n}" for n in fa) + " |",
                  "|---:|" + "---:|" * (len(fr) + len(fa))]
        lines += [f"| {p['threshold']:.2f} | " + " | ".join(f"{p['false_refusal'][n]:.3f}" for n in fr) + " | "
                  + " | ".join(f"{p['false_answer'][n]:.3f}" for n in fa) + " |" for p in sw]
    c = summary["evidence_check"]
    lines += ["", f"Evidence check: {c['abstained_but_evidence_above']} of {c['questions']} answer() decisions "
              f"disagree with the recomputed evidence; {c['no_candidate_sentence']} questions had no candidate "
              f"sentence; the best citation cosine is below the gating evidence for {c['max_citation_below_evidence']} "
              f"questions (max gap {c['max_gap']}), which would flip {c['citation_proxy_flips_at_threshold']} "
              "decisions at the threshold.", ""]
    return "\n".join(lines)


def json_safe(x: Any) -> Any:
    if isinstance(x, float):
        return None if math.isnan(x) or math.isinf(x) else round(x, 6)
    if isinstance(x, dict):
        return {k: json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [json_safe(v) for v in x]
    return x

"""Write a run's results: summary.json, questions.jsonl, report.md and a picture (hit@k curve, per-article bars)."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eval.citations import pooled_share
from eval.harness import CURVE_DEPTH
from eval.scoring import CITATION_METRICS, aggregate, groups_for, hit_curve, metric_names, per_article

if TYPE_CHECKING:
    from eval.harness import Run
    from eval.scoring import Scored

#: Settings that describe the server or hold secrets, not the measured pipeline.
_NOT_CONFIG = {"index_dir", "host", "port", "cors_origins", "api_keys", "max_upload_bytes", "llm_api_key"}
SUMMARY, QUESTIONS, REPORT, PICTURE = "summary.json", "questions.jsonl", "report.md", "report.png"


def _num(x: float) -> float | None:
    """JSON has no NaN: an undefined value is null."""
    return None if x is None or math.isnan(x) else round(float(x), 6)


def build_summary(run: Run, rows: Sequence[Scored]) -> dict[str, Any]:
    """The summary in the shape the gate, ``--compare`` and the README read."""
    ds, k = run.dataset, run.k
    shorts = ("short_exact_match", "short_f1", "short_contains_answer")
    names = metric_names(k) + [n for n in shorts if rows and n in rows[0].scores]
    metrics = {name: {"mean": _num(a.mean), "ci95": [_num(a.ci95[0]), _num(a.ci95[1])]}
               for name, a in aggregate(rows, names).items()}
    _, unit = groups_for(rows)
    emb = run.embedder
    config: dict[str, Any] = {k: v for k, v in run.settings.flat("json").items() if k not in _NOT_CONFIG}
    config.update(
        embedding_model_id=emb.model_id, embedding_weights_sha256=emb.weights_sha256, source=ds.source,
        upper_bound=run.with_faq, embedding_cache=run.embed_cache,
        bootstrap={"resamples": 2000, "seed": 0, "unit": unit, "level": 0.95},
    )
    timings = {key: round(v, 3) for key, v in run.timings.items()}
    found = [r.gold_rank for r in rows if r.gold_rank is not None]
    timings["questions_per_s"] = round(len(rows) / run.timings["ask_s"], 2) if run.timings.get("ask_s") else 0.0
    kinds = {kind: sum(r.gold_kind == kind for r in rows) for kind in ("span", "evidence")}
    return {
        "dataset": ds.name,
        "articles": len(ds.articles),
        "questions": len(rows),
        "faq_indexed": run.with_faq,
        "k": k,
        "metrics": metrics,
        "config": config,
        "timings": timings,
        "leakage": {"checked": run.leakage.checked, "passed": run.leakage.passed, "chunks": run.leakage.chunks,
                    "faq_chunks": run.leakage.faq_chunks, "note": run.leakage.note},
        "gold_kinds": kinds,
        "curves": {key: [round(v, 6) for v in vals] for key, vals in hit_curve(rows, CURVE_DEPTH).items()},
        "mean_gold_rank_found": _num(sum(found) / len(found)) if found else None,
        "per_article": {d: {key: round(v, 6) for key, v in s.items()} for d, s in per_article(rows, k).items()},
        "short_answers_by_confidence": short_by_confidence(rows),
        "answerers": answerers(rows),
    }


def answerers(rows: Sequence[Scored]) -> dict[str, Any]:
    """The citation metrics (``scoring.CITATION_METRICS``, each with its CI over the answers that define it); who
    wrote the answers, how often the LLM was called, fell back (and why), and the sentences it wrote and had
    dropped (pooled over answers)."""
    called = [r.asked for r in rows if r.asked.citations is not None and r.asked.citations.raw is not None]
    reasons: dict[str, int] = {}
    for r in rows:
        if r.asked.answer.fallback:
            reasons[r.asked.answer.fallback] = reasons.get(r.asked.answer.fallback, 0) + 1
    by: dict[str, int] = {}
    for r in rows:
        by[r.asked.answer.answerer] = by.get(r.asked.answer.answerer, 0) + 1
    written = [a.citations.written for a in called if a.citations is not None]
    dropped = [min(a.answer.dropped_sentences, w) for a, w in zip(called, written, strict=True)]
    metrics = {name: {"mean": _num(a.mean), "ci95": [_num(a.ci95[0]), _num(a.ci95[1])]}
               for name, a in aggregate(rows, CITATION_METRICS).items() if not name.startswith("latency_")}
    return {"metrics": metrics, "written_by": by, "llm_replies": len(called), "llm_sentences_written": sum(written),
            "llm_sentences_dropped": sum(dropped), "dropped_share_pooled": _num(pooled_share(dropped, written)),
            "fallback_reasons": reasons}


def short_by_confidence(rows: Sequence[Scored]) -> dict[str, dict[str, float]]:
    """How many short answers were given at each confidence, and their mean SQuAD F1 and EM (empty when the
    answerer gives no short answers)."""
    out: dict[str, dict[str, float]] = {}
    for level in ("high", "low"):
        given = [r for r in rows if "short_f1" in r.scores and r.asked.answer.short_answer is not None
                 and not r.asked.answer.abstained and r.asked.answer.short_answer_confidence == level]
        if given:
            out[level] = {"n": len(given), "f1": round(sum(r.scores["short_f1"] for r in given) / len(given), 6),
                          "exact_match": round(sum(r.scores["short_exact_match"] for r in given) / len(given), 6)}
    return out


def question_row(r: Scored) -> dict[str, Any]:
    """One line of questions.jsonl: the question, what answer() returned, and every score."""
    q, a = r.asked.question, r.asked.answer
    return {
        "qid": q.qid, "doc_id": q.doc_id, "question": q.question, "golds": list(q.golds),
        "answer": a.answer, "prediction": r.prediction, "answerer": a.answerer, "fallback": a.fallback,
        "dropped_sentences": a.dropped_sentences,
        "llm_reply": None if r.asked.citations is None else r.asked.citations.reply, "short_answer": a.short_answer,
        "short_answer_confidence": a.short_answer_confidence, "abstained": a.abstained,
        "citations": [{"n": c.n, "doc_id": c.doc_id, "chunk_id": c.chunk_id, "text": c.text} for c in a.citations],
        "retrieved": [{"rank": h.rank, "chunk_id": h.chunk.chunk_id, "doc_id": h.chunk.doc_id, "kind": h.chunk.kind,
                       "score": round(h.score, 6)} for h in a.hits],
        "gold_kind": r.gold_kind, "gold_evidence": [list(s) for s in r.evidence],
        "gold_rank": r.gold_rank, "doc_rank": r.doc_rank,
        "latency_ms": round(r.asked.latency_ms, 3),
        "scores": {key: _num(v) for key, v in r.scores.items()},
    }


def write_all(out: Path, summary: dict[str, Any], rows: Sequence[Scored]) -> list[Path]:
    """Write every output file into ``out`` (created if needed); returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / SUMMARY, out / QUESTIONS, out / REPORT, out / PICTURE]
    paths[0].write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    with paths[1].open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(question_row(r), ensure_ascii=False) + "\n")
    paths[2].write_text(markdown(summary), encoding="utf-8")
    plot(summary, paths[3])
    return paths


def _fmt(v: float | None) -> str:
    return "–" if v is None else f"{v:.3f}"


def metrics_table(summary: dict[str, Any]) -> list[str]:
    """The headline table: metric, mean, 95% CI (the answer and retrieval metrics, then the citation metrics)."""
    lines = ["| metric | mean | 95% CI |", "|---|---:|---|"]
    both = {**summary["metrics"], **summary.get("answerers", {}).get("metrics", {})}
    for name, v in both.items():
        lo, hi = v["ci95"]
        lines.append(f"| {name} | {_fmt(v['mean'])} | [{_fmt(lo)}, {_fmt(hi)}] |")
    return lines


def markdown(summary: dict[str, Any]) -> str:
    """report.md: what was run, the metrics with CIs, the hit@k curve, per-article results, timings."""
    k, t = summary["k"], summary["timings"]
    label = " — FAQ/gold text indexed: UPPER BOUND, not a result" if summary["faq_indexed"] else ""
    cfg = summary["config"]
    lines = [
        f"# Eval: {summary['dataset']}{label}", "",
        f"{summary['articles']} articles, {summary['questions']} questions, k={k}, retrieval={cfg.get('retrieval')}, "
        f"model {cfg['embedding_model_id']}. Leakage check: "
        + ("passed" if summary["leakage"]["passed"] else "not applied") + f" ({summary['leakage']['note']}).",
        f"95% CIs: {cfg['bootstrap']['resamples']} bootstrap resamples over {cfg['bootstrap']['unit']}s "
        f"(seed {cfg['bootstrap']['seed']}).", "", "![hit@k and per-article results](report.png)", "",
        "## Metrics", "", *metrics_table(summary), "",
        "## Hit@k (k = 1..10)", "",
        "| k | " + " | ".join(str(i) for i in range(1, len(summary["curves"]["answer_hit"]) + 1)) + " |",
        "|---|" + "---:|" * len(summary["curves"]["answer_hit"]),
    ]
    for key, vals in summary["curves"].items():
        lines.append(f"| {key} | " + " | ".join(f"{v:.3f}" for v in vals) + " |")
    if summary.get("short_answers_by_confidence"):
        lines += ["", "## Short answers by confidence", "", "| confidence | given | F1 where given | EM where given |",
                  "|---|---:|---:|---:|"]
        lines += [f"| {level} | {v['n']} | {v['f1']:.3f} | {v['exact_match']:.3f} |"
                  for level, v in summary["short_answers_by_confidence"].items()]
    lines += ["", "## Per article (worst answer_hit first)", "",
              f"| article | questions | answer_hit@{k} | doc_hit@{k} | mrr@{k} | f1 |",
              "|---|---:|---:|---:|---:|---:|"]
    arts = sorted(summary["per_article"].items(), key=lambda kv: (kv[1][f"answer_hit@{k}"], kv[0]))
    for doc, s in arts:
        lines.append(f"| {doc} | {int(s['questions'])} | {s[f'answer_hit@{k}']:.3f} | {s[f'doc_hit@{k}']:.3f} | "
                     f"{s[f'mrr@{k}']:.3f} | {s['f1']:.3f} |")
    lines += ["", "## Timings", "", "| phase | value |", "|---|---:|"]
    lines += [f"| {key} | {v} |" for key, v in t.items()]
    return "\n".join(lines) + "\n"


def plot(summary: dict[str, Any], path: Path) -> None:
    """A PNG: the hit@k curve beside per-article answer/doc hit bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    k = summary["k"]
    arts = sorted(summary["per_article"].items(), key=lambda kv: (kv[1][f"answer_hit@{k}"], kv[0]))
    height = max(4.0, 0.22 * len(arts) + 1.5)
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, height), gridspec_kw={"width_ratios": [1, 1.3]})
    xs = list(range(1, len(summary["curves"]["answer_hit"]) + 1))
    for key, style in (("answer_hit", "o-"), ("doc_hit", "s--")):
        left.plot(xs, summary["curves"][key], style, label=f"{key}@k")
    left.axvline(k, color="grey", lw=0.8, ls=":")
    left.set(xlabel="k (retrieved chunks)", ylabel="fraction of questions", ylim=(0, 1.02), xticks=xs,
             title=f"{summary['dataset']}: hit@k" + (" (FAQ indexed: upper bound)" if summary["faq_indexed"] else ""))
    left.grid(alpha=0.3)
    left.legend(loc="lower right")
    names = [_short(d) for d, _ in arts]
    ys = range(len(arts))
    right.barh([y + 0.2 for y in ys], [s[f"doc_hit@{k}"] for _, s in arts], 0.4, label=f"doc_hit@{k}", color="#9ecae1")
    right.barh([y - 0.2 for y in ys], [s[f"answer_hit@{k}"] for _, s in arts], 0.4, label=f"answer_hit@{k}",
               color="#3182bd")
    right.set_yticks(list(ys), names, fontsize=7 if len(arts) > 20 else 9)
    right.set(xlim=(0, 1.0), title="per article (worst answer_hit first)", xlabel="fraction of the article's questions")
    right.invert_yaxis()  # worst at the top
    right.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0 + 0.35 / height), ncol=2, fontsize=8, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _short(doc_id: str, n: int = 34) -> str:
    name = doc_id.split(":", 1)[-1].rsplit("/", 1)[-1]
    return name if len(name) <= n else name[: n - 1] + "…"

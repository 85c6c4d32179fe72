"""Abstention you can trust: false refusals on answerable questions, false answers on unanswerable ones.

``python -m eval.abstention`` builds one leakage-free index per dataset (bodies only, as the harness does)
and asks every dataset's questions against its own index (answerable) and against each other dataset's
index (unanswerable: XQuAD questions have no answer in the FairytaleQA stories and the reverse), through
``Pipeline.answer()`` at the configured threshold. Harder unanswerable cases follow: each half of a dataset's
articles against the other half's index, and questions against their own article with the paragraph that
answers them left out. It also records the evidence ``answer()`` gates on, so
the error rates can be swept over thresholds without asking again.
"""

from __future__ import annotations

import argparse
import json
import math
import operator
import os
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eval.abstention_report import json_safe, markdown
from eval.bootstrap import bootstrap_ci

if TYPE_CHECKING:
    from eval.datasets import Dataset
    from rag.pipeline import Pipeline
    from rag.protocols import Embedder
    from rag.settings import Settings
    from rag.types import Answer

DATASETS = ("xquad", "fairytaleqa")
MAX_FALSE_REFUSAL = 0.05
N_BOOT, SEED = 2000, 0
SWEEP = tuple(round(0.01 * i, 2) for i in range(0, 121))  # 0.00 .. 1.20


# --- pure parts -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    """One question asked against one index: did answer() abstain, and on what evidence."""

    qid: str
    group: str  # bootstrap unit: the question's own article ("<dataset>:<doc_id>")
    questions: str
    index: str
    answerable: bool
    abstained: bool
    evidence: float  # best candidate evidence (extractive.evidence), what answer() gates on; -inf: no candidate
    max_citation: float | None  # best citation cosine of a never-abstaining answer(); None without citations


@dataclass(frozen=True)
class Rate:
    """An error rate over questions, with its article-clustered 95% CI."""

    mean: float
    ci95: tuple[float, float]
    n: int


def errors(abstained: Sequence[bool], answerable: bool) -> list[float]:
    """Per question: 1.0 for a false refusal (answerable, abstained) or a false answer (unanswerable, answered)."""
    return [float(a if answerable else not a) for a in abstained]


def rate(errs: Sequence[float], groups: Sequence[str]) -> Rate:
    """Mean error and its cluster-bootstrap CI (resampling articles)."""
    if not errs:
        return Rate(math.nan, (math.nan, math.nan), 0)
    ci = bootstrap_ci(errs, groups, n_boot=N_BOOT, seed=SEED)
    return Rate(math.fsum(errs) / len(errs), ci, len(errs))


def refuses(evidence: float, threshold: float) -> bool:
    """The rule in ``Pipeline.answer()``: abstain when the evidence is below the threshold."""
    return evidence < threshold


def error_rate_at(evidence: Sequence[float], answerable: bool, threshold: float) -> float:
    """The false-refusal (answerable) or false-answer (unanswerable) rate had answer() used ``threshold``."""
    if not evidence:
        return math.nan
    return math.fsum(errors([refuses(e, threshold) for e in evidence], answerable)) / len(evidence)


def sweep(answerable: Mapping[str, Sequence[float]], unanswerable: Mapping[str, Sequence[float]],
          thresholds: Iterable[float]) -> list[dict[str, Any]]:
    """Per threshold: each answerable set's false-refusal rate and each unanswerable set's false-answer rate."""
    return [{"threshold": t,
             "false_refusal": {name: error_rate_at(ev, True, t) for name, ev in answerable.items()},
             "false_answer": {name: error_rate_at(ev, False, t) for name, ev in unanswerable.items()}}
            for t in thresholds]


def threshold_for(evidence: Sequence[float], max_false_refusal: float) -> float | None:
    """The highest threshold whose false-refusal rate on these answerable questions is at most the limit.

    None when no threshold gets there (questions without any candidate sentence are always refused).
    """
    if not evidence:
        return None
    ranked = sorted(evidence)
    allowed = math.floor(max_false_refusal * len(ranked) + 1e-9)  # refusals tolerated
    if allowed >= len(ranked):
        return math.inf
    t = ranked[allowed]  # fewer than `allowed + 1` values lie strictly below it; any higher t refuses one more
    return None if math.isinf(t) else t


# --- measuring --------------------------------------------------------------------------------


def gating_evidence(pipeline: Pipeline, answer: Answer) -> float:
    """The evidence ``answer()`` compared with the threshold, recomputed from its own hits (-inf: no candidate)."""
    qs, loaded = pipeline.query_scores_in(answer.question, None, pipeline.loaded)  # the view the hits came from
    sel = pipeline.extractive.select(answer.question, qs, list(answer.hits), loaded)
    return sel.evidence if sel.sentences else -math.inf


def measure(sets: Sequence[Dataset], settings: Settings, k: int, embedder: Embedder, *,
            answerable: bool = True) -> list[Probe]:
    """Every dataset's questions against every dataset's own temporary index (bodies only); with
    ``answerable=False``, only against the other datasets' indexes."""
    probes: list[Probe] = []
    for index_ds in sets:
        asked = sets if answerable else [ds for ds in sets if ds is not index_ds]
        probes += ask(index_ds, asked, settings, k, embedder, answerable=partial(operator.is_, index_ds))
    return probes


def measure_left_out(ds: Dataset, settings: Settings, k: int, embedder: Embedder, shifts: int) -> list[Probe]:
    """The dataset's questions against its own articles with each question's answer paragraph left out
    (``eval.datasets.answer_paragraph_left_out``), over ``shifts`` indexes that leave out different paragraphs."""
    from eval.datasets import answer_paragraph_left_out

    probes: list[Probe] = []
    for shift in range(shifts):
        held = answer_paragraph_left_out(ds, shift)
        if held.questions:
            probes += ask(held, [held], settings, k, embedder, answerable=lambda _: False)
    return probes


def ask(index_ds: Dataset, asked: Sequence[Dataset], settings: Settings, k: int, embedder: Embedder,
        answerable: Callable[[Dataset], bool]) -> list[Probe]:
    """The questions of ``asked`` against a temporary index of ``index_ds``'s articles (bodies only)."""
    from eval.embed_cache import caching
    from eval.harness import check_leakage, temporary_index, warm_texts
    from rag.pipeline import Pipeline

    probes: list[Probe] = []
    cache = caching(embedder)
    with temporary_index(index_ds, settings, cache) as pipeline:
        chunks = list(pipeline.snapshot.chunks.values())
        check_leakage(chunks, index_ds, with_faq=False)
        cache.warm([q.question.strip() for ds in asked for q in ds.questions] + warm_texts(index_ds, chunks))
        never = Pipeline(pipeline.settings.replace(**{"abstain_threshold": -1.0}), cache)
        for ds in asked:
            own = answerable(ds)
            for q in ds.questions:
                ans = pipeline.answer(q.question, k)
                forced = never.answer(q.question, k)
                cite = max((c.score for c in forced.citations), default=None)
                probes.append(Probe(q.qid, f"{ds.name}:{q.doc_id}", ds.name, index_ds.name, own,
                                    ans.abstained, gating_evidence(pipeline, ans), cite))
    return probes


def direction_name(questions: str, index: str) -> str:
    return f"{questions} questions → {index} index"


def summarise(probes: Sequence[Probe], threshold: float, max_false_refusal: float = MAX_FALSE_REFUSAL
              ) -> dict[str, Any]:
    """Rates at the configured threshold and at the ≤ max_false_refusal operating point, the sweep, the checks."""
    by: dict[tuple[str, str], list[Probe]] = {}
    for p in probes:
        by.setdefault((p.questions, p.index), []).append(p)

    def rates_at(t: float | None) -> list[dict[str, Any]]:
        out = []
        for (qs, ix), ps in by.items():
            answerable = ps[0].answerable
            abst = [p.abstained for p in ps] if t is None else [refuses(p.evidence, t) for p in ps]
            r = rate(errors(abst, answerable), [p.group for p in ps])
            out.append({"direction": direction_name(qs, ix), "answerable": answerable,
                        "error": "false_refusal" if answerable else "false_answer",
                        "articles": len({p.group for p in ps}), **asdict(r)})
        return out

    answerable = {qs: [p.evidence for p in ps] for (qs, ix), ps in by.items() if ps[0].answerable}
    unanswerable = {direction_name(qs, ix): [p.evidence for p in ps] for (qs, ix), ps in by.items()
                    if not ps[0].answerable}
    per_set = {name: threshold_for(ev, max_false_refusal) for name, ev in answerable.items()}
    exact = None if any(t is None for t in per_set.values()) else min(t for t in per_set.values() if t is not None)
    chosen = None if exact is None else math.floor(exact * 100 + 1e-9) / 100  # a setting one would write down
    with_cite = [p for p in probes if p.max_citation is not None and not math.isinf(p.evidence)]
    gaps = [p.evidence - (p.max_citation or 0.0) for p in with_cite]
    return {
        "threshold": threshold,
        "at_threshold": rates_at(None),
        "operating_point": {"max_false_refusal": max_false_refusal, "threshold_exact_per_set": per_set,
                            "threshold": chosen, "rates": rates_at(chosen) if chosen is not None else []},
        "sweep": sweep(answerable, unanswerable, SWEEP),
        "evidence_check": {
            "questions": len(probes),
            # answer() abstains exactly when the recomputed evidence is below the threshold: expect 0
            "abstained_but_evidence_above": sum(p.abstained != refuses(p.evidence, threshold) for p in probes),
            "no_candidate_sentence": sum(math.isinf(p.evidence) for p in probes),
            # the citation cosine is only a lower bound: the best-cosine sentence need not be cited
            "max_citation_below_evidence": sum(g > 5e-5 for g in gaps),
            "max_gap": round(max(gaps, default=0.0), 4),
            "citation_proxy_flips_at_threshold": sum(
                refuses(p.evidence, threshold) != refuses(p.max_citation or 0.0, threshold) for p in with_cite),
        },
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.abstention", description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", type=Path, default=None, help="folder holding xquad/ and fairytaleqa/")
    p.add_argument("--out", type=Path, default=Path("eval/runs/abstention"), help="output folder")
    p.add_argument("--k", type=int, default=None, help="chunks answer() retrieves (default: top_k)")
    p.add_argument("--left-out-shifts", type=int, default=5, help="indexes per dataset that each leave out another "
                   "paragraph of every article, for the questions that paragraph answers (0: skip)")
    args = p.parse_args(argv)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from eval import datasets
    from rag.cli import load_settings
    from rag.pipeline import Pipeline

    t0 = time.perf_counter()
    settings = load_settings()
    k = args.k or settings.search.top_k
    sets = [datasets.load(name, args.data_dir) for name in DATASETS]
    embedder = Pipeline(settings).embedder
    probes = measure(sets, settings, k, embedder)  # across corpora
    for ds in sets:  # within one corpus: each half's questions against the other half's articles (the answerable
        # runs, each half against itself, would count those questions twice and move the operating point)
        probes += measure(datasets.halves(ds), settings, k, embedder, answerable=False)
    for ds in sets:  # about an indexed article that does not answer them: its answer paragraph left out
        probes += measure_left_out(ds, settings, k, embedder, args.left_out_shifts)
    summary = {"k": k, **summarise(probes, settings.answer.abstain_threshold),
               "config": {k: v for k, v in settings.flat("json").items()
                          if k in ("retrieval", "fusion", "rerank", "chunk_tokens", "chunk_overlap", "top_k",
                                   "abstain_threshold")},
               "time_s": round(time.perf_counter() - t0, 1)}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "summary.json").write_text(json.dumps(json_safe(summary), indent=2) + "\n", encoding="utf-8")
    with (args.out / "questions.jsonl").open("w", encoding="utf-8") as f:
        for pr in probes:
            f.write(json.dumps(json_safe(asdict(pr))) + "\n")
    report = markdown(summary)
    (args.out / "report.md").write_text(report, encoding="utf-8")
    print(report)
    print(f"time: {summary['time_s']} s; written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

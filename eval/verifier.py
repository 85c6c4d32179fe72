"""Measure and calibrate the citation verifier on a labelled set (``python -m eval.verifier --out DIR``).

The set (``eval.verifier_set``) is drawn from the dev data: XQuAD and FairytaleQA articles are indexed with the real
pipeline into a temporary folder, each chunk becomes a passage with its sentences' token vectors read from that
index, and every pair is judged by the real ``Verifier`` with the bundled embedder, with ``Evidence`` built as
``rag.generation.answerer`` builds it. One reading per pair gives its support and the claims the passage lacks; a
threshold ``t`` verifies a pair when nothing is lacking and the support reaches ``t``, so the whole sweep comes from
that one reading.

The threshold is chosen on half of the articles (the calibration half, by a hash of the article id) and reported on
the other half as well. The verifier has two checks with two jobs: the claim check rejects a sentence stating a
name, number or date the passage does not (the swaps), the support threshold rejects a sentence about something
else (the other-passage sentences). The threshold is chosen for its own job, and showing an unsupported sentence
as verified is the costly error (dropping a supported one costs a fallback to the extractive answer): the lowest
threshold (the best recall) at which the one-sided 95% upper confidence bound (Wilson) of the share of
other-passage sentences verified is at most ``MAX_FALSE_VERIFIED``. The swaps are reported as catch rates (target
95%); raising the threshold to reject a swap the claim check missed would cost most of the recall.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eval.verifier_set import QA, SUPPORTED_KINDS, UNSUPPORTED_KINDS, Pair, Passage, build

if TYPE_CHECKING:
    from eval.datasets import Dataset
    from rag.pipeline import Pipeline
    from rag.protocols import Embedder
    from rag.settings import Settings

SEED = 0
PER_KIND = 150
#: The share of other-passage sentences the chosen threshold may let through (upper 95% bound).
MAX_FALSE_VERIFIED = 0.05
Z_ONE_SIDED_95 = 1.6449
SWEEP = tuple(round(0.30 + 0.01 * i, 2) for i in range(66))  # 0.30 .. 0.95
DATASETS = ("xquad", "fairytaleqa")
RESULTS = Path(__file__).resolve().parent / "results"
OUT_JSON, OUT_MD = "citation_verifier.json", "citation_verifier.md"


@dataclass(frozen=True)
class Judged:
    """A labelled pair as the verifier read it (no text: the results never copy the data)."""

    kind: str
    supported: bool
    dataset: str
    doc_id: str
    chunk_id: int
    support: float
    missing: int
    half: str  # "calibration" or "held_out"

    def verified(self, threshold: float) -> bool:
        return self.missing == 0 and self.support >= threshold


def half_of(doc_id: str) -> str:
    """The article's half: a fixed hash of its id, so the split never depends on the order of the data."""
    return "calibration" if hashlib.sha256(doc_id.encode()).digest()[0] % 2 == 0 else "held_out"


def passages_of(pipeline: Pipeline, dataset: str) -> list[Passage]:
    """Every body chunk of the pipeline's index as a passage, with its sentences as the index cuts them."""
    ret = pipeline.loaded.retriever
    out = []
    for row, chunk in enumerate(ret.chunks):
        if chunk.kind != "body":
            continue
        rows = ret.sentence_rows(row)
        out.append(Passage(dataset, chunk.doc_id, chunk.chunk_id, chunk.text,
                           tuple(ret.sentences.texts[int(r)] for r in rows)))
    return out


def judge(pipeline: Pipeline, pairs: Sequence[Pair], threshold: float) -> list[tuple[float, int, bool]]:
    """(support, claims lacking, verified at ``threshold``) per pair, from the real verifier over the index."""
    from rag.generation.verify import Evidence, Verifier

    ret = pipeline.loaded.retriever
    verifier = Verifier(pipeline.embedder, ret.sentences, threshold)
    by_chunk: dict[int, list[int]] = {}
    for i, p in enumerate(pairs):
        by_chunk.setdefault(p.chunk_id, []).append(i)
    out: list[tuple[float, int, bool]] = [(math.nan, 0, False)] * len(pairs)
    for chunk_id, idx in by_chunk.items():
        row = ret.row_of(chunk_id)
        rows = tuple(int(r) for r in ret.sentence_rows(row))
        evidence = Evidence(ret.chunks[row].text, rows, tuple(ret.sentences.texts[r] for r in rows))
        verdicts = verifier.check([f"{pairs[i].sentence} [1]" for i in idx], [evidence])
        for i, v in zip(idx, verdicts, strict=True):
            out[i] = (v.support, len(v.missing), v.verified)
    return out


def rates(judged: Sequence[Judged], threshold: float) -> dict[str, Any]:
    """Precision, recall and F1 of "verified" at a threshold, and the share verified of each kind."""
    tp = sum(j.supported and j.verified(threshold) for j in judged)
    fp = sum(not j.supported and j.verified(threshold) for j in judged)
    pos = sum(j.supported for j in judged)
    precision = tp / (tp + fp) if tp + fp else math.nan
    recall = tp / pos if pos else math.nan
    f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
    kinds = {}
    for kind in (*SUPPORTED_KINDS, *UNSUPPORTED_KINDS):
        of = [j for j in judged if j.kind == kind]
        kinds[kind] = {"pairs": len(of), "verified": _share([j.verified(threshold) for j in of])}
    worst = max((kinds[k]["verified"] for k in UNSUPPORTED_KINDS if kinds[k]["pairs"]), default=math.nan)
    other = kinds["other_passage"]
    bound = wilson_upper(round(other["verified"] * other["pairs"]), int(other["pairs"])) if other["pairs"] else math.nan
    return {"threshold": threshold, "precision": _r(precision), "recall": _r(recall), "f1": _r(f1),
            "worst_false_verified": _r(worst), "other_passage_verified_upper95": _r(bound), "kinds": kinds,
            "swap_caught": {k: _r(1 - kinds[f"swap_{k}"]["verified"]) if kinds[f"swap_{k}"]["pairs"] else None
                            for k in ("name", "number", "date")}}


def wilson_upper(k: int, n: int, z: float = Z_ONE_SIDED_95) -> float:
    """The Wilson score interval's upper end for ``k`` successes in ``n`` trials (one-sided 95% by default)."""
    if n == 0:
        return math.nan
    p = k / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return min(1.0, (centre + spread) / (1 + z * z / n))


def choose(judged: Sequence[Judged], grid: Sequence[float] = SWEEP, budget: float = MAX_FALSE_VERIFIED) -> float:
    """The lowest threshold (so the best recall) at which the upper 95% bound of the share of other-passage
    sentences verified is within ``budget``; the grid's last when none is."""
    for t in grid:
        if rates(judged, t)["other_passage_verified_upper95"] <= budget:
            return t
    return grid[-1]


def _share(flags: Sequence[bool]) -> float:
    return round(sum(flags) / len(flags), 4) if flags else math.nan


def _r(x: float) -> float | None:
    return None if x is None or math.isnan(x) else round(x, 4)


def questions_of(ds: Dataset) -> list[QA]:
    return [QA(q.doc_id, q.question, q.golds) for q in ds.questions]


def measure(settings: Settings, embedder: Embedder, data_dir: Path | None = None, *, per_kind: int = PER_KIND,
            seed: int = SEED) -> tuple[list[Pair], list[Judged], dict[str, Any]]:
    """Build the labelled set from each dev dataset's own index and judge every pair with the shipped threshold:
    the pairs and, in the same order, their judgements."""
    from eval import datasets
    from eval.harness import temporary_index

    shipped = settings.generation.support_threshold
    judged: list[Judged] = []
    every: list[Pair] = []
    info: dict[str, Any] = {}
    for name in DATASETS:
        ds = datasets.load(name, data_dir)
        t0 = time.perf_counter()
        with temporary_index(ds, settings, embedder) as pipeline:
            passages = passages_of(pipeline, ds.name)
            qas = questions_of(ds)  # only answers quoted by a passage make pairs (FairytaleQA's are often not)
            pairs = build(passages, qas, per_kind=per_kind, seed=seed)
            readings = judge(pipeline, pairs, shipped)
        for p, (support, missing, verified) in zip(pairs, readings, strict=True):
            j = Judged(p.kind, p.supported, p.dataset, p.doc_id, p.chunk_id, round(support, 4), missing,
                       half_of(p.doc_id))
            assert j.verified(shipped) == verified, "the sweep must reproduce the verifier's own verdict"
            judged.append(j)
        every += pairs
        info[ds.name] = {"articles": len(ds.articles), "passages": len(passages), "pairs": len(pairs),
                         "seconds": round(time.perf_counter() - t0, 1)}
    return every, judged, info


def misses(pairs: Sequence[Pair], judged: Sequence[Judged], threshold: float) -> list[str]:
    """One line per pair the verifier gets wrong at ``threshold``: kind, support, claims lacking, the sentence and
    what was changed (for a person reading the terminal: the data is never written to the results)."""
    return [f"{j.kind}\t{j.support:.3f}\t{j.missing}\t{p.sentence}\t{p.detail}"
            for p, j in zip(pairs, judged, strict=True) if j.verified(threshold) != j.supported]


def report(judged: Sequence[Judged], info: dict[str, Any], shipped: float) -> dict[str, Any]:
    """Figures at the shipped threshold, the sweep, and the threshold chosen on the calibration half."""
    calibration = [j for j in judged if j.half == "calibration"]
    held_out = [j for j in judged if j.half == "held_out"]
    chosen = choose(calibration)
    counts: dict[str, dict[str, int]] = {}
    for j in judged:
        counts.setdefault(j.kind, {}).setdefault(j.dataset, 0)
        counts[j.kind][j.dataset] += 1
    return {
        "what": "precision and recall of the citation verifier's 'verified' on labelled (sentence, passage) pairs",
        "seed": SEED, "per_kind_per_dataset": PER_KIND, "datasets": info, "pairs": len(judged), "counts": counts,
        "criterion": "lowest threshold at which the one-sided 95% upper bound (Wilson) of the share of "
                     f"other-passage sentences verified is at most {MAX_FALSE_VERIFIED:.0%}, on the calibration half "
                     "of the articles",
        "at_setting": {"all": rates(judged, shipped)},
        "chosen": {"threshold": chosen, "calibration": rates(calibration, chosen),
                   "held_out": rates(held_out, chosen), "all": rates(judged, chosen)},
        "sweep": [{k: v for k, v in rates(judged, t).items() if k != "kinds"}
                  | {"other_passage_verified": rates(judged, t)["kinds"]["other_passage"]["verified"]}
                  for t in SWEEP],
        "judged": [asdict(j) for j in judged],
    }


def markdown(result: dict[str, Any]) -> str:
    """The headline table: precision, recall and per-kind rates at the shipped and the chosen threshold."""
    def row(label: str, r: dict[str, Any]) -> str:
        k = r["kinds"]
        cells = [f"{r['threshold']:.2f}", _f(r["precision"]), _f(r["recall"])]
        cells += [_f(k[kind]["verified"]) for kind in SUPPORTED_KINDS]
        cells += [_f(k["other_passage"]["verified"])]
        cells += [_f(r["swap_caught"][s]) for s in ("name", "number", "date")]
        return f"| {label} | " + " | ".join(cells) + " |"

    head = ("| set | threshold | precision | recall | verbatim verified | clause removed verified | "
            "QA declarative verified | other passage verified | name swaps caught | number swaps caught | "
            "date swaps caught |")
    lines = [head, "|" + "---|" * 11]
    lines.append(row("all, setting when run", result["at_setting"]["all"]))
    for part in ("calibration", "held_out", "all"):
        lines.append(row(f"{part.replace('_', '-')}, chosen", result["chosen"][part]))
    counts = ", ".join(f"{k} {sum(v.values())}" for k, v in result["counts"].items())
    lines += ["", f"{result['pairs']} pairs ({counts}); criterion: {result['criterion']}.", "",
              "| threshold | precision | recall | F1 | other passage verified (upper 95%) | worst unsupported kind "
              "verified |", "|---|---|---|---|---|---|"]
    for s in result["sweep"]:
        if round(s["threshold"] * 100) % 5 == 0:
            lines.append(f"| {s['threshold']:.2f} | {_f(s['precision'])} | {_f(s['recall'])} | {_f(s['f1'])} | "
                         f"{_f(s['other_passage_verified'])} ({_f(s['other_passage_verified_upper95'])}) | "
                         f"{_f(s['worst_false_verified'])} |")
    return "\n".join(lines) + "\n"


def _f(x: float | None) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3f}"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS,
                        help=f"folder for {OUT_JSON} and {OUT_MD} (default eval/results)")
    parser.add_argument("--data-dir", type=Path, default=None, help="folder holding xquad/ and fairytaleqa/")
    parser.add_argument("--per-kind", type=int, default=PER_KIND, help="pairs of each kind per dataset")
    parser.add_argument("--show-misses", action="store_true",
                        help="also print the pairs judged wrongly at the chosen threshold (to the terminal only)")
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from rag.pipeline import Pipeline
    from rag.settings import Settings

    settings = Settings()
    embedder = Pipeline(settings).embedder
    pairs, judged, info = measure(settings, embedder, args.data_dir, per_kind=args.per_kind)
    result = report(judged, info, settings.generation.support_threshold)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / OUT_JSON).write_text(json.dumps(result, indent=1) + "\n")
    table = markdown(result)
    (args.out / OUT_MD).write_text(table)
    print(table)
    if args.show_misses:
        print("\n".join(misses(pairs, judged, result["chosen"]["threshold"])))


if __name__ == "__main__":
    main()

"""``rag eval``: run a dataset through ``answer()``, write the report, gate against baselines, compare runs."""

from __future__ import annotations

import json
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from rag.errors import RagError

if TYPE_CHECKING:
    from rag.settings import Settings

Dataset = Annotated[str | None, typer.Argument(
    help="seeds, xquad, fairytaleqa, a JSONL file in the shared format, or a folder of articles with FAQs.")]
K = Annotated[int | None, typer.Option("--k", "-k", min=1, max=100, help="Chunks answer() retrieves (default: top_k).")]
WithFaq = Annotated[bool, typer.Option("--with-faq", help="Index the FAQ / gold QA too: a leaky UPPER BOUND.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print summary.json (or the comparison) to stdout.")]
Out = Annotated[Path | None, typer.Option("--out", help="Output folder (default eval/runs/<dataset>[-with-faq]-k<k>).")]
DataDir = Annotated[Path | None, typer.Option("--data-dir", envvar="RAG_EVAL_DATA",
                                              help="Folder holding xquad/ and fairytaleqa/ (default ../shared/data).")]
Check = Annotated[bool, typer.Option(
    "--check", help="Exit 1 if a gated metric falls below eval/baselines/<dataset>.json.")]
WriteBaseline = Annotated[bool, typer.Option(
    "--write-baseline", help="Replace eval/baselines/<dataset>.json with this run.")]
Compare = Annotated[tuple[Path, Path] | None, typer.Option(
    "--compare", metavar="A B", help="Compare two runs (summary.json files or run folders) instead of running.")]
NoCache = Annotated[bool, typer.Option("--no-cache", help="Embed every text every time (production latency; slow).")]
Progress = Annotated[bool | None, typer.Option(
    "--progress/--no-progress", help="Progress bar (default: on a terminal).")]


class AnswererName(StrEnum):
    """Who writes the answers in an eval run."""

    extractive = "extractive"
    llm = "llm"


AnswererOpt = Annotated[AnswererName | None, typer.Option(
    "--answerer", help="Who writes the answers (default: the settings'). llm: the bundled local model unless "
    "RAG_LLM_BASE_URL is set.")]
Sample = Annotated[int | None, typer.Option(
    "--sample", min=1, help="Ask a fixed sample of N questions (seed 0, spread evenly over the articles).")]


def register(app: typer.Typer) -> None:
    """Add ``rag eval`` to the ``rag`` command line (the ``rag.commands`` entry point)."""
    from rag.cli import domain_errors

    app.command("eval")(domain_errors(eval_cmd))


def eval_cmd(
    dataset: Dataset = None,
    k: K = None,
    with_faq: WithFaq = False,
    as_json: AsJson = False,
    out: Out = None,
    data_dir: DataDir = None,
    check: Check = False,
    write_baseline: WriteBaseline = False,
    compare: Compare = None,
    no_cache: NoCache = False,
    progress: Progress = None,
    answerer: AnswererOpt = None,
    sample: Sample = None,
) -> None:
    """Score answer() against each article's own FAQ (or a QA dataset), leakage-free, with 95% CIs."""
    if compare is not None:
        _compare(*compare, as_json=as_json)
        return
    if dataset is None:
        raise RagError("name a dataset (seeds, xquad, fairytaleqa or a path), or pass --compare A B")
    if with_faq and (check or write_baseline):
        raise RagError("--check and --write-baseline use the leakage-free run: drop --with-faq")
    if (sample or answerer is AnswererName.llm) and (check or write_baseline):
        raise RagError("--check and --write-baseline use the whole dataset and the extractive answerer: drop "
                       "--sample and --answerer llm")

    # Idle OpenMP threads sleep instead of spinning: on a busy 2-core machine spinning made a run 5x slower.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from eval import datasets, gate
    from eval.report import metrics_table, write_all
    from eval.runner import evaluate
    from rag.cli import load_settings

    ds = datasets.load(dataset, data_dir)
    if sample:
        ds = datasets.sample(ds, sample)
    settings = with_answerer(load_settings(), None if answerer is None else answerer.value)
    k = k or settings.search.top_k
    show = sys.stderr.isatty() if progress is None else progress
    baseline = gate.load_baseline(ds.name) if check else None  # fail before the slow part
    if not as_json:
        typer.echo(f"eval {ds.name}: {len(ds.articles)} articles, {len(ds.questions)} questions, k={k}"
                   + (", FAQ indexed (upper bound)" if with_faq else "")
                   + (", answers by the LLM" if settings.answers_with_llm else ""), err=True)
    summary, rows = evaluate(ds, settings, k=k, with_faq=with_faq, cache=not no_cache, progress=show)
    llm = "-llm" if settings.answers_with_llm else ""
    out = out or datasets.REPO_ROOT / "eval" / "runs" / f"{ds.name}{'-with-faq' if with_faq else ''}-k{k}{llm}"
    write_all(out, summary, rows)
    if as_json:
        typer.echo(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        _print_summary(summary, metrics_table(summary), out)
    if write_baseline:
        typer.echo(f"baseline written: {gate.write_baseline(summary)}", err=True)
    if baseline is not None:
        _gate(summary, baseline)


def with_answerer(settings: Settings, answerer: str | None) -> Settings:
    """The settings with ``answerer`` applied; the LLM answerer uses the bundled model unless a server is set."""
    if answerer is None:
        return settings
    if answerer == "llm" and not settings.llm_configured:
        return settings.replace(answerer="llm", llm="local")
    return settings.replace(answerer=answerer)


def _print_summary(summary: dict[str, Any], table: list[str], out: Path) -> None:
    t = summary["timings"]
    typer.echo("\n".join(table))
    typer.echo(f"\nleakage check: {'passed' if summary['leakage']['passed'] else 'not applied'} "
               f"({summary['leakage']['note']})")
    typer.echo(f"time: {t['total_s']:.1f} s (model {t['model_load_s']:.1f}, index {t['index_s']:.1f}, "
               f"ask {t['ask_s']:.1f}, score {t['score_s']:.1f}); report in {out}")


def _gate(summary: dict[str, Any], baseline: dict[str, Any]) -> None:
    from eval.gate import check

    results = check(summary, baseline)
    if summary["k"] != baseline.get("k"):
        typer.echo(f"note: this run used k={summary['k']}, the baseline k={baseline.get('k')}; "
                   "retrieval metrics are compared by name without @k", err=True)
    for r in results:
        typer.echo(r.line(), err=True)
    failed = [r.metric for r in results if not r.passed]
    if failed:
        typer.echo(f"gate FAILED for {summary['dataset']}: {', '.join(failed)}", err=True)
        raise typer.Exit(1)
    typer.echo(f"gate passed for {summary['dataset']} ({len(results)} metrics)", err=True)


def _compare(a: Path, b: Path, *, as_json: bool) -> None:
    from eval.compare import compare, render, to_json

    deltas, flips = compare(a, b)
    typer.echo(json.dumps(to_json(deltas, flips), indent=2, ensure_ascii=False) if as_json else render(deltas, flips))

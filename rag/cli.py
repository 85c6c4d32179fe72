"""Command line: ``rag index|ask`` and the ``ask`` shortcut, thin over ``rag.pipeline``; the front ends add
``rag serve`` and ``rag eval`` through the ``rag.commands`` entry-point group."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from rag.errors import RagError

if TYPE_CHECKING:
    from rag.settings import Settings
    from rag.types import Answer

app = typer.Typer(help="Grounded question answering over your articles.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
ask_app = typer.Typer(pretty_exceptions_enable=False, add_completion=False)

F = TypeVar("F", bound=Callable[..., Any])
IndexDir = Annotated[Path | None, typer.Option("--index-dir", help="Index folder (env RAG_INDEX_DIR).")]
Question = Annotated[str, typer.Argument(help="The question to answer.")]
K = Annotated[int | None, typer.Option("--k", "-k", min=1, max=50, help="Passages to retrieve.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")]
Explain = Annotated[bool, typer.Option("--explain", help="Show every retrieved passage and its scores.")]
UseLLM = Annotated[bool, typer.Option(
    "--llm", help="The LLM writes the answer, verified against the passages (the bundled model unless "
    "RAG_LLM_BASE_URL is set).")]


def domain_errors(fn: F) -> F:
    """Turn domain errors into one line on stderr and a non-zero exit."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except RagError as e:
            typer.echo(f"error: {' '.join(e.message.splitlines())}", err=True)  # one line, whatever the message
            raise typer.Exit(2 if e.code in ("index_not_found", "index_mismatch", "index_corrupt") else 1) from None
        except OSError as e:  # the file system said no: a file where a folder should be, no permission, no space
            if isinstance(e, (FileExistsError, NotADirectoryError)) and e.filename and Path(e.filename).is_file():
                typer.echo(f"error: {e.filename} is a file, not a folder (check --index-dir)", err=True)
                raise typer.Exit(2) from None
            typer.echo(f"error: {e.strerror or e}: {e.filename}" if e.filename else f"error: {e}", err=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            typer.echo("interrupted", err=True)
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def load_settings(index_dir: Path | None = None, **overrides: Any) -> Settings:
    """Settings from the environment with command-line overrides applied (and validated)."""
    from pydantic import ValidationError

    from rag.settings import Settings

    if index_dir is not None:
        overrides["index_dir"] = index_dir
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as e:
        first = e.errors()[0]
        raise RagError(f"invalid setting {first['loc'][-1] if first['loc'] else ''}: {first['msg']}") from None


@app.command("index")
@domain_errors
def index_cmd(
    paths: Annotated[list[Path] | None, typer.Argument(help="Files or folders (default: seeds/).")] = None,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Discard the index and build it anew.")] = False,
    index_dir: IndexDir = None,
) -> None:
    """Index articles; only new or changed documents are embedded (all of them when the index holds the other kind
    of chunk vectors, RAG_CHUNK_VECTORS), vanished ones are removed."""
    from rag import get_pipeline
    from rag.ingest.loaders import Skipped, load_paths

    settings = load_settings(index_dir)
    roots = paths or [Path("seeds")]
    for p in roots:
        if not p.exists():
            raise RagError(f"no such file or folder: {p}")
    skipped: list[Skipped] = []
    articles = load_paths(roots, skipped)
    for s in skipped:
        typer.echo(f"skipped {s.reason}", err=True)
    report = get_pipeline(settings).update(upsert=articles, prune_sources=[p for p in roots if p.is_dir()],
                                           spare=[s.path for s in skipped if s.keep], rebuild=rebuild,
                                           progress=sys.stderr.isatty())
    typer.echo(report.summary() + (f", skipped {len(skipped)} unreadable (see above)" if skipped else ""))
    generation = f" (generation {report.generation})" if report.generation else ""
    st = settings.storage
    where = (f"Milvus at {st.milvus_uri}, collections {st.milvus_prefix}*" if st.store == "milvus"
             else str(settings.index.index_dir))
    typer.echo(f"index: {where}{generation}")


def llm_overrides(use_llm: bool, settings: Settings | None = None) -> dict[str, Any]:
    """Settings for ``--llm``: the LLM writes the answer, the bundled local model unless one is configured."""
    if not use_llm:
        return {}
    from rag.settings import Settings

    configured = (settings or Settings()).llm_configured
    return {"answerer": "llm"} if configured else {"answerer": "llm", "llm": "local"}


def _ask(question: str, k: int | None, as_json: bool, explain: bool, index_dir: Path | None, use_llm: bool) -> None:
    from rag.pipeline import Pipeline

    pipeline = Pipeline(load_settings(index_dir, **llm_overrides(use_llm)))
    try:
        result = pipeline.answer(question, k=k)
    finally:
        pipeline.close()  # stops a local LLM before the process exits
    if as_json:
        typer.echo(json.dumps(result.to_dict(explain=explain), ensure_ascii=False, indent=2))
    else:
        typer.echo(format_answer(result, explain=explain))


@app.command("ask")
@domain_errors
def ask_cmd(question: Question, k: K = None, as_json: AsJson = False, explain: Explain = False,
            index_dir: IndexDir = None, use_llm: UseLLM = False) -> None:
    """Answer a question from the indexed articles, with numbered citations."""
    _ask(question, k, as_json, explain, index_dir, use_llm)


@ask_app.command()
@domain_errors
def ask_main(question: Question, k: K = None, as_json: AsJson = False, explain: Explain = False,
             index_dir: IndexDir = None, use_llm: UseLLM = False) -> None:
    """Answer a question from the indexed articles, with numbered citations."""
    _ask(question, k, as_json, explain, index_dir, use_llm)


llm_app = typer.Typer(help="The bundled local LLM (needs `make install-llm`).", no_args_is_help=True)
app.add_typer(llm_app, name="llm")
LLMPort = Annotated[int | None, typer.Option("--port", min=0, max=65535, help="Port (env RAG_LLM_PORT; 0: any).")]


@llm_app.command("serve")
@domain_errors
def llm_serve_cmd(port: LLMPort = None) -> None:
    """Serve the bundled SmolLM2-135M-Instruct on 127.0.0.1 (llama.cpp's OpenAI-compatible server) until Ctrl+C."""
    import time

    from rag.models.local_llm import LOCAL_MODEL_NAME, LocalLLMConfig, LocalLLMServer

    g = load_settings(llm_port=port).generation
    server = LocalLLMServer(LocalLLMConfig(g.llm_threads, g.llm_context_tokens, g.llm_port))
    server.start()
    typer.echo(f"serving {LOCAL_MODEL_NAME} at {server.url} (RAG_LLM_BASE_URL={server.url}); Ctrl+C stops it",
               err=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        typer.echo("stopping", err=True)
    finally:
        server.stop()


def format_answer(result: Answer, *, explain: bool = False) -> str:
    """The answer and its sources as a person reads them at a terminal."""
    lines = [result.answer]
    # A person gets the short answer only where the sentence settles it; a low-confidence pick among rivals is
    # wrong more often than right, and the cited sentence below answers anyway (--json keeps both).
    if result.short_answer and result.short_answer_confidence == "high" and not result.abstained:
        lines.insert(0, f"Short answer: {result.short_answer}")
    if result.citations:
        lines.append("")
    for c in result.citations:
        checked = "" if c.support is None else f", verified: support {c.support:.2f}"
        lines.append(f'[{c.n}] {c.doc_id} — "{_clip(c.title, 60)}" (chunk {c.chunk_id}, score {c.score:.2f}{checked})')
    if result.fallback:
        lines += ["", f"(quoting the passages: {result.fallback})"]
    if result.flagged:
        where = ", ".join(sorted({f"{f.doc_id}#{f.chunk_id}" for f in result.flagged}))
        lines += [f"(withheld from the LLM as instruction-like: {where})"]
    if explain:
        lines += ["", "Retrieved passages (rank, score, dense, bm25, fused, rerank; - where a stage did not run):"]
        for h in result.hits:
            parts = " ".join(f"{name}={_num(v)}" for name, v in (("dense", h.dense), ("bm25", h.bm25),
                                                                   ("fused", h.fused), ("rerank", h.rerank)))
            lines.append(f"  {h.rank}. {h.chunk.doc_id}#{h.chunk.chunk_id} score={h.score:.4f} {parts}: "
                         f"{_clip(h.chunk.text, 90)}")
    return "\n".join(lines)


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def _clip(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1].rsplit(" ", 1)[0] + " ..."


#: Entry-point group through which front ends add their commands (``rag serve``, ``rag eval``): each entry is a
#: function taking the ``typer.Typer`` app. The library never imports its front ends.
COMMANDS_GROUP = "rag.commands"


def register_front_ends() -> None:
    """Let every installed front end add its commands; each imports its heavy parts lazily."""
    from importlib.metadata import entry_points

    for ep in sorted(entry_points(group=COMMANDS_GROUP), key=lambda e: e.name):
        ep.load()(app)


def main() -> None:
    """Entry point of ``rag``."""
    register_front_ends()
    app()


def ask_entry() -> None:
    """Entry point of ``ask``."""
    ask_app()

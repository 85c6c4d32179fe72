"""``rag eval``: placeholder until the harness lands (owned by the eval work)."""

from __future__ import annotations

import typer


def eval_cmd() -> None:
    """Evaluate answers against each article's FAQ."""
    typer.echo("not implemented yet", err=True)
    raise typer.Exit(1)

"""``rag serve``: run the API and chat page with uvicorn."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

Host = Annotated[str | None, typer.Option("--host", help="Interface to bind (env RAG_HOST; default 127.0.0.1).")]
Port = Annotated[int | None, typer.Option("--port", min=1, max=65535, help="Port (env RAG_PORT; default 8000).")]
IndexDir = Annotated[Path | None, typer.Option("--index-dir", help="Index folder (env RAG_INDEX_DIR).")]
LogLevel = Annotated[str, typer.Option("--log-level", help="uvicorn log level.")]


def register(app: typer.Typer) -> None:
    """Add ``rag serve`` to the ``rag`` command line (the ``rag.commands`` entry point)."""
    from rag.cli import domain_errors

    app.command("serve")(domain_errors(serve_cmd))


def serve_cmd(host: Host = None, port: Port = None, index_dir: IndexDir = None, log_level: LogLevel = "info") -> None:
    """Serve the HTTP API and the chat page (the model and index load in the background; see /readyz)."""
    import uvicorn

    from api.app import create_app
    from rag.cli import load_settings

    settings = load_settings(index_dir, host=host, port=port)
    server = settings.server
    st = settings.storage
    where = (f"Milvus at {st.milvus_uri}, collections {st.milvus_prefix}*" if st.store == "milvus"
             else settings.index.index_dir)
    typer.echo(f"serving http://{server.host}:{server.port}/ (index: {where})", err=True)
    if server.workers == 1:
        uvicorn.run(create_app(settings), host=server.host, port=server.port, log_level=log_level,
                    timeout_graceful_shutdown=5)
        return
    # Each worker process builds its own app from the environment: hand it the command line's overrides there.
    os.environ.update({"RAG_INDEX_DIR": str(settings.index.index_dir), "RAG_HOST": server.host,
                       "RAG_PORT": str(server.port)})
    uvicorn.run("api.app:create_app", factory=True, workers=server.workers, host=server.host, port=server.port,
                log_level=log_level, timeout_graceful_shutdown=5)

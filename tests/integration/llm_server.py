"""The bundled local LLM as a separate process for integration tests: ``rag llm serve`` on 127.0.0.1, its
/metrics read to count completions, killed at will."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import httpx

from tests.integration.server import RAG, free_port, wait_for
from tests.paths import ROOT


def local_llm_missing() -> str | None:
    """Why the local LLM cannot run here (not installed), or None."""
    from rag.errors import ModelUnavailable
    from rag.models.local_llm import local_model_path

    try:
        import xllamacpp  # noqa: F401

        local_model_path()
    except (ImportError, ModelUnavailable) as e:
        return str(e)
    return None


def clean_env() -> dict[str, str]:
    """The environment without the developer's own RAG_* settings."""
    return {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}


class LLMProcess:
    """``rag llm serve`` in its own process, so a test can read its /metrics or kill it."""

    def __init__(self, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        with log.open("wb") as out:
            self.proc = subprocess.Popen([str(RAG), "llm", "serve", "--port", str(self.port)], cwd=ROOT,
                                         env=clean_env(), stdout=out, stderr=subprocess.STDOUT)
        wait_for(self.url, self.proc, log, "/health", timeout=120)

    def completions(self) -> float:
        """Prompt tokens the server has read: it grows with every completion (a cached prompt still reads one)."""
        text = httpx.get(f"{self.url}/metrics", timeout=10).text
        m = re.search(r"^llamacpp:prompt_tokens_total\s+(\S+)", text, re.MULTILINE)
        assert m, text
        return float(m.group(1))

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=30)

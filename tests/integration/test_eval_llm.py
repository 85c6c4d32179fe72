"""``rag eval --answerer llm --sample N`` end to end: the bundled LLM on 127.0.0.1, its raw replies kept and judged,
the citation and LLM metrics in the summary."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.paths import ROOT

pytestmark = [pytest.mark.integration, pytest.mark.llm]
RAG = Path(sys.executable).parent / "rag"


def _missing() -> str | None:
    from rag.errors import ModelUnavailable
    from rag.models.local_llm import local_model_path

    try:
        import xllamacpp  # noqa: F401

        local_model_path()
    except (ImportError, ModelUnavailable) as e:
        return str(e)
    return None


def test_the_llm_answerer_is_evaluated_on_a_fixed_sample(tmp_path: Path) -> None:
    missing = _missing()
    if missing:
        pytest.skip(f"the local LLM is not installed ({missing}); run `make install-llm`")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    res = subprocess.run([str(RAG), "eval", "seeds", "--answerer", "llm", "--sample", "2", "--no-cache",
                          "--out", str(tmp_path)], capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    assert res.returncode == 0, res.stderr
    assert "answers by the LLM" in res.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["questions"] == 2 and summary["config"]["answerer"] == "llm" and summary["config"]["llm"] == "local"
    a = summary["answerers"]
    assert a["llm_replies"] == 2 and a["llm_sentences_written"] >= 2  # the gate passes both seed questions
    assert sum(a["written_by"].values()) == 2
    assert {"citation_recall", "raw_citation_recall", "raw_marked_share", "dropped_share", "fallback"} <= set(
        a["metrics"])
    rows = [json.loads(r) for r in (tmp_path / "questions.jsonl").read_text().splitlines()]
    assert all(r["llm_reply"] for r in rows)
    assert all(r["answerer"] == ("extractive" if r["fallback"] else "llm") for r in rows)
    assert summary["metrics"]["latency_p50_ms"]["mean"] > 100  # an LLM call, not a cached lookup

    refused = subprocess.run([str(RAG), "eval", "seeds", "--answerer", "llm", "--check"], capture_output=True,
                             text=True, cwd=ROOT, env=env, timeout=120)
    assert refused.returncode != 0 and "--answerer llm" in refused.stderr

"""The bundled LLM for real: SmolLM2-135M-Instruct served by llama.cpp (xllamacpp) on 127.0.0.1, answering
through ``ask --llm`` and ``rag serve``, behind the evidence gate and the citation verifier."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openai import OpenAI

from tests.integration.llm_server import LLMProcess, clean_env, local_llm_missing
from tests.integration.server import RAG, start_server, stop, wait_for
from tests.paths import ROOT

pytestmark = [pytest.mark.integration, pytest.mark.llm]

ASK = RAG.parent / "ask"
#: Seed questions of several kinds. Temperature is 0, but the prompt's fence is random per request, so a reply
#: can differ from one run to the next: the assertions hold for any reply.
QUESTIONS = (
    "Why is China concerned about a Russia-North Korea arms deal?",
    "Who led the Chinese delegation?",
    "What did Kim Jong Un say about relations with Russia?",
    "What was the purpose of the parade?",
    "What weapons were shown at the parade?",
    "When was the parade held?",
    "Who is Putin?",
)


missing = local_llm_missing()
if missing:
    pytest.skip(f"the local LLM is not installed ({missing}); run `make install-llm`", allow_module_level=True)


@pytest.fixture(scope="module")
def llm_server(seed_index: Path, local_llm: LLMProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``rag serve`` answering with the LLM at RAG_LLM_BASE_URL."""
    log = tmp_path_factory.mktemp("logs") / "llm-serve.log"
    proc, url = start_server(seed_index, log, {"RAG_LLM_BASE_URL": f"{local_llm.url}/v1", "RAG_LLM_MODEL": "smollm2"})
    try:
        wait_for(url, proc, log, "/readyz")
        yield url
    finally:
        stop(proc)


def _verified(answer: dict[str, object]) -> bool:
    cites = answer["citations"]
    assert isinstance(cites, list)
    return all(c["verified"] and c["support"] is not None and c["support"] >= 0.6 for c in cites)


def test_ask_llm_starts_the_bundled_model_and_answers_with_verified_citations(seed_index: Path) -> None:
    def ask(q: str) -> tuple[str, dict[str, Any]]:
        out = subprocess.run([str(ASK), "--llm", "--json", "--index-dir", str(seed_index), q], cwd=ROOT,
                             env=clean_env(), capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr
        d = json.loads(out.stdout)
        return d["answer"], d

    _, d = _first_llm_answer(ask)
    assert d["fallback"] is None and d["citations"] and _verified(d)
    assert re.search(r"\[1\]", d["answer"]) and d["citations"][0]["doc_id"] == "000_d024cab3850fab44"


def test_every_shown_sentence_is_verified_and_the_verifier_intervenes(llm_server: str) -> None:
    """Across the seed questions the tiny model gets some right and some wrong: what is shown is always
    verified, and at least one reply had a sentence dropped or was replaced by the extractive answer."""
    answers = [httpx.post(f"{llm_server}/ask", json={"question": q}, timeout=120).json() for q in QUESTIONS]
    assert all(a["answerer"] in ("llm", "extractive") and a["answer"] for a in answers)
    assert any(a["answerer"] == "llm" for a in answers)
    assert all(_verified(a) for a in answers if a["answerer"] == "llm")
    assert any(a["dropped_sentences"] > 0 or (a["fallback"] or {}).get("reason", "").startswith("no sentence")
               for a in answers)


def test_the_evidence_gate_never_calls_the_llm(llm_server: str, local_llm: LLMProcess) -> None:
    before = local_llm.completions()
    d = httpx.post(f"{llm_server}/ask", json={"question": "What is the capital of Australia?"}, timeout=120).json()
    assert d["abstained"] and d["citations"] == []
    assert local_llm.completions() == before  # not one prompt token read
    # and the counter does count a call (one token of a completion: a whole answer would cost seconds)
    r = httpx.post(f"{local_llm.url}/v1/completions", json={"prompt": "The parade", "max_tokens": 1}, timeout=120)
    assert r.status_code == 200, r.text
    assert local_llm.completions() > before


def _first_llm_answer(ask: Callable[[str], tuple[str, dict[str, Any]]]) -> tuple[str, dict[str, Any]]:
    """The first of the seed questions the LLM answers (the tiny model's reply fails verification about half the
    time, and the fence is random per request, so any one question may fall back; every reply is checked)."""
    seen = []
    for q in QUESTIONS[:5]:
        text, meta = ask(q)
        assert meta["answerer"] == "llm" or meta["fallback"], meta  # never an unexplained extractive answer
        if meta["answerer"] == "llm":
            return text, meta
        seen.append(meta["fallback"]["reason"])
    raise AssertionError(f"every question fell back: {seen}")


def test_chat_streams_only_verified_sentences(llm_server: str) -> None:
    def ask(q: str) -> tuple[str, dict[str, Any]]:
        body = {"messages": [{"role": "user", "content": q}], "stream": True}
        with httpx.stream("POST", f"{llm_server}/chat", json=body, timeout=120) as r:
            raw = r.read().decode()
        events = [(m.group(1), m.group(2)) for m in re.finditer(r"event: (\w+)\r?\ndata: (.*)", raw)]
        assert [e for e, _ in events][-2:] == ["citations", "done"]
        text = "".join(json.loads(d)["text"] for e, d in events if e == "delta")
        return text, json.loads(next(d for e, d in events if e == "citations"))

    text, meta = _first_llm_answer(ask)
    assert _verified(meta) and text.strip() and all(f"[{c['n']}]" in text for c in meta["citations"])


def test_openai_client_streams_a_verified_answer(llm_server: str) -> None:
    client = OpenAI(base_url=f"{llm_server}/v1", api_key="x", max_retries=0)

    def ask(q: str) -> tuple[str, dict[str, Any]]:
        chunks = list(client.chat.completions.create(model="grounded-rag", stream=True,
                                                     messages=[{"role": "user", "content": q}]))
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        return text, chunks[-1].model_extra or {}

    text, final = _first_llm_answer(ask)
    assert final["fallback"] is None and text.strip() and "[1]" in text
    assert all(c["verified"] for c in final["citations"])


def test_a_stopped_llm_server_means_the_extractive_answer(seed_index: Path, tmp_path: Path) -> None:
    own = LLMProcess(tmp_path / "llm.log")
    log = tmp_path / "serve.log"
    proc, url = start_server(seed_index, log, {"RAG_LLM_BASE_URL": f"{own.url}/v1", "RAG_LLM_TIMEOUT_S": "300"})
    try:
        wait_for(url, proc, log, "/readyz")
        first = httpx.post(f"{url}/ask", json={"question": QUESTIONS[0]}, timeout=120).json()
        assert first["answerer"] == "llm" or "cannot reach" not in first["fallback"]["reason"]  # the server answered
        own.kill()
        r = httpx.post(f"{url}/ask", json={"question": QUESTIONS[0]}, timeout=120)
        d = r.json()
        assert r.status_code == 200 and d["answerer"] == "extractive" and not d["abstained"] and d["citations"]
        assert "cannot reach the LLM server" in d["fallback"]["reason"]
        body = {"messages": [{"role": "user", "content": QUESTIONS[0]}], "stream": True}
        with httpx.stream("POST", f"{url}/chat", json=body, timeout=120) as s:
            raw = s.read().decode()
        assert "event: citations" in raw and "event: error" not in raw and "cannot reach" in raw
    finally:
        stop(proc)
        own.kill()

"""``RAG_CRASH_AT`` kills the process at the step it names and nowhere else; it is a test hook, not a setting."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from rag.settings import GROUP_OF, Settings
from rag.store.faults import STEPS
from tests.paths import ROOT

PROBE = ("from rag.store.faults import STEPS, crash_point\n"
         "for step in STEPS:\n"
         "    crash_point(step)\n"
         "    print(step, flush=True)\n")


def probe(armed: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "RAG_CRASH_AT"}
    if armed is not None:
        env["RAG_CRASH_AT"] = armed
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("step", [STEPS[0], STEPS[3], STEPS[-1]])
def test_the_named_step_kills_the_process_by_sigkill(step: str) -> None:
    out = probe(step)
    assert out.returncode == -9
    assert out.stdout.split() == list(STEPS[: STEPS.index(step)])  # every earlier step passed


@pytest.mark.parametrize("armed", [None, "", "no-such-step"])
def test_without_a_known_step_every_crash_point_passes(armed: str | None) -> None:
    out = probe(armed)
    assert out.returncode == 0 and out.stdout.split() == list(STEPS)


def test_the_hook_is_no_setting_and_only_the_reliability_page_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "crash_at" not in GROUP_OF
    monkeypatch.setenv("RAG_CRASH_AT", STEPS[0])
    Settings()  # an unknown RAG_ variable is not refused
    docs = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    naming = [p.name for p in docs if "RAG_CRASH_AT" in p.read_text(encoding="utf-8")]
    assert naming == ["reliability.md"]

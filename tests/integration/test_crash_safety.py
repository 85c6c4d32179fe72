"""SIGKILL during `rag index` leaves the previous index live and answering."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag.pipeline import Pipeline
from rag.settings import Settings
from rag.store.generations import current_generation, load_snapshot
from tests.paths import ROOT, SEEDS

pytestmark = [pytest.mark.integration, pytest.mark.slow]
RAG = str(Path(sys.executable).parent / "rag")


def big_corpus(folder: Path, n: int) -> Path:
    """Many distinct articles, so embedding takes long enough to be interrupted."""
    folder.mkdir()
    seed = (SEEDS / "000_d024cab3850fab44.txt").read_text()
    for i in range(n):
        (folder / f"copy_{i:03d}.txt").write_text(seed.replace("75th", f"{i}th").replace("Kim", f"Kim{i}"))
    return folder


@pytest.mark.parametrize("when", ["embedding", "publishing"])
def test_sigkill_mid_build_keeps_previous_index(tmp_path: Path, real_embedder: object, when: str) -> None:
    index = tmp_path / "index"
    env = {**os.environ, "RAG_INDEX_DIR": str(index)}
    first = subprocess.run([RAG, "index", str(SEEDS)], env=env, cwd=ROOT, capture_output=True, text=True,
                           timeout=300)
    assert first.returncode == 0, first.stderr
    live = current_generation(index)
    corpus = big_corpus(tmp_path / "more", 60)
    proc = subprocess.Popen([RAG, "index", str(corpus)], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    gens = index / "generations"
    while proc.poll() is None and time.monotonic() < deadline:
        if when == "embedding" and time.monotonic() > deadline - 240 + 8:
            break  # model loaded, chunks being embedded
        if when == "publishing" and any(p.name.startswith(".tmp-") for p in gens.iterdir()):
            break  # the new generation is being written
        time.sleep(0.002)
    if proc.poll() is not None:
        pytest.fail(f"rag index finished before it could be killed ({when})")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert current_generation(index) == live
    snap = load_snapshot(index)
    assert set(snap.documents) == {"000_d024cab3850fab44"}
    pipeline = Pipeline(Settings(index_dir=index), real_embedder)  # type: ignore[arg-type]
    ans = pipeline.answer("Who led the Chinese delegation?")
    assert not ans.abstained and "Liu Guozhong" in ans.answer
    # The next run completes and cleans up what the killed one left behind.
    done = subprocess.run([RAG, "index", str(SEEDS)], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0
    assert not [p for p in gens.iterdir() if p.name.startswith(".tmp-")]
    shutil.rmtree(corpus)

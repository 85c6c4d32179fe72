"""The CLI end to end: real model, real FAISS index, real subprocesses."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.paths import ROOT, SEEDS

pytestmark = pytest.mark.integration
BIN = Path(sys.executable).parent


def run(*args: str, index: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "RAG_INDEX_DIR": str(index), **(env or {})}
    return subprocess.run([str(BIN / args[0]), *args[1:]], capture_output=True, text=True, env=full_env,
                          cwd=ROOT, timeout=300)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed plus a second, unrelated article, in a folder the tests may edit."""
    folder = tmp_path_factory.mktemp("corpus")
    shutil.copy(SEEDS / "000_d024cab3850fab44.txt", folder)
    (folder / "bees.md").write_text(
        "# Honey bees\n\nHoney bees communicate the location of flowers with a waggle dance. "
        "A colony can hold 60,000 workers in summer. The queen lays up to 2,500 eggs a day.\n"
    )
    return folder


@pytest.fixture(scope="module")
def index(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    idx = tmp_path_factory.mktemp("index")
    out = run("rag", "index", str(corpus), index=idx)
    assert out.returncode == 0, out.stderr
    assert "added 2" in out.stdout
    return idx


def test_ask_json_cites_the_seed(index: Path) -> None:
    out = run("ask", "--json", "What was the purpose of the parade in North Korea?", index=index)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert not data["abstained"]
    assert "75th founding anniversary" in data["answer"]
    assert data["citations"][0]["doc_id"] == "000_d024cab3850fab44"
    cite = data["citations"][0]
    assert set(cite) == {"n", "doc_id", "title", "chunk_id", "text", "start", "end", "score", "verified", "support"}
    assert data["generation"] and (index / "generations" / data["generation"]).is_dir()
    source = (SEEDS / "000_d024cab3850fab44.txt").read_text()
    assert any(source[c["start"] : c["end"]] == c["text"] for c in data["citations"])


@pytest.mark.parametrize(("question", "first_line", "confidence"), [
    ("How many eggs does the queen lay a day?", "Short answer: 2,500", "high"),  # the sentence's only number
    # picked among the sentence's names: --json has it, a person reading the terminal gets the cited sentence
    ("Who led the Chinese delegation?", "China’s Vice Premier Liu Guozhong led the Chinese delegation", "low"),
])
def test_ask_prints_only_a_short_answer_the_sentence_settles(index: Path, question: str, first_line: str,
                                                             confidence: str) -> None:
    out = run("ask", question, index=index)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0].startswith(first_line)
    data = json.loads(run("ask", "--json", question, index=index).stdout)
    assert data["short_answer_confidence"] == confidence and data["short_answer"] in first_line


def test_plain_ask_prints_answer_and_numbered_source(index: Path) -> None:
    out = run("ask", "Why is China concerned about a Russia-North Korea arms deal?", index=index)
    assert out.returncode == 0, out.stderr
    assert "sanctions" in out.stdout
    assert "[1] 000_d024cab3850fab44" in out.stdout


def test_off_topic_question_abstains(index: Path) -> None:
    out = run("ask", "--json", "What is the capital of Australia?", index=index)
    assert out.returncode == 0
    data = json.loads(out.stdout)
    assert data["abstained"] is True and data["citations"] == []


def test_reindexing_is_incremental(corpus: Path, index: Path) -> None:
    again = run("rag", "index", str(corpus), index=index)
    assert "0 new chunks embedded" in again.stdout and "unchanged 2" in again.stdout
    bees = corpus / "bees.md"
    bees.write_text(bees.read_text() + "\nDrones do not sting.\n")
    edited = run("rag", "index", str(corpus), index=index)
    assert "updated 1" in edited.stdout and "unchanged 1" in edited.stdout
    assert "1 new chunks embedded" in edited.stdout  # only the bee article's single chunk


def test_changed_chunk_size_is_refused_with_the_fix(index: Path) -> None:
    out = run("ask", "Who led the Chinese delegation?", index=index, env={"RAG_CHUNK_TOKENS": "128"})
    assert out.returncode != 0
    assert "rag index --rebuild" in out.stderr and "chunk_tokens" in out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [(("ask", "   "), "question is empty"), (("ask", "x" * 2001), "limit is 2000")],
)
def test_bad_questions_fail_cleanly(index: Path, args: tuple[str, ...], message: str) -> None:
    out = run(*args, index=index)
    assert out.returncode == 1
    assert message in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_missing_index_names_the_fix(tmp_path: Path) -> None:
    out = run("ask", "anything?", index=tmp_path / "nothing")
    assert out.returncode == 2
    assert "rag index" in out.stderr and "Traceback" not in out.stderr
    # the fix names the folder that was asked for
    out = run("ask", "anything?", "--index-dir", str(tmp_path / "other"), index=tmp_path / "nothing")
    assert f"rag index seeds/ --index-dir {tmp_path / 'other'}" in out.stderr


def test_an_index_dir_that_is_a_file_fails_cleanly(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("not a folder")
    out = run("rag", "index", str(SEEDS), "--index-dir", str(tmp_path / "afile"), index=tmp_path / "unused")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.strip() == f"error: {tmp_path / 'afile'} is a file, not a folder (check --index-dir)"


def test_a_folder_indexes_what_it_can_read_and_names_what_it_skipped(tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    (folder / "sub").mkdir(parents=True)
    (folder / "kettles.txt").write_text("Copper kettles whistle loudly in Varn. They are polished weekly.")
    (folder / "sub" / "latin.txt").write_bytes("café au lait".encode("latin-1"))
    (folder / "utf16.txt").write_text("Brass bells ring at noon in Oskar.", encoding="utf-16")
    out = run("rag", "index", str(folder), index=tmp_path / "idx")
    assert out.returncode == 0, out.stderr
    assert "added 2" in out.stdout and "skipped 1 unreadable" in out.stdout
    assert f"skipped {folder / 'sub' / 'latin.txt'}: not UTF-8 text" in out.stderr
    explained = run("ask", "--explain", "Where do copper kettles whistle?", index=tmp_path / "idx")
    first = next(line for line in explained.stdout.splitlines() if line.startswith("  1. "))
    assert all(f"{name}=" in first for name in ("score", "dense", "bm25", "fused", "rerank")), first


def test_ask_help_does_not_import_torch() -> None:
    code = "import sys; sys.argv=['ask','--help']\nfrom rag.cli import ask_entry\ntry:\n ask_entry()\n" \
           "except SystemExit: pass\nprint('torch' in sys.modules, 'sentence_transformers' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.stdout.strip().endswith("False False"), out.stdout

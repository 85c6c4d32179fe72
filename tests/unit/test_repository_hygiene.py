"""Repository hygiene: no development-set question, answer or long number is quoted in the code, and no file
narrates how the project was made.

The development sets are the shared evaluation data (``$RAG_EVAL_DATA`` or ``../shared/data``). A rule, test
or example that quotes one of their items measures nothing on that item any more, so examples are invented.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.paths import ROOT, SEEDS, eval_data_dir

SCANNED = ("rag", "api", "eval", "tests")  # every Python file under these folders
MIN_QUESTION_WORDS = 5
MIN_ANSWER_WORDS = 4
# Numbers long enough to point at one passage: with thousands separators (60,000) or of five digits or more.
# Years and other four-digit numbers are never long, so they are free to use. Digits inside identifiers,
# hashes or decimals do not count (the look-arounds), so a digest never matches a number by accident.
LONG_NUMBER = re.compile(r"(?<![\w.,])(?:\d{1,3}(?:,\d{3})+|\d{5,})(?![\w]|[.,]\d)")
WORD = re.compile(r"\w+")
KEY = 3  # phrases are looked up by their first three words, then compared whole

NARRATION = (
    re.compile(r"\b(first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|this|last|previous|next)"
               r" session\b", re.IGNORECASE),
    re.compile(r"\bissue[ -]#?[0-9]+\b", re.IGNORECASE),
)


@dataclass(frozen=True)
class DevItems:
    """What may not be quoted: phrases as word tuples (by kind), and long numbers."""

    phrases: dict[tuple[str, ...], str]  # words -> "question" or "answer"
    numbers: frozenset[str]

    def by_key(self) -> dict[tuple[str, ...], list[tuple[str, ...]]]:
        index: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
        for words in self.phrases:
            index.setdefault(words[:KEY], []).append(words)
        return index


def words(text: str) -> tuple[str, ...]:
    """Lower-cased word tokens: whitespace, case and punctuation (quotes, a trailing '?') never hide a quote."""
    return tuple(WORD.findall(text.lower()))


def load_dev_items(data_dir: Path, exempt_text: str = "") -> DevItems:
    """Questions of 5+ words, answers of 4+ words and long numbers of every ``*/*.jsonl`` under ``data_dir``.

    Numbers that also occur in ``exempt_text`` (the project's own seed article) are the project's to quote.
    """
    phrases: dict[tuple[str, ...], str] = {}
    numbers: set[str] = set()
    for path in sorted(data_dir.glob("*/*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            record = json.loads(line)
            numbers.update(LONG_NUMBER.findall(record.get("text", "")))
            for qa in record.get("qa", []):
                question = qa["question"].strip().rstrip("?")
                if len(question.split()) >= MIN_QUESTION_WORDS and len(words(question)) >= KEY:
                    phrases[words(question)] = "question"
                for answer in qa.get("answers", []):
                    numbers.update(LONG_NUMBER.findall(answer))
                    if len(answer.split()) >= MIN_ANSWER_WORDS and len(words(answer)) >= KEY:
                        phrases.setdefault(words(answer), "answer")
    return DevItems(phrases, frozenset(numbers - set(LONG_NUMBER.findall(exempt_text))))


def find_quotes(items: DevItems, files: Mapping[str, str]) -> list[str]:
    """One line per quoted item: ``file:line: kind 'text as the file has it'``."""
    index = items.by_key()
    found: list[str] = []
    for name, text in files.items():
        matches = list(WORD.finditer(text))  # positions in the text itself, for the line and the quote
        tokens = tuple(m.group(0).lower() for m in matches)
        seen: set[tuple[str, ...]] = set()
        for i in range(len(tokens) - KEY + 1):
            for phrase in index.get(tokens[i : i + KEY], ()):
                if phrase not in seen and tokens[i : i + len(phrase)] == phrase:
                    seen.add(phrase)
                    start, end = matches[i].start(), matches[i + len(phrase) - 1].end()
                    line = text.count("\n", 0, start) + 1
                    found.append(f"{name}:{line}: {items.phrases[phrase]} {text[start:end]!r}")
        for m in LONG_NUMBER.finditer(text):
            if m.group(0) in items.numbers:
                line = text.count("\n", 0, m.start()) + 1
                found.append(f"{name}:{line}: number {m.group(0)!r}")
    return found


def scanned_files(root: Path = ROOT, folders: Iterable[str] = SCANNED) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text(encoding="utf-8")
            for folder in folders for p in sorted((root / folder).rglob("*.py"))}


def test_no_development_set_item_is_quoted_in_the_code() -> None:
    data_dir = eval_data_dir()
    if not any(data_dir.glob("*/*.jsonl")):
        pytest.skip(f"no evaluation data under {data_dir} (set $RAG_EVAL_DATA to check for quoted items)")
    seed_text = "\n".join(p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt")))
    items = load_dev_items(data_dir, exempt_text=seed_text)
    found = find_quotes(items, scanned_files())
    assert found == [], "development-set items quoted in the code (invent examples instead):\n" + "\n".join(found)


def test_the_scanner_reports_a_quoted_question_answer_and_number(tmp_path: Path) -> None:
    record = {"id": "mill", "title": "Mill", "text": "The Ostvald mill ground 48,250 sacks of rye in 1911.",
              "qa": [{"question": "How many sacks did the Ostvald mill grind?", "answers": ["48,250 sacks of rye"]},
                     {"question": "Who ran it?", "answers": ["Ilka"]}]}  # too short to be told from chance
    (tmp_path / "mills").mkdir()
    (tmp_path / "mills" / "mills.val.jsonl").write_text(json.dumps(record) + "\n", encoding="utf-8")
    items = load_dev_items(tmp_path)
    assert items.phrases == {words("How many sacks did the Ostvald mill grind"): "question",
                             words("48,250 sacks of rye"): "answer"}
    assert items.numbers == {"48,250"}  # 1911 is a year: four digits are never long
    files = {
        "quoting.py": 'Q = ("how many sacks did the  OSTVALD mill\n grind?")  # case, spacing and "?" differ',
        "answer.py": "\n\nA = '48,250 sacks of rye'",
        "clean.py": 'Q = "How many sacks did the Varn mill grind? It ground 148,250 or 48,2501 or x48250."',
        "short.py": 'Q = "Who ran it? Ilka."',
    }
    assert find_quotes(items, files) == [
        "quoting.py:1: question " + repr("how many sacks did the  OSTVALD mill\n grind"),
        "answer.py:3: answer '48,250 sacks of rye'",
        "answer.py:3: number '48,250'",
    ]
    # a number the project's own seed article says is the project's to quote
    assert load_dev_items(tmp_path, exempt_text="It ground 48,250 sacks.").numbers == frozenset()


def tracked_files() -> list[Path]:
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: the tracked files are unknown")
    return [ROOT / name for name in out.decode().split("\0") if name and (ROOT / name).is_file()]


def test_no_tracked_file_narrates_the_development_process() -> None:
    found = [f"{path.relative_to(ROOT)}:{n}: {m.group(0)!r}"
             for path in tracked_files()
             for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1)
             for pattern in NARRATION for m in pattern.finditer(line)]
    assert found == [], "describe the product, not how it was made (history is the git log):\n" + "\n".join(found)


@pytest.mark.parametrize(("text", "narrates"), [
    # each example is split in two, so that this file does not match the patterns itself
    ("measured in the third " + "session", True),
    ("as the Previous " + "Session showed", True),
    ("fixes issue " + "#12", True),
    ("see issue-" + "7", True),
    ('@pytest.fixture(scope="session")', False),
    ("one model per test session", False),
    ("the issue's shape", False),
])
def test_the_narration_patterns(text: str, narrates: bool) -> None:
    assert any(p.search(text) for p in NARRATION) is narrates

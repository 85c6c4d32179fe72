"""The shared vocabulary: one copy of each word list, read by every rule module."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from rag import vocabulary
from rag.vocabulary import (
    BM25_STOP_WORDS,
    DIGITS,
    FOLLOW_UP_LEADS,
    MESSAGE_WORD,
    ORDINAL_END,
    POSSESSIVE,
    WORD,
    alternation,
)

RAG = Path(vocabulary.__file__).resolve().parent
WORD_LISTS = {name: value for name, value in vars(vocabulary).items()
              if name.isupper() and isinstance(value, tuple | frozenset)}


def test_bm25_stop_words_are_the_list_bm25s_ships() -> None:
    from bm25s.stopwords import STOPWORDS_EN

    assert tuple(STOPWORDS_EN) == BM25_STOP_WORDS


@pytest.mark.parametrize("name", sorted(WORD_LISTS))
def test_a_word_list_has_no_repeats(name: str) -> None:
    words = list(WORD_LISTS[name])
    assert words and len(set(words)) == len(words)


def test_longer_follow_up_leads_come_first() -> None:
    # a regex alternation takes the first that matches: "and" before "and what about" would leave "what about" behind
    for i, lead in enumerate(FOLLOW_UP_LEADS):
        assert not any(later.startswith(lead + " ") for later in FOLLOW_UP_LEADS[i + 1:]), lead


def test_token_patterns() -> None:
    assert WORD.findall("Brel’s U.K. re-run cost 3.5, then...") == ["Brel’s", "U.K", "re-run", "cost", "3.5", "then"]
    assert MESSAGE_WORD.findall("Oslo-Bergen, Lena’s U.K.") == ["Oslo-Bergen", "Lena’s", "U", "K"]
    assert POSSESSIVE.sub("", "Lena’s") == POSSESSIVE.sub("", "Lena's") == "Lena" and POSSESSIVE.sub("", "its") == "its"
    assert re.findall(DIGITS, "4,216,530, then 3.5.") == ["4,216,530", "3.5"]
    assert ORDINAL_END.match("21st", 2) and not ORDINAL_END.match("21 steps", 2)
    assert alternation(("is", "was")) == "is|was"


def _literal_words(path: Path) -> list[tuple[int, set[str]]]:
    """Each string literal of a module (f-string parts too) as its set of lower-case words, regex escapes dropped."""
    out: list[tuple[int, set[str]]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            out.append((node.lineno, set(re.findall(r"[a-z][a-z.'-]*", re.sub(r"\\[a-zA-Z]", " ", node.value)))))
    return out


def test_no_module_keeps_its_own_copy_of_a_word_list() -> None:
    """A literal holding most of a vocabulary list (two thirds, four words at least) is a second copy."""
    copies = []
    for path in RAG.rglob("*.py"):
        if path.name == "vocabulary.py":
            continue
        for line, words in _literal_words(path):
            for name, listed in WORD_LISTS.items():
                shared = words & {w.lower() for w in listed}
                if len(shared) >= max(4, 2 * len(listed) / 3):
                    copies.append(f"{path.relative_to(RAG.parent)}:{line} copies {name}: {sorted(shared)}")
    assert not copies, "\n".join(copies)

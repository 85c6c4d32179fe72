"""Whether a text holds a word the lexical index can hold.

A document without one can never be found by its words, and an index holding only such documents has no BM25
vocabulary at all (bm25s cannot build one), so ingest refuses them like empty documents.
"""

from __future__ import annotations

import re

from rag.vocabulary import BM25_STOP_WORDS

#: bm25s's token pattern: two word characters or more ("k", "—" and "!!" are no words).
_TOKEN = re.compile(r"(?u)\b\w\w+\b")
_STOP = frozenset(BM25_STOP_WORDS)


def has_words(text: str) -> bool:
    """Whether ``text`` holds a token BM25 indexes: two word characters or more, not a stop word."""
    return any(token not in _STOP for token in _TOKEN.findall(text.lower()))

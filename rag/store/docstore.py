"""The SQLite document store: documents, chunks with offsets, and sentence spans."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.types import Chunk, FaqPair, Sentence


@dataclass(frozen=True)
class DocRecord:
    """A document as stored: enough to show, cite and re-index it."""

    doc_id: str
    title: str
    sha256: str
    source: str
    date: str | None
    text: str
    body_start: int
    body_end: int
    faq: tuple[FaqPair, ...] = ()
    disclaimer: str | None = None



_SCHEMA = """
CREATE TABLE documents (
    doc_id TEXT PRIMARY KEY, title TEXT NOT NULL, sha256 TEXT NOT NULL, source TEXT NOT NULL,
    date TEXT, text TEXT NOT NULL, body_start INTEGER NOT NULL, body_end INTEGER NOT NULL,
    faq TEXT NOT NULL, disclaimer TEXT
);
CREATE TABLE chunks (
    chunk_id INTEGER PRIMARY KEY, doc_id TEXT NOT NULL REFERENCES documents(doc_id),
    ordinal INTEGER NOT NULL, kind TEXT NOT NULL, text TEXT NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, n_tokens INTEGER NOT NULL
);
CREATE INDEX chunks_doc ON chunks(doc_id);
CREATE TABLE sentences (
    sent_id INTEGER PRIMARY KEY, doc_id TEXT NOT NULL REFERENCES documents(doc_id),
    start INTEGER NOT NULL, "end" INTEGER NOT NULL
);
"""


def write_docstore(
    path: Path, documents: dict[str, DocRecord], chunks: dict[int, Chunk], sentences: dict[int, Sentence]
) -> None:
    """Write a fresh SQLite document store."""
    con = sqlite3.connect(path)
    try:
        con.executescript(_SCHEMA)
        con.executemany(
            "INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?,?)",
            [
                (d.doc_id, d.title, d.sha256, d.source, d.date, d.text, d.body_start, d.body_end,
                 json.dumps([[p.question, p.answer] for p in d.faq]), d.disclaimer)
                for d in documents.values()
            ],
        )
        con.executemany(
            "INSERT INTO chunks VALUES (?,?,?,?,?,?,?,?)",
            [(c.chunk_id, c.doc_id, c.ordinal, c.kind, c.text, c.start, c.end, c.n_tokens) for c in chunks.values()],
        )
        con.executemany("INSERT INTO sentences VALUES (?,?,?,?)",
                        [(s.sent_id, s.doc_id, s.start, s.end) for s in sentences.values()])
        con.commit()
    finally:
        con.close()


def document_of(row: tuple[Any, ...]) -> DocRecord:
    """A ``documents`` table row as a record."""
    faq: Any = tuple(FaqPair(q, a) for q, a in json.loads(row[8]))
    return DocRecord(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], faq, row[9])


def read_docstore(path: Path) -> tuple[dict[str, DocRecord], dict[int, Chunk], dict[int, Sentence]]:
    """Read a whole document store into memory."""
    if not path.is_file():
        raise OSError(f"missing {path.name}")
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        docs = {row[0]: document_of(row) for row in con.execute("SELECT * FROM documents")}
        chunks = {
            row[0]: Chunk(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7])
            for row in con.execute("SELECT * FROM chunks ORDER BY chunk_id")
        }
        sentences = {row[0]: Sentence(*row) for row in con.execute("SELECT * FROM sentences ORDER BY sent_id")}
    finally:
        con.close()
    return docs, chunks, sentences

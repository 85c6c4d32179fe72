"""The rows a write adds, as maps keyed by id: the new documents' chunks, sentences and vectors, before they are
written as one segment (``rag.store.segments``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rag.store.docstore import DocRecord
from rag.types import Article, Chunk, Sentence

if TYPE_CHECKING:
    import numpy as np


@dataclass
class IndexContents:
    """Documents, chunks with their vectors, and sentences with their vectors (and token vectors, when the
    embedder gives them: ``sentence_tokens`` is None otherwise). Ids continue from ``first_chunk_id`` and
    ``first_sentence_id`` (the index's next ids: an id is never reused)."""

    documents: dict[str, DocRecord] = field(default_factory=dict)
    chunks: dict[int, Chunk] = field(default_factory=dict)
    vectors: dict[int, np.ndarray] = field(default_factory=dict)
    sentences: dict[int, Sentence] = field(default_factory=dict)
    sentence_vectors: dict[int, np.ndarray] = field(default_factory=dict)
    sentence_tokens: dict[int, np.ndarray] | None = None
    first_chunk_id: int = 0
    first_sentence_id: int = 0

    def next_chunk_id(self) -> int:
        return max(self.chunks, default=self.first_chunk_id - 1) + 1

    def next_sentence_id(self) -> int:
        return max(self.sentences, default=self.first_sentence_id - 1) + 1

    def put_document(self, article: Article) -> None:
        self.documents[article.doc_id] = DocRecord(
            article.doc_id, article.title, article.sha256, article.source, article.date, article.text,
            article.body_start, article.body_end, article.faq, article.disclaimer)


def article_of(r: DocRecord) -> Article:
    """The article a stored document was made from (to re-embed it from its stored text)."""
    return Article(doc_id=r.doc_id, title=r.title, text=r.text, body_start=r.body_start, body_end=r.body_end,
                   sha256=r.sha256, source=r.source, date=r.date, faq=r.faq, disclaimer=r.disclaimer)

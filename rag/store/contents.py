"""What one index generation holds, as maps keyed by id: the working copy a write edits, then publishes."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rag.retrieval.alignment import TokenStore
from rag.store.docstore import DocRecord
from rag.store.generations import Manifest, Snapshot, all_vectors, empty_vectors, publish
from rag.types import Article, Chunk, Sentence

if TYPE_CHECKING:
    import faiss
    import numpy as np


@dataclass
class IndexContents:
    """Documents, chunks with their vectors, and sentences with their vectors (and token vectors, when the
    embedder gives them: ``sentence_tokens`` is None otherwise)."""

    documents: dict[str, DocRecord] = field(default_factory=dict)
    chunks: dict[int, Chunk] = field(default_factory=dict)
    vectors: dict[int, np.ndarray] = field(default_factory=dict)
    sentences: dict[int, Sentence] = field(default_factory=dict)
    sentence_vectors: dict[int, np.ndarray] = field(default_factory=dict)
    sentence_tokens: dict[int, np.ndarray] | None = None

    @classmethod
    def of(cls, snap: Snapshot, token_vectors: bool) -> IndexContents:
        """A working copy of a loaded generation (its arrays are shared, never written)."""
        order = sorted(snap.sentences)
        tokens: dict[int, np.ndarray] | None = {} if token_vectors else None
        if snap.sentence_tokens is not None:  # present exactly when the embedder gives token vectors
            tokens = dict(zip(order, snap.sentence_tokens.rows(), strict=True))
        return cls(dict(snap.documents), dict(snap.chunks), dict(all_vectors(snap.vectors)), dict(snap.sentences),
                   dict(zip(order, snap.sentence_vectors, strict=True)), tokens)

    def drop(self, doc_ids: set[str]) -> None:
        """Remove these documents with their chunks, sentences and vectors."""
        for doc_id in sorted(doc_ids):
            self.documents.pop(doc_id, None)
        for cid in [cid for cid, c in self.chunks.items() if c.doc_id in doc_ids]:
            self.chunks.pop(cid)
            self.vectors.pop(cid, None)
        for sid in [sid for sid, x in self.sentences.items() if x.doc_id in doc_ids]:
            self.sentences.pop(sid)
            self.sentence_vectors.pop(sid, None)
            if self.sentence_tokens is not None:
                self.sentence_tokens.pop(sid, None)

    def next_chunk_id(self) -> int:
        return max(self.chunks, default=-1) + 1

    def next_sentence_id(self) -> int:
        return max(self.sentences, default=-1) + 1

    def put_document(self, article: Article) -> None:
        self.documents[article.doc_id] = DocRecord(
            article.doc_id, article.title, article.sha256, article.source, article.date, article.text,
            article.body_start, article.body_end, article.faq, article.disclaimer)

    def publish(self, index_dir: Path, manifest: Manifest, dimension: int) -> Path:
        """Write these contents as a new generation and make it live (``generations.publish``)."""
        manifest.documents = {d: r.sha256 for d, r in sorted(self.documents.items())}
        order = sorted(self.sentences)
        sent_matrix = stack_rows([self.sentence_vectors[i] for i in order], dimension)
        # The manifest check guarantees token vectors for every kept sentence when the embedder gives them.
        tokens = (None if self.sentence_tokens is None
                  else TokenStore.from_rows([self.sentence_tokens[i] for i in order], dimension))
        return publish(index_dir, manifest, self.documents, self.chunks, to_faiss(dimension, self.vectors),
                       self.sentences, sent_matrix, tokens)


def article_of(r: DocRecord) -> Article:
    """The article a stored document was made from (to re-embed it from its stored text)."""
    return Article(doc_id=r.doc_id, title=r.title, text=r.text, body_start=r.body_start, body_end=r.body_end,
                   sha256=r.sha256, source=r.source, date=r.date, faq=r.faq, disclaimer=r.disclaimer)


def stack_rows(rows: list[np.ndarray], dimension: int) -> np.ndarray:
    """One float32 matrix of the rows (an empty one of the right width when there are none)."""
    import numpy as np

    if not rows:
        return np.zeros((0, dimension), dtype=np.float32)
    return np.ascontiguousarray(np.stack(rows), dtype=np.float32)


def to_faiss(dimension: int, vectors: dict[int, np.ndarray]) -> faiss.Index:
    """An exact inner-product index of the vectors, addressed by chunk id."""
    import numpy as np

    index = empty_vectors(dimension)
    if vectors:
        ids = np.fromiter(vectors.keys(), dtype=np.int64)
        mat = np.ascontiguousarray(np.stack([vectors[int(i)] for i in ids]), dtype=np.float32)
        index.add_with_ids(mat, ids)
    return index

"""Writing an immutable index segment: the rows of the documents one write added (``rag.store.segments`` reads
it).

Layout of ``segments/<name>/``::

    segment.json                 counts, the dense index kind (flat / hnsw) and its parameters
    docstore.sqlite              documents, chunks and sentence spans (``rag.store.docstore``), read on demand
    chunk_ids.npy                ascending chunk ids: row i holds chunk chunk_ids[i]
    chunk_vectors.npy            float32 chunk vectors, by row
    vectors.faiss                HNSW graph over the chunk vectors (dense == "hnsw" only)
    chunk_sentences.npy          the sentence rows of each chunk (offsets in chunk_sentence_offsets.npy)
    chunk_*.npy, chunk_vocab.json         BM25 term counts of the chunks (``rag.retrieval.postings.Terms``)
    sentence_ids.npy             ascending sentence ids
    sentence_vectors.npy         sentence vectors (float32, or float16 when RAG_SENTENCE_VECTORS_FLOAT16)
    sentence_previous.npy        row of the sentence before in the same document (-1: none)
    sentence_adjacent.npy        cosine of each sentence with that one
    sentence_question.npy        whether the sentence asks a question
    sentence_*.npy, sentence_vocab.json   BM25 term counts of the sentences
    sentence_tokens.npy + sentence_token_offsets.npy   content-token vectors (float16), when the embedder gives them
"""

from __future__ import annotations

import bisect
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.retrieval.postings import Terms
from rag.store.docstore import write_docstore
from rag.types import Chunk, Sentence

if TYPE_CHECKING:
    import numpy as np

    from rag.store.contents import IndexContents

META, DOCSTORE, HNSW = "segment.json", "docstore.sqlite", "vectors.faiss"


@dataclass(frozen=True)
class DenseLayout:
    """Which dense index a new segment gets: exact below ``hnsw_threshold`` chunks, HNSW from it."""

    hnsw_threshold: int = 200_000
    hnsw_m: int = 32
    hnsw_ef_construction: int = 80
    sentence_float16: bool = False


def is_question_text(text: str) -> bool:
    return text.rstrip("\"'”’) ").endswith("?")


@dataclass
class SegmentRows:
    """What a segment holds, computed from the rows a write adds (token vectors aside: they are streamed)."""

    chunks: list[Chunk]
    sentences: list[Sentence]
    arrays: dict[str, np.ndarray]
    chunk_terms: Terms
    sentence_terms: Terms
    meta: dict[str, Any]


def segment_rows(contents: IndexContents, dimension: int, title_header: bool, sentence_float16: bool = False, *,
                 lexical: bool = True) -> SegmentRows:
    """The arrays, term counts and counts of a segment holding ``contents`` (chunks without a vector get zeros;
    ``lexical=False``: no term counts, for a segment nothing searches)."""
    import numpy as np

    from rag.ingest.chunking import with_header

    chunk_order = sorted(contents.chunks)
    sent_order = sorted(contents.sentences)
    chunks = [contents.chunks[i] for i in chunk_order]
    sents = [contents.sentences[i] for i in sent_order]
    docs = contents.documents
    arrays: dict[str, np.ndarray] = {
        "chunk_ids": np.array(chunk_order, dtype=np.int64),
        "sentence_ids": np.array(sent_order, dtype=np.int64),
        "chunk_vectors": (stack_rows([contents.vectors[i] for i in chunk_order], dimension) if contents.vectors
                          else np.zeros((len(chunk_order), dimension), dtype=np.float32)),
    }
    svec = stack_rows([contents.sentence_vectors[i] for i in sent_order], dimension)
    texts = [docs[s.doc_id].text[s.start : s.end] for s in sents]
    arrays["sentence_question"] = np.array([is_question_text(t) for t in texts], dtype=bool)
    # The sentence before each one in its document, and each chunk's sentences (its span's, by start).
    previous = np.full(len(sents), -1, dtype=np.int32)
    by_doc: dict[str, tuple[list[int], list[int]]] = {}
    for row, s in sorted(enumerate(sents), key=lambda rs: (rs[1].doc_id, rs[1].start)):
        starts, rows = by_doc.setdefault(s.doc_id, ([], []))
        if rows:
            previous[row] = rows[-1]
        starts.append(s.start)
        rows.append(row)
    arrays["sentence_previous"] = previous
    adjacent = np.zeros(len(sents), dtype=np.float32)
    has = previous >= 0
    if has.any():
        adjacent[has] = np.einsum("ij,ij->i", svec[has], svec[previous[has]])
    arrays["sentence_adjacent"] = adjacent
    arrays["sentence_vectors"] = svec.astype(np.float16) if sentence_float16 else svec
    members = [_rows_in(c, by_doc, sents) for c in chunks]
    arrays["chunk_sentence_offsets"] = np.concatenate([[0], np.cumsum([len(m) for m in members])]).astype(np.int64)
    arrays["chunk_sentences"] = np.array([r for m in members for r in m], dtype=np.int32)
    headed = [with_header(docs[c.doc_id].title if title_header else None, c.text) for c in chunks] if lexical else []
    chunk_terms = Terms.build(headed, by_term=True)
    sentence_terms = Terms.build(texts if lexical else [], by_term=False)
    meta: dict[str, Any] = {"chunks": len(chunks), "sentences": len(sents), "documents": len(docs),
                            "dimension": dimension, "dense": "flat",
                            "token_vectors": contents.sentence_tokens is not None,
                            "sentence_vectors": "float16" if sentence_float16 else "float32"}
    return SegmentRows(chunks, sents, arrays, chunk_terms, sentence_terms, meta)


def write_segment(folder: Path, contents: IndexContents, dimension: int, title_header: bool,
                  layout: DenseLayout, on_docstore: Any = None) -> dict[str, Any]:
    """Write ``contents`` as a segment into the (new, empty) ``folder``; returns its ``segment.json``.

    ``on_docstore`` is called once the document store is on disk (a crash point).
    """
    rows = segment_rows(contents, dimension, title_header, layout.sentence_float16)
    write_docstore(folder / DOCSTORE, contents.documents, {c.chunk_id: c for c in rows.chunks},
                   {s.sent_id: s for s in rows.sentences})
    if on_docstore is not None:
        on_docstore()
    import numpy as np

    arrays = rows.arrays
    if contents.sentence_tokens is not None:
        tokens = contents.sentence_tokens
        arrays["sentence_token_offsets"] = _write_tokens(folder / "sentence_tokens.npy",
                                                         [tokens[s.sent_id] for s in rows.sentences], dimension)
    for name, arr in arrays.items():
        np.save(folder / f"{name}.npy", arr, allow_pickle=False)
    rows.chunk_terms.save(folder, "chunk")
    rows.sentence_terms.save(folder, "sentence")
    meta = rows.meta
    if len(rows.chunks) >= layout.hnsw_threshold:
        import faiss

        index = faiss.IndexHNSWFlat(dimension, layout.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = layout.hnsw_ef_construction
        index.add(arrays["chunk_vectors"])
        faiss.write_index(index, str(folder / HNSW))
        meta |= {"dense": "hnsw", "hnsw_m": layout.hnsw_m, "hnsw_ef_construction": layout.hnsw_ef_construction}
    (folder / META).write_text(json.dumps(meta, indent=2, sort_keys=True))
    return meta


def stack_rows(rows: list[np.ndarray], dimension: int) -> np.ndarray:
    """One float32 matrix of the rows (an empty one of the right width when there are none)."""
    import numpy as np

    if not rows:
        return np.zeros((0, dimension), dtype=np.float32)
    return np.ascontiguousarray(np.stack(rows), dtype=np.float32)


def _write_tokens(path: Path, rows: list[np.ndarray], dimension: int) -> np.ndarray:
    """Write the rows' token vectors (float16) one after another, streamed; returns the row offsets."""
    import numpy as np

    offsets = np.concatenate([[0], np.cumsum([len(r) for r in rows])]).astype(np.int64)
    total = int(offsets[-1])
    if not total:
        np.save(path, np.zeros((0, dimension), dtype=np.float16), allow_pickle=False)
        return offsets
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float16, shape=(total, dimension))
    for r, lo in zip(rows, offsets.tolist(), strict=False):
        if len(r):
            out[lo : lo + len(r)] = r
    out.flush()
    del out
    return offsets


def _rows_in(chunk: Chunk, by_doc: dict[str, tuple[list[int], list[int]]], sents: list[Sentence]) -> list[int]:
    """Rows of the sentences lying inside a chunk's span."""
    starts, rows = by_doc.get(chunk.doc_id, ([], []))
    i = bisect.bisect_left(starts, chunk.start)
    out: list[int] = []
    while i < len(starts) and starts[i] < chunk.end:
        if sents[rows[i]].end <= chunk.end:
            out.append(rows[i])
        i += 1
    return out

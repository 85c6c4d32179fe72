"""Large synthetic segments by tiling a small one: every row copied ``copies`` times, in the store's own format.

A million chunks cannot be assembled row by row on a 2-core machine in reasonable time, so ``bench/scale.py``
builds one template segment through ``rag.store.segment_writing.write_segment`` and this module repeats it at the file
level: ids, sentence rows and term postings shifted per copy, documents renamed ``<id>~<copy>``, vectors perturbed
per copy (fresh noise around the template's), BM25 document frequencies multiplied, token vectors repeated.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np


def tile_segment(src: Path, dst: Path, copies: int, first_chunk: int, first_sentence: int, noise: float,
                 hnsw: tuple[int, int, int], seed: int, tag: str) -> dict[str, Any]:
    """Write ``dst`` as ``copies`` copies of segment ``src`` (ids from ``first_chunk``/``first_sentence``; copy c of
    document d is ``d<tag><c>``); an HNSW graph when it reaches ``hnsw`` = (threshold, M, efConstruction)."""
    meta = json.loads((src / "segment.json").read_text())
    n, m, dim = meta["chunks"], meta["sentences"], meta["dimension"]
    rng = np.random.default_rng(seed)
    dst.mkdir()

    def load(name: str) -> np.ndarray:
        return np.load(src / f"{name}.npy")

    def tiled(name: str, shift: int = 0, keep_negative: bool = False) -> None:
        a = load(name)
        parts = []
        for c in range(copies):
            if keep_negative:
                parts.append(np.where(a >= 0, a + c * shift, a).astype(a.dtype))
            else:
                parts.append((a + c * shift).astype(a.dtype) if shift else a)
        np.save(dst / f"{name}.npy", np.concatenate(parts) if parts else a)

    np.save(dst / "chunk_ids.npy", first_chunk + np.arange(n * copies, dtype=np.int64))
    np.save(dst / "sentence_ids.npy", first_sentence + np.arange(m * copies, dtype=np.int64))
    for name, rows in (("chunk_vectors", n), ("sentence_vectors", m)):
        base = load(name).astype(np.float32)
        out = np.lib.format.open_memmap(dst / f"{name}.npy", mode="w+", dtype=load(name).dtype,
                                        shape=(rows * copies, dim))
        for c in range(copies):
            v = base + noise * rng.standard_normal(base.shape, dtype=np.float32) / np.sqrt(dim)
            out[c * rows : (c + 1) * rows] = v / np.linalg.norm(v, axis=1, keepdims=True)
        out.flush()
        del out
    offsets = load("chunk_sentence_offsets")
    np.save(dst / "chunk_sentence_offsets.npy",
            np.concatenate([offsets[:1]] + [offsets[1:] + c * offsets[-1] for c in range(copies)]).astype(np.int64))
    tiled("chunk_sentences", m)
    tiled("sentence_previous", m, keep_negative=True)
    tiled("sentence_adjacent")
    tiled("sentence_question")
    for prefix, rows in (("chunk", n), ("sentence", m)):
        indptr = load(f"{prefix}_indptr")
        nnz = int(indptr[-1])
        np.save(dst / f"{prefix}_indptr.npy",
                np.concatenate([indptr[:1]] + [indptr[1:] + c * nnz for c in range(copies)]).astype(np.int64))
        tiled(f"{prefix}_indices")
        tiled(f"{prefix}_data")
        tiled(f"{prefix}_lengths")
        np.save(dst / f"{prefix}_df.npy", (load(f"{prefix}_df").astype(np.int64) * copies).astype(np.int32))
        shutil.copy(src / f"{prefix}_vocab.json", dst / f"{prefix}_vocab.json")
        if (src / f"{prefix}_term_indptr.npy").exists():
            t_ptr, t_rows = load(f"{prefix}_term_indptr"), load(f"{prefix}_term_rows")
            t_data = load(f"{prefix}_term_data")
            lengths = np.diff(t_ptr)
            term = np.repeat(np.arange(len(lengths)), lengths)
            within = np.arange(t_rows.size) - t_ptr[term]
            rows_out = np.empty(t_rows.size * copies, dtype=np.int32)
            data_out = np.empty(t_rows.size * copies, dtype=np.float32)
            for c in range(copies):
                at = t_ptr[term] * copies + c * lengths[term] + within
                rows_out[at] = t_rows + c * rows
                data_out[at] = t_data
            np.save(dst / f"{prefix}_term_indptr.npy", (t_ptr * copies).astype(np.int64))
            np.save(dst / f"{prefix}_term_rows.npy", rows_out)
            np.save(dst / f"{prefix}_term_data.npy", data_out)
    if meta["token_vectors"]:
        tokens = np.load(src / "sentence_tokens.npy", mmap_mode="r")
        t_off = load("sentence_token_offsets")
        total = int(t_off[-1])
        np.save(dst / "sentence_token_offsets.npy",
                np.concatenate([t_off[:1]] + [t_off[1:] + c * total for c in range(copies)]).astype(np.int64))
        out = np.lib.format.open_memmap(dst / "sentence_tokens.npy", mode="w+", dtype=np.float16,
                                        shape=(total * copies, dim))
        for c in range(copies):
            out[c * total : (c + 1) * total] = tokens
        out.flush()
        del out
    _tile_docstore(src / "docstore.sqlite", dst / "docstore.sqlite", copies, n, m, first_chunk, first_sentence, tag)
    meta |= {"chunks": n * copies, "sentences": m * copies, "documents": meta["documents"] * copies, "dense": "flat"}
    if n * copies >= hnsw[0]:
        import faiss

        index = faiss.IndexHNSWFlat(dim, hnsw[1], faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = hnsw[2]
        vecs = np.load(dst / "chunk_vectors.npy", mmap_mode="r")
        for at in range(0, len(vecs), 50_000):
            index.add(np.ascontiguousarray(vecs[at : at + 50_000], dtype=np.float32))
        faiss.write_index(index, str(dst / "vectors.faiss"))
        meta |= {"dense": "hnsw", "hnsw_m": hnsw[1]}
    (dst / "segment.json").write_text(json.dumps(meta, indent=2, sort_keys=True))
    return meta


def _tile_docstore(src: Path, dst: Path, copies: int, n: int, m: int, first_chunk: int, first_sentence: int,
                   tag: str) -> None:
    shutil.copy(src, dst)
    con = sqlite3.connect(dst)
    try:
        con.execute("ATTACH DATABASE ? AS t", (str(src),))
        con.execute("DELETE FROM documents")
        con.execute("DELETE FROM chunks")
        con.execute("DELETE FROM sentences")
        c0 = con.execute("SELECT min(chunk_id) FROM t.chunks").fetchone()[0] or 0
        s0 = con.execute("SELECT min(sent_id) FROM t.sentences").fetchone()[0] or 0
        for c in range(copies):
            con.execute("INSERT INTO documents SELECT doc_id || ?, title, sha256, source, date, text, body_start, "
                        "body_end, faq, disclaimer FROM t.documents", (f"{tag}{c}",))
            con.execute('INSERT INTO chunks SELECT chunk_id - ? + ?, doc_id || ?, ordinal, kind, text, start, "end", '
                        "n_tokens FROM t.chunks", (c0, first_chunk + c * n, f"{tag}{c}"))
            con.execute('INSERT INTO sentences SELECT sent_id - ? + ?, doc_id || ?, start, "end" FROM t.sentences',
                        (s0, first_sentence + c * m, f"{tag}{c}"))
        con.commit()
        con.execute("DETACH DATABASE t")
    finally:
        con.close()

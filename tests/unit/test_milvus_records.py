"""Rows of the Milvus store: document parts, token vectors, stable ids, and the candidate view's text stand-in."""

from __future__ import annotations

import numpy as np
import pytest

from rag.store.docstore import DocRecord
from rag.store.milvus import records
from rag.store.milvus.collections import MAX_VARCHAR, in_list, quote
from rag.store.milvus.reader import _merge, _sparse_text
from rag.types import FaqPair


def test_a_long_document_round_trips_through_parts_that_fit_a_varchar() -> None:
    text = "Ünïcode façade — 東京 " * 9000  # multi-byte characters: parts are cut by bytes, not characters
    rec = DocRecord("a/b", "Title", "f" * 64, "src.txt", "2024-01-02", text, 3, len(text) - 2,
                    (FaqPair("Why?", "Because."),), "Disclaimer.")
    parts = records.document_parts(rec)
    assert len(parts) > 1
    assert all(len(p["body"].encode()) <= MAX_VARCHAR for p in parts)
    assert records.record_of("a/b", "f" * 64, list(reversed(parts))) == rec


def test_token_vectors_round_trip_as_float16() -> None:
    rng = np.random.default_rng(0)
    toks = rng.normal(size=(130, 384)).astype(np.float16)  # spills over three of the five fields
    row = records.encode_tokens(toks)
    assert sum(bool(v) for v in row.values()) == 3
    assert all(len(v) <= MAX_VARCHAR for v in row.values())
    assert np.array_equal(records.decode_tokens(row, 384), toks)
    assert records.decode_tokens(records.encode_tokens(None), 384).shape == (0, 384)


def test_too_many_token_vectors_are_refused() -> None:
    with pytest.raises(ValueError, match="at most 300"):
        records.encode_tokens(np.zeros((301, 4), dtype=np.float16))


def test_stable_ids_depend_on_identity_and_fit_javascript() -> None:
    a = records.stable_id("doc", "sha1", "c", 0, "body")
    assert a == records.stable_id("doc", "sha1", "c", 0, "body")
    assert a != records.stable_id("doc", "sha2", "c", 0, "body")
    assert 0 <= a < 2**53


def test_sparse_text_places_overlapping_slices_at_their_offsets() -> None:
    full = "Alpha beta. Gamma delta. Epsilon zeta."
    spans = [(12, full[12:24]), (0, full[0:24]), (25, full[25:])]
    text = _sparse_text(spans)
    for start, piece in spans:
        assert text[start : start + len(piece)] == piece


def test_ranges_merge_when_they_touch() -> None:
    assert _merge([(5, 7), (0, 2), (3, 4), (10, 12)]) == [(0, 7), (10, 12)]


def test_filter_literals_are_quoted() -> None:
    assert quote('a "b" \\ c') == '"a \\"b\\" \\\\ c"'
    assert in_list("doc_id", ["x", 'y"']) == 'doc_id in ["x", "y\\""]'
    assert in_list("chunk_id", [1, 2]) == "chunk_id in [1, 2]"

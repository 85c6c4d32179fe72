"""Rows of the Milvus collections from index records and back: ids, document parts, token vectors."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rag.store.docstore import DocRecord
from rag.store.milvus.collections import MAX_VARCHAR, PLACEHOLDER, TOKEN_FIELDS
from rag.types import Chunk, FaqPair, Sentence

if TYPE_CHECKING:
    import numpy as np

#: Token vectors per sentence field: 60 x 384 float16 = 46,080 bytes, 61,440 in base64.
TOKENS_PER_FIELD = 60
#: Characters of a document part (4 bytes each at most in UTF-8, JSON escapes aside: see ``document_parts``).
_PART_CHARS = 12_000


def stable_id(*parts: object, bits: int = 53) -> int:
    """An id from the record's identity (document id, content hash, position): the same in every process, with no
    counter to share between writers. 53 bits keeps chunk ids exact in JavaScript clients."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") & ((1 << bits) - 1)


def document_row(rec: DocRecord, parts: int) -> dict[str, Any]:
    return {"doc_id": rec.doc_id, "sha256": rec.sha256, "source": _fit(rec.source), "title": _fit(rec.title),
            "chars": len(rec.text), "parts": parts, "placeholder": PLACEHOLDER}


def document_parts(rec: DocRecord) -> list[dict[str, Any]]:
    """The record as JSON, cut into parts that each fit a VARCHAR."""
    body = json.dumps({"title": rec.title, "source": rec.source, "date": rec.date, "text": rec.text,
                       "body_start": rec.body_start, "body_end": rec.body_end,
                       "faq": [[p.question, p.answer] for p in rec.faq], "disclaimer": rec.disclaimer},
                      ensure_ascii=False)
    pieces: list[str] = []
    at = 0
    while at < len(body):
        n = _PART_CHARS
        while len(body[at : at + n].encode()) > MAX_VARCHAR:
            n //= 2
        pieces.append(body[at : at + n])
        at += n
    return [{"part_id": f"{rec.doc_id}\x1f{rec.sha256}\x1f{i}", "doc_id": rec.doc_id, "doc_sha": rec.sha256,
             "part": i, "body": p, "placeholder": PLACEHOLDER} for i, p in enumerate(pieces or [""])]


def record_of(doc_id: str, sha256: str, parts: Sequence[dict[str, Any]]) -> DocRecord:
    """The document record from its parts (any order)."""
    data = json.loads("".join(p["body"] for p in sorted(parts, key=lambda p: int(p["part"]))))
    return DocRecord(doc_id, data["title"], sha256, data["source"], data["date"], data["text"], data["body_start"],
                     data["body_end"], tuple(FaqPair(q, a) for q, a in data["faq"]), data["disclaimer"])


def chunk_row(c: Chunk, doc_sha: str, search_text: str, vector: np.ndarray, first: int, last: int
              ) -> dict[str, Any]:
    return {"chunk_id": c.chunk_id, "doc_id": c.doc_id, "doc_sha": doc_sha, "ordinal": c.ordinal, "kind": c.kind,
            "text": c.text, "start": c.start, "end": c.end, "n_tokens": c.n_tokens, "first_sentence": first,
            "last_sentence": last, "search_text": _fit(search_text), "vector": _floats(vector)}


def chunk_of(row: dict[str, Any]) -> Chunk:
    return Chunk(int(row["chunk_id"]), row["doc_id"], int(row["ordinal"]), row["kind"], row["text"],
                 int(row["start"]), int(row["end"]), int(row["n_tokens"]))


def sentence_row(s: Sentence, doc_sha: str, position: int, text: str, vector: np.ndarray,
                 tokens: np.ndarray | None) -> dict[str, Any]:
    row = {"sent_id": s.sent_id, "doc_id": s.doc_id, "doc_sha": doc_sha, "position": position, "start": s.start,
           "end": s.end, "text": _fit(text), "sentence_vector": _floats(vector)}
    row.update(encode_tokens(tokens))
    return row


def encode_tokens(tokens: np.ndarray | None) -> dict[str, str]:
    """Content-token vectors as base64 float16 over the token fields (empty strings when there are none)."""
    import numpy as np

    out = {f"tokens{i}": "" for i in range(TOKEN_FIELDS)}
    if tokens is None or not len(tokens):
        return out
    t = np.ascontiguousarray(tokens, dtype=np.float16)
    if len(t) > TOKEN_FIELDS * TOKENS_PER_FIELD:  # never from a sentence within the model's window
        raise ValueError(f"a sentence has {len(t)} token vectors; at most {TOKEN_FIELDS * TOKENS_PER_FIELD} fit")
    for i in range(TOKEN_FIELDS):
        part = t[i * TOKENS_PER_FIELD : (i + 1) * TOKENS_PER_FIELD]
        if len(part):
            out[f"tokens{i}"] = base64.b64encode(part.tobytes()).decode("ascii")
    return out


def decode_tokens(row: dict[str, Any], dimension: int) -> np.ndarray:
    import numpy as np

    raw = b"".join(base64.b64decode(row[f"tokens{i}"]) for i in range(TOKEN_FIELDS) if row.get(f"tokens{i}"))
    return np.frombuffer(raw, dtype=np.float16).reshape(-1, dimension)


def _floats(v: np.ndarray) -> list[float]:
    return [float(x) for x in v]


def _fit(text: str) -> str:
    """Text cut to what a VARCHAR holds (titles and sources are short; this only guards the limit)."""
    data = text.encode()
    return text if len(data) <= MAX_VARCHAR else data[:MAX_VARCHAR].decode(errors="ignore")

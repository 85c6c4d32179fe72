"""The manifest of an index generation: the settings it was built with, its documents and its segments."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field, fields
from typing import Any

FORMAT_VERSION = 4  # 4: segments; earlier formats are refused with the rebuild command


@dataclass
class Manifest:
    """Everything needed to refuse a wrong index and to update it incrementally."""

    model_id: str
    weights_sha256: str | None
    dimension: int
    tokenizer: str
    chunk_tokens: int
    chunk_overlap: int
    index_faq: bool
    title_header: bool = False
    token_vectors: bool = False  # sentence token vectors stored (the embedder gives them)
    chunk_vectors: str = "encoded"  # "pooled" from the sentence vectors (rag.store.pooling); indexes before it encoded
    embedding_precision: str = "float32"  # the model's linear layers: "float32" or "int8" (RAG_EMBEDDING_PRECISION)
    normalized: bool = True
    metric: str = "inner_product"
    format_version: int = FORMAT_VERSION
    documents: dict[str, str] = field(default_factory=dict)
    chunks: int = 0
    created_at: float = 0.0
    generation: str = ""
    #: Oldest first: {"name", "chunks", "sentences", "dense", "deleted": [doc ids tombstoned in it]}.
    segments: list[dict[str, Any]] = field(default_factory=list)
    next_chunk_id: int = 0  # ids are never reused, so global rows follow ids
    next_sentence_id: int = 0

    def to_json(self) -> str:
        # A shallow copy of the fields: the documents map is large, and ``asdict`` would deep-copy it.
        return json.dumps({f.name: getattr(self, f.name) for f in fields(self)}, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, raw: str | bytes) -> Manifest:
        """Parse and type-check a manifest (unknown keys are ignored); raises ``pydantic.ValidationError``."""
        return _adapter().validate_json(raw, strict=True)


@functools.cache
def _adapter() -> Any:
    """The manifest's pydantic validator, built once (building it costs more than checking a manifest)."""
    from pydantic import TypeAdapter

    return TypeAdapter(Manifest)

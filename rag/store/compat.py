"""Whether an index on disk fits the settings: the manifest an index built now would carry, and the check."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rag.errors import IndexMismatch
from rag.ingest.chunking import TOKENIZER_NAME
from rag.store.manifest import Manifest

if TYPE_CHECKING:
    from rag.settings import Settings


def expected_manifest(settings: Settings, model_id: str, weights_sha256: str | None, dimension: int,
                      token_vectors: bool = False) -> Manifest:
    """The manifest an index built now with these settings (and an embedder with or without token vectors) would
    carry."""
    return Manifest(
        model_id=model_id,
        weights_sha256=weights_sha256,
        dimension=dimension,
        tokenizer=TOKENIZER_NAME,
        chunk_tokens=settings.chunking.chunk_tokens,
        chunk_overlap=settings.chunking.chunk_overlap,
        index_faq=settings.index.index_faq,
        title_header=settings.chunking.title_header,
        token_vectors=token_vectors,
        chunk_vectors=settings.chunking.chunk_vectors,
        embedding_precision=settings.embedding.embedding_precision,
    )


#: Settings an index may differ in: a query reads either kind of chunk vector, and the next write converts the index.
CONVERTIBLE = ("chunk_vectors",)


def check_compatible(found: Manifest, wanted: Manifest) -> None:
    """Raise ``IndexMismatch`` naming every difference (but the ``CONVERTIBLE`` ones) and the fix."""
    if found.embedding_precision != wanted.embedding_precision:
        # Vectors of the two precisions differ slightly: a question embedded at one must not search the other.
        raise IndexMismatch(
            f"the index was embedded at {found.embedding_precision} precision but RAG_EMBEDDING_PRECISION is "
            f"{wanted.embedding_precision}: set RAG_EMBEDDING_PRECISION={found.embedding_precision}, or rebuild "
            f"the index at {wanted.embedding_precision} with `rag index --rebuild`."
        )
    fields = ("format_version", "model_id", "weights_sha256", "dimension", "tokenizer", "chunk_tokens",
              "chunk_overlap", "index_faq", "title_header", "token_vectors", "chunk_vectors", "normalized", "metric")
    diffs = [
        f"{name}: index has {getattr(found, name)!r}, settings want {getattr(wanted, name)!r}"
        for name in fields
        if name not in CONVERTIBLE and getattr(found, name) != getattr(wanted, name)
    ]
    if diffs:
        raise IndexMismatch(
            "the index was built with different settings (" + "; ".join(diffs) + "). "
            "Rebuild it with `rag index --rebuild` or restore the settings it was built with."
        )


def converts(found: Manifest, wanted: Manifest) -> bool:
    """Whether writing to an index with manifest ``found`` re-embeds every document (a ``CONVERTIBLE`` setting
    changed)."""
    return any(getattr(found, name) != getattr(wanted, name) for name in CONVERTIBLE)

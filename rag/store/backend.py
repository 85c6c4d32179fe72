"""Where the index is kept: one small Protocol, and the store the settings pick (``RAG_STORE``).

``faiss`` (the default): immutable segments (FAISS, NumPy and SQLite files) in the index folder, memory-mapped by
each process.
``milvus``: collections in Milvus (``rag.store.milvus``), read per question; processes hold no index files.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from rag.protocols import Embedder
    from rag.retrieval.loaded import LoadedIndex
    from rag.settings import Settings
    from rag.store.manifest import Manifest
    from rag.store.plan import IndexReport
    from rag.types import Article


class IndexStore(Protocol):
    """Writes an index and loads it for answering."""

    def update(self, embedder: Embedder, *, upsert: Sequence[Article] = (), remove: Sequence[str] = (),
               prune_sources: Sequence[Path] = (), spare: Sequence[Path] = (), rebuild: bool = False,
               progress: bool = False) -> IndexReport:
        """Apply a change (``rag.store.plan.plan_changes``) and publish it."""
        ...

    def generation(self) -> str | None:
        """The name of the newest published generation, unchecked (cheap; None when there is no index)."""
        ...

    def load(self, wanted: Callable[[], Manifest]) -> LoadedIndex:
        """The live index, checked against the manifest the settings and model would write (``wanted`` loads the
        model: a missing or damaged index is reported before it is called)."""
        ...

    def check(self) -> None:
        """Raise ``IndexNotFound`` (with the fix) when there is no index; cheap, and loads no model."""
        ...


class FaissStore:
    """Segments of vectors, term counts and a SQLite document store, listed by a manifest per generation."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def update(self, embedder: Embedder, *, upsert: Sequence[Article] = (), remove: Sequence[str] = (),
               prune_sources: Sequence[Path] = (), spare: Sequence[Path] = (), rebuild: bool = False,
               progress: bool = False) -> IndexReport:
        from rag.store.indexing import update_index

        return update_index(self.settings, embedder, upsert=upsert, remove=remove, prune_sources=prune_sources,
                            spare=spare, rebuild=rebuild, progress=progress)

    def generation(self) -> str | None:
        from rag.store.generations import current_name

        return current_name(self.settings.index.index_dir)

    def load(self, wanted: Callable[[], Manifest]) -> LoadedIndex:
        from rag.retrieval.hybrid import HybridRetriever
        from rag.retrieval.loaded import LoadedIndex
        from rag.retrieval.sentence_index import SentenceIndex
        from rag.store.compat import check_compatible
        from rag.store.generations import load_snapshot

        snap = load_snapshot(self.settings.index.index_dir)
        check_compatible(snap.manifest, wanted())
        retriever = HybridRetriever(snap, SentenceIndex(snap), self.settings.index.hnsw_ef_search)
        return LoadedIndex(snap, retriever, snap.titles)

    def check(self) -> None:
        from rag.store.generations import read_manifest

        read_manifest(self.settings.index.index_dir)


def open_store(settings: Settings) -> IndexStore:
    """The store ``RAG_STORE`` names (Milvus is imported only when asked for)."""
    if settings.storage.store == "milvus":
        from rag.store.milvus.store import MilvusStore

        return MilvusStore(settings)
    return FaissStore(settings)

"""Build and incrementally update the on-disk index: open, plan, drop, embed, publish."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rag.errors import IndexNotFound
from rag.protocols import TokenEmbedder
from rag.store.compat import check_compatible, converts, expected_manifest
from rag.store.contents import IndexContents
from rag.store.encoding import add_articles
from rag.store.generations import Manifest, collect_garbage, load_snapshot, read_manifest, write_lock
from rag.store.plan import IndexReport, plan_changes
from rag.types import Article

if TYPE_CHECKING:
    from rag.protocols import Embedder
    from rag.settings import Settings

log = logging.getLogger(__name__)

__all__ = ["IndexReport", "update_index"]


def update_index(
    settings: Settings,
    embedder: Embedder,
    *,
    upsert: Sequence[Article] = (),
    remove: Iterable[str] = (),
    prune_sources: Sequence[Path] = (),
    spare: Sequence[Path] = (),
    rebuild: bool = False,
    progress: bool = False,
) -> IndexReport:
    """Upsert articles, remove doc ids, and drop documents that vanished from ``prune_sources`` (``plan_changes``).

    Only new or changed documents are chunked and embedded; everything else keeps its vectors, unless the index
    holds the other kind of chunk vectors (``chunk_vectors``): then every document is re-embedded from its stored
    text, so no document is lost to a setting change. The result is published atomically; a crash leaves the
    previous index live.
    """
    index_dir = settings.index.index_dir
    tokens = isinstance(embedder, TokenEmbedder)
    wanted = expected_manifest(settings, embedder.model_id, embedder.weights_sha256, embedder.dimension, tokens)
    with write_lock(index_dir):
        collect_garbage(index_dir)  # what a killed writer left behind
        if rebuild:
            contents, convert = IndexContents(sentence_tokens={} if tokens else None), False
        else:
            contents, convert = _open(index_dir, wanted, tokens)
        plan = plan_changes(contents.documents, upsert=upsert, remove=remove, prune_sources=prune_sources,
                            spare=spare, convert=convert)
        contents.drop(plan.doomed)
        report = plan.report
        report.embedded_chunks = len(add_articles(contents, plan.todo, settings, embedder, progress))
        report.total_chunks = len(contents.chunks)
        if not report.changed and not rebuild and (index_dir / "CURRENT").exists():
            return report
        report.generation = contents.publish(index_dir, wanted, embedder.dimension).name
        if rebuild:  # the index was discarded, maybe for being damaged: keep nothing of it
            collect_garbage(index_dir, keep={report.generation}, newest=0)
        return report


def _open(index_dir: Path, wanted: Manifest, tokens: bool) -> tuple[IndexContents, bool]:
    """The live generation's contents (empty when there is none), and whether this write converts them."""
    try:
        found = read_manifest(index_dir)
    except IndexNotFound:
        return IndexContents(sentence_tokens={} if tokens else None), False
    check_compatible(found, wanted)
    convert = converts(found, wanted)
    if convert:
        log.warning("the index holds %s chunk vectors and the settings want %s: this write re-embeds every "
                    "document (RAG_CHUNK_VECTORS)", found.chunk_vectors, wanted.chunk_vectors)
    return IndexContents.of(load_snapshot(index_dir), tokens), convert

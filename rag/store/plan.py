"""What a write changes: which documents are added, updated, converted, removed or left as they are."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, cast

from rag.errors import DocumentNotFound, DuplicateDocument
from rag.store.contents import article_of
from rag.store.docstore import DocRecord
from rag.types import Article


@dataclass
class IndexReport:
    """What an indexing run did."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    converted: list[str] = field(default_factory=list)  # unchanged, re-embedded for another kind of chunk vectors
    embedded_chunks: int = 0
    total_chunks: int = 0
    generation: str = ""

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed or self.converted)

    def summary(self) -> str:
        converted = (f" (re-embedded {len(self.converted)} of them for the chunk_vectors setting)" if self.converted
                     else "")
        return (
            f"added {len(self.added)}, updated {len(self.updated)}, removed {len(self.removed)}, "
            f"unchanged {len(self.unchanged) + len(self.converted)}{converted}; {self.embedded_chunks} new chunks "
            f"embedded; index holds {self.total_chunks} chunks"
        )


@dataclass
class Plan:
    """The report so far, the articles to chunk and embed, and the documents to drop first."""

    report: IndexReport
    todo: list[Article]
    doomed: set[str]


class Stored(Protocol):
    """What a plan reads of a stored document."""

    @property
    def sha256(self) -> str: ...

    @property
    def source(self) -> str: ...


def plan_changes(
    documents: Mapping[str, Stored],
    *,
    upsert: Sequence[Article] = (),
    remove: Iterable[str] = (),
    prune_sources: Sequence[Path] = (),
    spare: Sequence[Path] = (),
    convert: bool = False,
    load: Callable[[str], DocRecord] | None = None,
) -> Plan:
    """Decide a write against the stored ``documents``.

    Upserted articles whose content hash is unchanged are left alone (unless ``convert``: then every document is
    re-embedded, from its stored text when it was not upserted). Removed ids must exist. A stored document is
    pruned when its source lies under one of ``prune_sources`` and it was not upserted now, unless its file is in
    ``spare`` (still there, but unreadable this time: it keeps its earlier version). ``documents`` maps ids to
    records with ``sha256`` and ``source`` (``Stored``); ``load`` reads a whole record, to re-embed it (default:
    ``documents[doc_id]``).
    """
    report = IndexReport()
    doomed = set(remove)
    missing = [d for d in doomed if d not in documents]
    if missing:
        raise DocumentNotFound(f"no document with id {missing[0]!r} in the index")
    incoming = {a.doc_id: a for a in upsert}
    roots = [p.resolve() for p in prune_sources]
    spared = {p.resolve() for p in spare}
    for doc_id, rec in documents.items() if roots else ():
        if (doc_id not in incoming and rec.source and _under(Path(rec.source), roots)
                and Path(rec.source).resolve() not in spared):
            doomed.add(doc_id)
    todo: list[Article] = []
    for doc_id, art in incoming.items():
        old = documents.get(doc_id)
        if old is not None and _other_file(old.source, art.source):
            raise DuplicateDocument(
                f"document id {doc_id!r} of {art.source} is already taken by {old.source}: the id is the path "
                f"inside the folder indexed, so rename one of them or index the other folder into its own "
                f"--index-dir")
        same = old is not None and old.sha256 == art.sha256
        if same and not convert:
            report.unchanged.append(doc_id)
            continue
        if same:
            report.converted.append(doc_id)
            doomed.add(doc_id)
        elif old is None:
            report.added.append(doc_id)
        else:
            report.updated.append(doc_id)
            doomed.add(doc_id)
        todo.append(art)
    if convert:  # documents kept as they are still need the new kind of vectors: re-read from the store
        for doc_id, rec in sorted(documents.items()):
            if doc_id not in incoming and doc_id not in doomed:
                report.converted.append(doc_id)
                doomed.add(doc_id)
                todo.append(article_of(load(doc_id) if load is not None else cast(DocRecord, rec)))
    converting = set(report.converted)
    report.removed.extend(d for d in sorted(doomed) if d not in incoming and d not in converting)
    listed = set(report.unchanged)
    report.unchanged.extend(d for d in documents if d not in doomed and d not in incoming and d not in listed)
    return Plan(report, todo, doomed)


def _other_file(old: str, new: str) -> bool:
    """Whether two sources are two different files that both exist (not one file moved, renamed or re-read)."""
    if not old or not new:
        return False
    a, b = Path(old), Path(new)
    try:
        return a.is_file() and b.is_file() and not a.samefile(b)
    except OSError:
        return False


def _under(path: Path, roots: Sequence[Path]) -> bool:
    path = path.resolve()
    return any(path == r or r in path.parents for r in roots)

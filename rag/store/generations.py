"""The index on disk: immutable segments, and generations that list them, published atomically.

Layout::

    index/
      CURRENT                 name of the live generation (replaced atomically)
      generations/<name>/     manifest.json: the settings the index was built with, its documents, and its
                              segments, each with the documents deleted from it since it was written
      segments/<name>/        the rows one write added (``rag.store.segments``), never changed once written
      .lock                   held while writing

A write adds one segment holding its new or changed documents and tombstones the documents it replaces or removes,
so it costs the documents written, not the index. The new segment and the new manifest are written under temporary
names, fsynced, renamed into place, and only then published by replacing ``CURRENT``. A crash at any point leaves
the previous generation live; segments no kept generation lists are removed later.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.errors import IndexCorrupt, IndexNotFound
from rag.store.faults import crash_point
from rag.store.manifest import FORMAT_VERSION, Manifest

if TYPE_CHECKING:
    import numpy as np

    from rag.store.contents import IndexContents
    from rag.store.segments import DenseLayout
    from rag.store.snapshot import Snapshot

_MANIFEST = "manifest.json"


def current_generation(index_dir: Path) -> Path | None:
    """The live generation's folder, or None when no index was published."""
    pointer = index_dir / "CURRENT"
    if not pointer.is_file():
        return None
    name = pointer.read_text().strip()
    path = index_dir / "generations" / name
    return path if path.is_dir() else None


def read_manifest(index_dir: Path) -> Manifest:
    """The live manifest; raises ``IndexNotFound`` when there is none."""
    gen = current_generation(index_dir)
    if gen is None:
        where = "" if index_dir == Path("index") else f" --index-dir {index_dir}"
        raise IndexNotFound(f"no index in {index_dir}: build one with `rag index seeds/{where}`")
    try:
        return Manifest.from_json((gen / _MANIFEST).read_text())
    except (OSError, ValueError, TypeError) as e:
        raise IndexCorrupt(f"unreadable manifest in {gen}: {e}; rebuild with `rag index --rebuild`") from e


def load_snapshot(index_dir: Path) -> Snapshot:
    """Open the live generation: its segments memory-mapped, nothing copied (later swaps never affect it)."""
    manifest = read_manifest(index_dir)
    gen = current_generation(index_dir)
    assert gen is not None
    return open_generation(index_dir, gen, manifest)


def open_generation(index_dir: Path, gen: Path, manifest: Manifest | None = None) -> Snapshot:
    """Open a published generation by its folder (the live one: ``load_snapshot``)."""
    import sqlite3

    from rag.store.segments import open_segment
    from rag.store.snapshot import Snapshot

    if manifest is None:
        try:
            manifest = Manifest.from_json((gen / _MANIFEST).read_text())
        except (OSError, ValueError, TypeError) as e:
            raise IndexCorrupt(f"unreadable manifest in {gen}: {e}; rebuild with `rag index --rebuild`") from e
    if manifest.format_version != FORMAT_VERSION:
        raise IndexCorrupt(f"the index in {index_dir} has an older format ({manifest.format_version}); rebuild it "
                           "with `rag index --rebuild`")
    try:
        segments = [open_segment(index_dir / "segments" / s["name"]) for s in manifest.segments]
        snap = Snapshot(manifest, gen, segments, [set(s.get("deleted", ())) for s in manifest.segments])
    except (RuntimeError, sqlite3.Error, OSError, ValueError, KeyError, IndexError) as e:
        raise IndexCorrupt(f"unreadable index in {gen}: {e}; rebuild with `rag index --rebuild`") from e
    if (snap.chunk_rows.live != manifest.chunks
            or any(seg.meta["token_vectors"] != manifest.token_vectors for seg in segments)):
        raise IndexCorrupt(f"index in {gen} is inconsistent ({snap.chunk_rows.live} chunks, manifest "
                           f"{manifest.chunks}); rebuild with `rag index --rebuild`")
    return snap


def all_vectors(index: Any) -> dict[int, np.ndarray]:
    """Every live chunk vector keyed by its chunk id (``index``: a snapshot's ``vectors``)."""
    return dict(index.items())


@contextlib.contextmanager
def write_lock(index_dir: Path) -> Iterator[None]:
    """Serialise writers across processes (readers never wait)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".lock", "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def new_name() -> str:
    return f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"


def publish(index_dir: Path, manifest: Manifest, new: IndexContents | None, layout: DenseLayout,
            position: int | None = None) -> Path:
    """Write ``new`` (if any) as a segment inserted into ``manifest.segments`` at ``position`` (default: last) and
    the manifest as a new generation, then make it live atomically; call under ``write_lock``."""
    from rag.store.segments import write_segment

    gens, segs = index_dir / "generations", index_dir / "segments"
    gens.mkdir(parents=True, exist_ok=True)
    segs.mkdir(parents=True, exist_ok=True)
    name = new_name()
    tmp = gens / f".tmp-{name}"
    tmp.mkdir()
    seg_tmp = None
    if new is not None and new.documents:
        seg_tmp = segs / f".tmp-{name}"
        seg_tmp.mkdir()
        meta = write_segment(seg_tmp, new, manifest.dimension, manifest.title_header, layout,
                             on_docstore=lambda: crash_point("chunks-written"))
        entry = {"name": name, "chunks": meta["chunks"], "sentences": meta["sentences"], "dense": meta["dense"],
                 "deleted": []}
        at = len(manifest.segments) if position is None else position
        manifest.segments = [*manifest.segments[:at], entry, *manifest.segments[at:]]
        for f in seg_tmp.iterdir():
            _fsync(f)
    else:
        crash_point("chunks-written")
    manifest.segments = [s for s in manifest.segments if len(s["deleted"]) < _documents_in(index_dir, s, seg_tmp)]
    manifest.generation = name
    manifest.created_at = time.time()
    (tmp / _MANIFEST).write_text(manifest.to_json())
    _fsync(tmp / _MANIFEST)
    crash_point("vectors-written")
    final = gens / name
    crash_point("before-rename")
    if seg_tmp is not None:
        os.replace(seg_tmp, segs / name)
        _fsync(segs)
    os.replace(tmp, final)
    _fsync(gens)
    crash_point("after-rename")
    pointer_tmp = index_dir / f".CURRENT.{name}"
    pointer_tmp.write_text(name + "\n")
    _fsync(pointer_tmp)
    crash_point("before-current")
    os.replace(pointer_tmp, index_dir / "CURRENT")
    _fsync(index_dir)
    crash_point("after-current")
    collect_garbage(index_dir, keep={name})
    return final


def _documents_in(index_dir: Path, seg: dict[str, Any], fresh: Path | None) -> int:
    """How many documents a listed segment holds (a segment whose every document is deleted is dropped)."""
    folder = fresh if fresh is not None and seg["name"] == fresh.name.removeprefix(".tmp-") else None
    folder = folder or index_dir / "segments" / seg["name"]
    return int(json.loads((folder / "segment.json").read_text())["documents"])


def collect_garbage(index_dir: Path, keep: set[str] | None = None) -> None:
    """Drop unfinished writes, all but the newest two generations, and the segments no kept generation lists.

    Readers keep what they opened: a removed segment's mapped files and open database stay readable to them.
    """
    gens, segs = index_dir / "generations", index_dir / "segments"
    if not gens.is_dir():
        return
    live = current_generation(index_dir)
    keep = (keep or set()) | ({live.name} if live else set())
    for folder in (gens, segs):
        for stale in folder.glob(".tmp-*") if folder.is_dir() else ():
            shutil.rmtree(stale, ignore_errors=True)
    for stale in index_dir.glob(".CURRENT.*"):
        stale.unlink(missing_ok=True)
    done = sorted((p for p in gens.iterdir() if not p.name.startswith(".")), key=lambda p: p.name)
    for old in done[:-2]:
        if old.name not in keep:
            shutil.rmtree(old, ignore_errors=True)
    if not segs.is_dir():
        return
    listed: set[str] = set()
    for g in gens.iterdir():
        if g.name.startswith("."):
            continue
        try:
            listed.update(s["name"] for s in json.loads((g / _MANIFEST).read_text()).get("segments", ()))
        except (OSError, ValueError):
            return  # an unreadable generation: remove nothing it might list
    for seg in segs.iterdir():
        if not seg.name.startswith(".") and seg.name not in listed:
            shutil.rmtree(seg, ignore_errors=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

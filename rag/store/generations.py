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

from rag.errors import IndexCorrupt, IndexMismatch, IndexNotFound
from rag.store.faults import crash_point
from rag.store.manifest import FORMAT_VERSION, Manifest

if TYPE_CHECKING:
    import numpy as np

    from rag.store.contents import IndexContents
    from rag.store.segment_writing import DenseLayout
    from rag.store.snapshot import Snapshot

_MANIFEST = "manifest.json"


def current_name(index_dir: Path) -> str | None:
    """The generation name ``CURRENT`` holds (not checked), or None when no index was published."""
    try:
        return (index_dir / "CURRENT").read_text(encoding="utf-8", errors="replace").strip()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None


def current_generation(index_dir: Path) -> Path | None:
    """The live generation's folder, or None when no index was published (or ``CURRENT`` names no generation)."""
    name = current_name(index_dir)
    if not name or not _is_generation_name(name):
        return None
    path = index_dir / "generations" / name
    return path if path.is_dir() else None


def _is_generation_name(name: str) -> bool:
    return not name.startswith(".") and "/" not in name and "\\" not in name and name.isprintable()


def rebuild_hint(index_dir: Path) -> str:
    """How to replace a damaged index (the folders it was built from are the user's to name)."""
    where = "" if index_dir == Path("index") else f" --index-dir {index_dir}"
    return f"rebuild it with `rag index --rebuild <your folders>{where}`"


def _damaged(index_dir: Path, what: str) -> IndexCorrupt:
    """The one-line error for a damaged index: what is wrong, and the fix."""
    return IndexCorrupt(" ".join(f"the index in {index_dir} is damaged: {what}; {rebuild_hint(index_dir)}".split()))


def live_generation(index_dir: Path) -> Path:
    """The live generation's folder; raises ``IndexNotFound`` when none was published and ``IndexCorrupt`` when
    ``CURRENT`` names a generation that is not there."""
    name = current_name(index_dir)
    if name is None:
        where = "" if index_dir == Path("index") else f" --index-dir {index_dir}"
        raise IndexNotFound(f"no index in {index_dir}: build one with `rag index seeds/{where}`")
    gen = current_generation(index_dir)
    if gen is None:
        shown = name[:80] + ("..." if len(name) > 80 else "")
        raise _damaged(index_dir, f"CURRENT names generation {shown!r}, which is not in generations/")
    return gen


def read_manifest(index_dir: Path) -> Manifest:
    """The live manifest; raises ``IndexNotFound`` when there is none, ``IndexCorrupt`` when it is unreadable."""
    from pydantic import ValidationError

    gen = live_generation(index_dir)
    path = gen / _MANIFEST
    try:
        return Manifest.from_json(path.read_bytes())
    except FileNotFoundError:
        raise _damaged(index_dir, f"generations/{gen.name} has no {_MANIFEST}") from None
    except OSError as e:
        raise _damaged(index_dir, f"generations/{gen.name}/{_MANIFEST} cannot be read ({e.strerror or e})") from None
    except ValidationError as e:
        first = e.errors()[0]
        field = ".".join(str(x) for x in first["loc"]) or "the file"
        raise _damaged(index_dir, f"generations/{gen.name}/{_MANIFEST} is garbled ({field}: {first['msg']})"
                       ) from None


def load_snapshot(index_dir: Path) -> Snapshot:
    """Open the live generation: its segments memory-mapped, nothing copied (later swaps never affect it); raises
    ``IndexCorrupt`` naming the file that is missing, unreadable or inconsistent with the others."""
    manifest = read_manifest(index_dir)
    return open_generation(index_dir, live_generation(index_dir), manifest)


def open_generation(index_dir: Path, gen: Path, manifest: Manifest | None = None) -> Snapshot:
    """Open a published generation by its folder (the live one: ``load_snapshot``)."""
    from pydantic import ValidationError

    from rag.errors import DamagedFile
    from rag.store.segments import open_segment
    from rag.store.snapshot import Snapshot

    if manifest is None:
        try:
            manifest = Manifest.from_json((gen / _MANIFEST).read_bytes())
        except (OSError, ValidationError) as e:
            raise _damaged(index_dir, f"generations/{gen.name}/{_MANIFEST} cannot be read ({_reason(e)})") from None
    if manifest.format_version != FORMAT_VERSION:
        raise IndexMismatch(f"the index in {index_dir} has another format ({manifest.format_version}, this version "
                            f"reads {FORMAT_VERSION}); {rebuild_hint(index_dir)}")
    segments = []
    for entry in manifest.segments:
        name = entry.get("name")
        if not isinstance(name, str) or not _is_generation_name(name):
            raise _damaged(index_dir, f"generations/{gen.name}/{_MANIFEST} lists a segment named {name!r}")
        folder = index_dir / "segments" / name
        if not folder.is_dir():
            raise _damaged(index_dir, f"segments/{name} is missing (generations/{gen.name}/{_MANIFEST} lists it)")
        try:
            segments.append(open_segment(folder))
        except DamagedFile as e:
            what = (f"/{e.file} is missing" if e.missing else f"/{e.file} cannot be read ({e.reason})" if e.file
                    else f" is inconsistent ({e.reason})")
            raise _damaged(index_dir, f"segments/{name}{what}") from None
    try:
        snap = Snapshot(manifest, gen, segments, [set(s.get("deleted", ())) for s in manifest.segments])
    except (TypeError, ValueError, KeyError, IndexError) as e:
        raise _damaged(index_dir, f"generations/{gen.name}/{_MANIFEST} does not fit its segments ({_reason(e)})"
                       ) from None
    problem = _inconsistency(manifest, snap)
    if problem:
        raise _damaged(index_dir, f"generations/{gen.name} is inconsistent ({problem})")
    return snap


def _reason(e: BaseException) -> str:
    """An exception's message on one short line (FAISS prefixes its reason with the C++ source location)."""
    return " ".join(str(e).rsplit("Error: ", 1)[-1].split())[:160] or type(e).__name__


def _inconsistency(manifest: Manifest, snap: Snapshot) -> str:
    """What does not fit between a generation's manifest and its segments, or ``""``."""
    if snap.chunk_rows.live != manifest.chunks:
        return f"the manifest counts {manifest.chunks} chunks, its segments hold {snap.chunk_rows.live}"
    for seg, entry in zip(snap.segments, manifest.segments, strict=True):
        if seg.meta["dimension"] != manifest.dimension:
            return f"segment {seg.name} holds {seg.meta['dimension']}-dimensional vectors, not {manifest.dimension}"
        if seg.meta["token_vectors"] != manifest.token_vectors:
            return f"the manifest says token_vectors={manifest.token_vectors}, segment {seg.name} says otherwise"
        if entry.get("chunks") != seg.meta["chunks"]:
            return (f"the manifest counts {entry.get('chunks')} chunks in segment {seg.name}, it holds "
                    f"{seg.meta['chunks']}")
    if len(snap.documents) != len(manifest.documents):
        return f"the manifest lists {len(manifest.documents)} documents, its segments hold {len(snap.documents)}"
    return ""


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
    from rag.store.segment_writing import write_segment

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


def collect_garbage(index_dir: Path, keep: set[str] | None = None, newest: int = 2) -> None:
    """Drop unfinished writes, all but the ``newest`` generations and ``keep``, and the segments no kept generation
    lists; call under ``write_lock``.

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
    if live is not None:
        # Written after the live one yet not live: renamed into place by a writer killed before it replaced CURRENT
        # (writers hold the lock, so no write is under way), hence never published.
        born = live.stat().st_mtime_ns
        for unpublished in [p for p in done if p.name not in keep and p.stat().st_mtime_ns > born]:
            shutil.rmtree(unpublished, ignore_errors=True)
            done.remove(unpublished)
    for old in done[:-newest] if newest else done:
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

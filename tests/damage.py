"""Ways an index folder gets damaged or replaced by a wrong one: each takes the index folder and one of its generations
and changes a file of that generation, of its first segment, or ``CURRENT``, in place; ``publish_copy`` publishes a
damaged copy of the live generation (its segments copied too), as a writer would."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

Damage = Callable[[Path, Path], None]  # (index folder, generation folder)


def live(index: Path) -> Path:
    """The generation folder ``CURRENT`` names."""
    return index / "generations" / (index / "CURRENT").read_text().strip()


def segment_of(gen: Path, k: int = 0) -> Path:
    """The folder of a generation's ``k``-th segment."""
    names = [s["name"] for s in json.loads((gen / "manifest.json").read_text())["segments"]]
    return gen.parent.parent / "segments" / names[k]


def file_of(gen: Path, name: str) -> Path:
    """``name`` in the generation's folder, else in its first segment's."""
    return gen / name if name == "manifest.json" else segment_of(gen) / name


def truncate(name: str, keep: float = 0.5) -> Damage:
    """Cut ``name`` to a fraction of its size (0: an empty file), as a full disk or a killed copy leaves it."""

    def damage(index: Path, gen: Path) -> None:
        path = file_of(gen, name)
        data = path.read_bytes()
        path.write_bytes(data[: int(len(data) * keep)])

    return damage


def remove(name: str) -> Damage:
    def damage(index: Path, gen: Path) -> None:
        file_of(gen, name).unlink()

    return damage


def scribble(name: str, start: float = 0.0, length: int = 4096) -> Damage:
    """Overwrite ``length`` bytes of ``name`` from a fraction of its size on with noise (a bad disk, a stray write)."""

    def damage(index: Path, gen: Path) -> None:
        path = file_of(gen, name)
        data = bytearray(path.read_bytes())
        at = int(len(data) * start)
        end = min(len(data), at + length)
        data[at:end] = bytes((i * 151 + 7) % 256 for i in range(end - at))
        path.write_bytes(bytes(data))

    return damage


def manifest_text(text: str) -> Damage:
    def damage(index: Path, gen: Path) -> None:
        (gen / "manifest.json").write_text(text)

    return damage


def manifest_fields(**fields: object) -> Damage:
    """Change manifest fields (a wrong type, or the manifest of an index built for another model)."""

    def damage(index: Path, gen: Path) -> None:
        path = gen / "manifest.json"
        path.write_text(json.dumps({**json.loads(path.read_text()), **fields}))

    return damage


def current_names(name: str) -> Damage:
    def damage(index: Path, gen: Path) -> None:
        (index / "CURRENT").write_text(name)

    return damage


#: Damage that makes an index unusable, by name: ``rag`` must say which file and how to fix it.
DAMAGED: dict[str, Damage] = {
    "chunk_vectors.npy truncated": truncate("chunk_vectors.npy"),
    "chunk_vectors.npy header garbled": scribble("chunk_vectors.npy", 0.0, 64),
    "segment.json not JSON": truncate("segment.json"),
    "chunk_vocab.json garbled": scribble("chunk_vocab.json", 0.0, 64),
    "docstore.sqlite garbled": scribble("docstore.sqlite", 0.5),
    "docstore.sqlite header garbled": scribble("docstore.sqlite", 0.0, 100),
    "manifest.json missing": remove("manifest.json"),
    "manifest.json not JSON": truncate("manifest.json"),
    "manifest.json wrong types": manifest_fields(dimension="384", documents=[]),
    "manifest.json segment missing": manifest_fields(segments=[{"name": "20990101T000000-00000000", "chunks": 1,
                                                                "sentences": 1, "dense": "flat", "deleted": []}]),
    "manifest.json a list": manifest_text("[1, 2, 3]"),
    "CURRENT names no generation": current_names("20990101T000000-00000000\n"),
    "CURRENT empty": current_names(""),
    "CURRENT names a folder outside": current_names("../../.."),
    "sentence_vectors.npy truncated": truncate("sentence_vectors.npy"),
    "sentence_tokens.npy truncated": truncate("sentence_tokens.npy"),
    "sentence_token_offsets.npy truncated": truncate("sentence_token_offsets.npy", 0.8),
}
#: The index of another model: whole and consistent, but not what the settings want.
OTHER_MODEL: Damage = manifest_fields(model_id="other/model-768", weights_sha256="f" * 64)


def every_file_damage(index: Path) -> dict[str, Damage]:
    """Each file of the live generation and of its first segment missing, emptied and cut in half."""
    out: dict[str, Damage] = {}
    gen = live(index)
    for path in sorted([*gen.iterdir(), *segment_of(gen).iterdir()]):
        out[f"{path.name} missing"] = remove(path.name)
        out[f"{path.name} empty"] = truncate(path.name, 0.0)
        out[f"{path.name} halved"] = truncate(path.name, 0.5)
    return out


def damage_live(index: Path, damage: Damage) -> None:
    """Damage the live generation in place."""
    damage(index, live(index))


def publish_copy(index: Path, name: str, damage: Damage | None = None) -> Path:
    """Copy the live generation to ``generations/<name>`` and its segments to new segments, damage the copy, and make
    it live (as a writer publishes); a damage to ``CURRENT`` is published instead."""
    src = live(index)
    dst = index / "generations" / name
    shutil.copytree(src, dst)
    manifest = json.loads((dst / "manifest.json").read_text())
    segments = []
    for k, seg in enumerate(manifest["segments"]):
        copy = f"{name}-{k}"
        shutil.copytree(index / "segments" / seg["name"], index / "segments" / copy)
        segments.append({**seg, "name": copy})
    (dst / "manifest.json").write_text(json.dumps({**manifest, "generation": name, "segments": segments}))
    pointer = (index / "CURRENT").read_text()
    if damage is not None:
        damage(index, dst)
    if (index / "CURRENT").read_text() == pointer:
        tmp = index / f".CURRENT.{name}"
        tmp.write_text(name + "\n")
        os.replace(tmp, index / "CURRENT")
    return dst

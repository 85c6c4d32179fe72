"""Reading a text file's bytes and decoding them, as every loader does."""

from __future__ import annotations

import codecs
from pathlib import Path

from rag.errors import UnsupportedDocument


def read_bytes(path: Path) -> bytes:
    """The file's bytes; an unreadable file is an ``UnsupportedDocument`` naming why."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UnsupportedDocument(f"{path}: cannot read ({exc.strerror or exc})") from exc


def decode(data: bytes, name: str) -> str:
    """UTF-8 text, or UTF-32 / UTF-16 / UTF-8 with a byte-order mark (as Windows editors save it), normalised."""
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):  # before UTF-16: its mark starts the same
        encoding, label = "utf-32", "UTF-32"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding, label = "utf-16", "UTF-16"
    else:
        encoding, label = "utf-8-sig", "UTF-8"
    try:
        return normalise(data.decode(encoding))
    except UnicodeDecodeError as exc:
        raise UnsupportedDocument(f"{name}: not {label} text (invalid byte at offset {exc.start})") from exc


def normalise(text: str) -> str:
    """Drop a leading BOM and turn CRLF / CR newlines into LF."""
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.replace("\r\n", "\n").replace("\r", "\n")
